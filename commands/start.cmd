# start: start a resource.
# Patterns per locale live in commands/LOCALE/start.cmd.
intent start
risk   mutating
help   help.start
slot   target resource
