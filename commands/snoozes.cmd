# snoozes: what is snoozed, until when, and how much it held back.
# Patterns per locale live in commands/LOCALE/snoozes.cmd.
intent snoozes
risk   read-only
help   help.snoozes
