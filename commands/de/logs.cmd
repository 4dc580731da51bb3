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
de: (fehler|errors|fehler-logs|error-logs|fehlerlogs) (von|bei|in|aus|vom) {target} [{since}] {filter=error}
de: (zeige|zeig|hole|hol) (fehler|errors|fehler-logs|error-logs|fehlerlogs) (von|bei|in|aus|vom) {target} [{since}] {filter=error}
de: was hat {target} [{since}] (geloggt|protokolliert)
de: (tail|tailen) {target}
de: {target} tailen
