# restart: reboot an EC2 instance (ECS and RDS come with the AWS issue).
# Patterns per locale live in commands/LOCALE/restart.cmd.
intent restart
risk   mutating
help   help.restart
slot   target resource
