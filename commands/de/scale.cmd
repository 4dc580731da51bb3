intent scale
de: (skaliere|skalier|scale) [(dienst|service|gruppe)] {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (skalieren|setzen|bringen)
de: (setze|setz|bringe|bring) {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: (skaliere|skalier) {target} um {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (hoch|herauf|rauf)
de: (skaliere|skalier) {target} um {delta-} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (herunter|runter|runtern)
de: {target} um {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (hochskalieren|erhöhen|vergrößern|hochfahren)
de: {target} um {delta-} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (herunterskalieren|runterskalieren|reduzieren|verringern|verkleinern)
de: (skaliere|skalier) {target} {delta}
de: (skaliere|skalier) {target} um {delta}
de: (füge|füg) {target} {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] hinzu
de: (füge|füg) {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (zu|bei) {target} hinzu
de: (entferne|entfern) {delta-} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (von|bei|aus) {target}
de: (erhöhe|erhöh) {target} um {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: (reduziere|reduzier|verringere|verringer) {target} um {delta-} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: (skaliere|skalier) {target} (hoch|runter|herunter|herauf|rauf) auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: (skaliere|skalier) {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (hoch|runter|herunter|herauf|rauf)
de: (setze|setz|stelle|stell) [(desired|gewünschte)] (count|anzahl|kapazität|größe) (von|für|bei) {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: {target} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] (hochziehen|runterfahren|hochfahren|reduzieren|erhöhen)
de: (nimm|nehme) {delta-} (instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server) (von|bei) {target} weg
de: {delta+} (instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server) mehr (für|bei|auf) {target}
de: (pack|packe) {delta+} (instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server) (auf|zu) {target} [drauf]
de: {target} um {delta-} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] runter
de: {target} um {delta+} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)] hoch
de: (skaliere|skalier|scale) {target} {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
de: (skaliere|skalier) {target} von {_} auf {count} [(instanzen|instanz|tasks|task|replikas|replicas|knoten|kopien|container|server)]
