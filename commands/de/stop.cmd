intent stop
de: (halte|halt) [(instanz|server|dienst|service)] {target} an
de: {target} anhalten
de: (stoppe|stopp|stop) [(instanz|server|dienst|service)] {target}
de: {target} (stoppen|beenden|herunterfahren|runterfahren|abschalten|ausschalten)
de: (fahre|fahr) [(instanz|server|dienst|service)] {target} (herunter|runter)
de: (schalte|schalt) [(instanz|server|dienst|service)] {target} (ab|aus)
de: (beende|beend) [(instanz|server|dienst|service)] {target}
