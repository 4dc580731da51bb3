# reject: reject a request waiting for a second person.
# Patterns per locale live in commands/LOCALE/reject.cmd.
intent reject
risk   read-only
help   help.reject
slot   request request-id
