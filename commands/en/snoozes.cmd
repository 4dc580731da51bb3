intent snoozes
en: snoozes
en: (list|show) [(the|all)] snoozes
en: (what|what's|whats) [is] (snoozed|muted|silenced)
en: (what|which) (alerts|alarms) are (snoozed|muted|silenced)
en: (is|are) (anything|something) (snoozed|muted|silenced)
