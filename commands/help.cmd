# help: what ConvOps understands, or how to use one command.
intent help
risk   read-only
help   help.help
slot   topic word

en: help [{topic}]
en: what can you do
