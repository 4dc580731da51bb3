intent logs
en: (logs|log) [(for|of|from)] {target} [{since}]
en: (logs|log) [(for|of|from)] {target} {since} (matching|filter|filtered|containing|grep|with|for) {filter}
en: (logs|log) [(for|of|from)] {target} (matching|filter|filtered|containing|grep|with) {filter} [{since}]
en: (show|get|tail|fetch|display|pull|grep) [(logs|log)] [(for|of|from)] {target} [(logs|log)] [{since}]
en: (show|get|tail|fetch|display|pull) [(logs|log)] [(for|of|from)] {target} [(logs|log)] {since} (matching|filter|filtered|containing|grep|with|for) {filter}
en: (show|get|tail|fetch|display|pull) [(logs|log)] [(for|of|from)] {target} [(logs|log)] (matching|filter|filtered|containing|grep|with) {filter} [{since}]
en: {target} (logs|log) [{since}]
en: grep {target} [(logs|log)] for {filter} [{since}]
en: [i] (see|view|read) [(logs|log)] [(for|of|from)] {target} [(logs|log)] [{since}]
en: [any] (errors|error) [(logs|log)] (from|of|for|in|on) {target} [{since}] {filter=error}
en: what (did|has) {target} (log|logged) [{since}]
en: (show|get|tail|fetch|pull|grab) {since} of (logs|log) (from|for|of) {target}
en: (show|get|pull|fetch|tail|grep) [any] (errors|error) [(logs|log)] (from|of|for|in|on) {target} [{since}] {filter=error}
