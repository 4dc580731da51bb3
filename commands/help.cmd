# help: what ConvOps understands, or how to use one command.
# Patterns per locale live in commands/LOCALE/help.cmd.
intent help
risk   read-only
help   help.help
slot   topic word
