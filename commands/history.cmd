# history: recent actions, mine or everyone's.
# Patterns per locale live in commands/LOCALE/history.cmd.
intent history
risk   read-only
help   help.history
slot   scope scope
