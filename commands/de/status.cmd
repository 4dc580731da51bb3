intent status
de: status [(von|für|zu|vom)] [{target}]
de: (zeige|zeig|prüfe|prüf|check) status [(von|für|vom)] [{target}]
de: (zeige|zeig|prüfe|prüf) [(von|für)] {target} status
de: {target} status
de: wie (läuft|geht|steht|sieht) (alles|es) [aus]
de: wie (geht|geht's|gehts|läuft|läufts|läuft's) [es] [(bei|mit)] {target}
de: wie (steht|sieht) es (um|mit|bei) {target} [aus]
de: wie ist status [(von|für|vom)] [{target}]
de: was macht {target}
de: läuft {target} [(noch|wieder)]
de: ist {target} [(online|oben|erreichbar|gesund|ok|okay|da|aus|down)]
de: [(gib|zeige|zeig)] [(einen|eine|ein)] (übersicht|überblick|gesamtübersicht)
de: (zeige|zeig|liste) [alle] (instanzen|server|ressourcen|maschinen|hosts)
de: was ist (los|kaputt) mit {target}
de: was ist mit {target} los
de: (schau|schaue|schauen|guck|gucke|gucken|prüfe|prüf|prüfen|check|checken) {target} (läuft|up|online|oben|ok|okay) [ist]
de: ist (irgendwas|etwas|was) (kaputt|down) [irgendwo]
de: wie (gehts|geht's|läufts|läuft's)
