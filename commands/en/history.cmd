intent history
en: history [{scope}]
en: {scope} (history|actions|changes)
en: (show|get|list) [{scope}] (history|actions|changes)
en: (history|actions|changes) (for|of|by) {scope}
en: {scope} (recent|last|latest) (actions|changes)
en: (recent|last|latest) (actions|changes) {scope=all}
en: (show|get|list) {scope} (recent|last|latest) (actions|changes)
en: (show|get|list) (recent|last|latest) (actions|changes) {scope=all}
en: what did i do [(today|recently|lately|yesterday)] {scope=mine}
en: what (happened|changed) [(today|recently|lately|yesterday)] {scope=all}
en: who (changed|did) (what|anything|something) [(today|recently|lately|yesterday)] {scope=all}
en: who [(has|did)] {_} [(today|recently|lately|yesterday)]
en: (what's|whats) been (done|changed) [(today|recently|lately)] {scope=all}
en: (show|tell) what i (did|changed) [(today|recently|lately)] {scope=mine}
en: give [(recent|last|latest)] history {scope=all}
