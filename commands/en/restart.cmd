intent restart
en: (restart|reboot|bounce|cycle|recycle) [(instance|server|service|box|host|node)] {target}
en: (restart|reboot|bounce) {target} (instance|server|service|box|host|node)
en: give {target} (restart|reboot|kick|bounce)
en: turn {target} off and on [again]
en: mind (restarting|rebooting|bouncing) {target}
