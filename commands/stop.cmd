# stop: stop a resource.
# Patterns per locale live in commands/LOCALE/stop.cmd.
intent stop
risk   mutating
help   help.stop
slot   target resource
