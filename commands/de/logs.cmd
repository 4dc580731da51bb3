intent logs
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} [{since}]
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} {since} (mit|filter|gefiltert|nach) [(filter|nach)] {filter}
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} (mit|filter|gefiltert|nach) [(filter|nach)] {filter} [{since}]
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} {since} {filter} (enthalten|enthält)
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} {filter} (enthalten|enthält)
de: (zeige|zeig|hole|hol) [(logs|log|protokoll|protokolle)] [(von|für|vom|zu)] {target} [(logs|log)] [{since}]
de: (zeige|zeig|hole|hol) [(logs|log|protokoll|protokolle)] [(von|für|vom|zu)] {target} [(logs|log)] {since} (mit|filter|gefiltert|nach) [(filter|nach)] {filter}
de: (zeige|zeig|hole|hol) [(logs|log|protokoll|protokolle)] [(von|für|vom|zu)] {target} [(logs|log)] (mit|filter|gefiltert|nach) [(filter|nach)] {filter} [{since}]
de: (zeige|zeig|hole|hol) [(logs|log|protokoll|protokolle)] [(von|für|vom|zu)] {target} {since} {filter} (enthalten|enthält)
de: (zeige|zeig|hole|hol) [(logs|log|protokoll|protokolle)] [(von|für|vom|zu)] {target} {filter} (enthalten|enthält)
de: {target} (logs|log) [{since}]
de: (logs|log|protokoll|protokolle) [(von|für|vom|zu)] {target} [{since}] (zeigen|anzeigen|holen|ausgeben|sehen)
de: (fehler|errors) (von|bei|in|aus) {target} [{since}] {filter=error}
