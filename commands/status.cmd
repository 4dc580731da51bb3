# status: how one resource is doing, or an overview when none is named.
# Patterns per locale live in commands/LOCALE/status.cmd.
intent status
risk   read-only
help   help.status
slot   target resource
