intent stop
en: (stop|halt|shutdown|poweroff|turnoff) [(instance|server|service|box|host|node)] {target}
en: (shut|power|turn) {target} (down|off)
en: mind (stopping|halting) {target}
