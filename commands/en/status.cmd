intent status
en: status [(of|for|on)] [{target}]
en: (show|check|get|display|give) status [(of|for|on)] [{target}]
en: (show|check|get|display) {target} status
en: {target} status
en: check [on] {target}
en: (how|how's|hows) (is|are) {target} [(doing|looking)]
en: (how's|hows) {target} [(doing|looking)]
en: (what|what's|whats) [is] status [(of|for|on)] [{target}]
en: (what's|whats) (up|going) with {target}
en: is {target} [(up|running|ok|okay|healthy|alive|down)]
en: (how|how's|hows) (is|are) (everything|things|stuff) [(doing|looking|going)]
en: (how's|hows) (everything|things|stuff) [(doing|looking|going)]
en: [(give|show|get)] (overview|health|summary)
en: (list|show|get) [all] (instances|servers|resources|machines|hosts)
en: (what's|whats) (wrong|broken) with {target}
en: health [check] (of|for|on) {target}
en: check {target} is (up|running|ok|okay|healthy|alive|down)
en: [(is|are)] (anything|something|stuff) (broken|down|wrong|unhealthy)
