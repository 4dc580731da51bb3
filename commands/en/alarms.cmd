intent alarms
en: alarms
en: (list|show|check|get) [{state}] alarms
en: {state} alarms
en: alarms [in] [state] {state}
en: (is|are) (anything|something|stuff) onfire
en: (anything|something|what's|whats) onfire
en: (is|are) (anything|something) (alarming|firing|red)
en: (what's|whats) (alarming|firing|broken|red)
en: [(are|is)] [there] any alarms [(firing|gooff)]
en: (which|what) alarms are (firing|active|gooff)
en: (which|what) alarms are [in] {state} [state]
en: alarms (firing|active)
en: (list|show|get) alarms (with|in) [state] {state}
