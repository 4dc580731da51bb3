# unsnooze: end a snooze or a maintenance before its time.
# Patterns per locale live in commands/LOCALE/unsnooze.cmd.
intent unsnooze
risk   read-only
help   help.unsnooze
slot   target resource
slot   alarm text
slot   env environment
