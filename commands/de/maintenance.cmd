intent maintenance
de: (wartung|wartungsfenster) [(für|in|im|auf)] {env} [{for}]
de: (wartung|wartungsfenster) [(für|in|im|auf)] {env} bis {until}
de: {env} [ist] [(in|im)] (wartung|wartungsfenster) [{for}]
de: {env} [ist] [(in|im)] (wartung|wartungsfenster) bis {until}
de: alle alarme (in|für|auf) {env} [{for}] (stumm|stummschalten)
de: alle alarme (in|für|auf) {env} bis {until} (stumm|stummschalten)
de: (wartung|wartungsfenster) [{for}]
de: (wartung|wartungsfenster) bis {until}
de: alle alarme [{for}] (stumm|stummschalten)
de: alle alarme bis {until} (stumm|stummschalten)
