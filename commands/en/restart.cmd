intent restart
en: (restart|reboot|bounce|cycle|recycle|kick) [(instance|server|service|box|host|node)] {target}
en: (restart|reboot|bounce) {target} (instance|server|service|box|host|node)
en: give {target} (restart|reboot|kick|bounce)
en: turn {target} off on
en: mind (restarting|rebooting|bouncing) {target}
en: (run|trigger) [rolling] restart (of|on|for) {target}
