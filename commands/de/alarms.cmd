intent alarms
de: (alarme|alarm|alarms)
de: (zeige|zeig|liste|prüfe) [{state}] (alarme|alarms)
de: {state} (alarme|alarms)
de: (alarme|alarms) [(im|in)] [(status|zustand)] {state}
de: welche (alarme|alarms) [(sind|gibt es)] [(aktiv|an|offen|gerade)]
de: (gibt|gibt's|gibts) [es] [(gerade|aktuell|irgendwelche)] (alarme|alarms)
de: (brennt|brennt's|brennts) [es] [(was|irgendwas|etwas|gerade)] [irgendwo]
de: (ist|gibt) [es] (irgendwas|etwas|was) rot
de: (was|wo) brennt [(gerade|da)]
de: welche (alarme|alarms) (feuern|brennen|sind an) [gerade]
de: (zeige|zeig|liste) (alarme|alarms) (mit|im|in) [(status|zustand)] {state}
de: [alle] (alarme|alarms) (im|mit|in) {state} [(status|zustand)]
