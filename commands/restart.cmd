# restart: reboot an EC2 instance (ECS and RDS come with the AWS issue).
intent restart
risk   mutating
help   help.restart
slot   target resource

en: (restart|reboot|bounce) [the] [(instance|server)] {target}
