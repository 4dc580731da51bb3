intent start
en: (start|launch|boot|spinup|poweron|turnon) [(instance|server|service|box|host|node)] {target}
en: (start|boot) {target} up
en: (start|boot|bring) up [(instance|server|service|box|host|node)] {target}
en: (spin|bring|power|turn) {target} (up|on)
en: mind starting {target}
