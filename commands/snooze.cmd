# snooze: hold back new alert posts for one resource or one alarm, for a while or until a time.
# Patterns per locale live in commands/LOCALE/snooze.cmd.
intent snooze
risk   read-only
help   help.snooze
slot   target resource
slot   alarm text
slot   for duration
slot   until time
