# whoami: who ConvOps thinks you are.
# Patterns per locale live in commands/LOCALE/whoami.cmd.
intent whoami
risk   read-only
help   help.whoami
