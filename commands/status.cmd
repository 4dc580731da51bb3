# status: how one resource is doing, or an overview of all of them when none is named.
intent status
risk   read-only
help   help.status
slot   target resource

en: status [of] [{target}]
en: (show|check) [the] status [of] [{target}]
en: how is {target} [doing]
en: (show|list) [all] [the] (instances|servers|resources)
