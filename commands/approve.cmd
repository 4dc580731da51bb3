# approve: approve a request waiting for a second person.
# Patterns per locale live in commands/LOCALE/approve.cmd.
intent approve
risk   read-only
help   help.approve
slot   request request-id
