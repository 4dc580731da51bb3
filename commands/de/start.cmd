intent start
de: (starte|start) [(instanz|server|dienst|service)] {target} [wieder]
de: {target} [wieder] (starten|hochfahren|einschalten|anschalten)
de: (fahre|fahr) [(instanz|server|dienst|service)] {target} [wieder] hoch
de: (schalte|schalt) [(instanz|server|dienst|service)] {target} [wieder] (ein|an)
de: (mach|mache) {target} [wieder] an
