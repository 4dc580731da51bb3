intent help
de: (hilfe|help) [{topic}]
de: (befehle|kommandos|anleitung)
de: was [alles] [(kann|geht|verstehst)]
de: wie funktioniert (das|es) [hier]
de: (hilfe|help) (zu|für|mit|bei) {topic}
