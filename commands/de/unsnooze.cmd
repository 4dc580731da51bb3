intent unsnooze
de: (stummschaltung|snooze) (für|von) {target} (aufheben|beenden)
de: {target} wieder laut
de: alarm {alarm} wieder laut
de: (wartung|wartungsfenster) [(für|in|im|auf)] {env} beenden
de: (wartung|wartungsfenster) beenden
