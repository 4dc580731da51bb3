# maintenance: hold back new alert posts for a whole environment until a time.
# Patterns per locale live in commands/LOCALE/maintenance.cmd.
intent maintenance
risk   read-only
help   help.maintenance
slot   for duration
slot   until time
slot   env environment
