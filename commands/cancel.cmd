# cancel: drop your newest plan that is still waiting.
# Patterns per locale live in commands/LOCALE/cancel.cmd.
intent cancel
risk   read-only
help   help.cancel
