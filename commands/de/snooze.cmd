intent snooze
de: {target} [{for}] (stumm|stummschalten|snoozen)
de: {target} bis {until} (stumm|stummschalten|snoozen)
de: (schalte|schalt) {target} [{for}] stumm
de: (schalte|schalt) {target} bis {until} stumm
de: (snooze|snoozen) {target} [{for}]
de: (snooze|snoozen) {target} bis {until}
de: alarme (für|von) {target} [{for}] (stumm|stummschalten)
de: alarme (für|von) {target} bis {until} (stumm|stummschalten)
de: alarm {alarm} bis {until} (stumm|stummschalten|snoozen)
de: alarm {alarm} [{for}] (stumm|stummschalten|snoozen)
de: (schalte|schalt) [den] alarm {alarm} bis {until} stumm
de: (schalte|schalt) [den] alarm {alarm} [{for}] stumm
