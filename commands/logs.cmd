# logs: log lines of a resource since a time, optionally filtered.
# Patterns per locale live in commands/LOCALE/logs.cmd.
intent logs
risk   read-only
help   help.logs
slot   target resource
slot   since duration
slot   filter text
