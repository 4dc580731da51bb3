# alarms: list CloudWatch alarms, by default those in ALARM.
# Patterns per locale live in commands/LOCALE/alarms.cmd.
intent alarms
risk   read-only
help   help.alarms
slot   state alarm-state
