intent restart
de: (starte|start) [(instanz|server|dienst|service)] {target} [wieder] neu
de: (boote|boot|reboote|rebootest) [(instanz|server|dienst|service)] {target} [wieder] neu
de: {target} [wieder] neu (starten|booten)
de: {target} (neustarten|rebooten|restarten|neubooten|durchstarten)
de: (neustart|reboot|restart|restarte) [(von|für|vom)] [(instanz|server|dienst|service)] {target}
de: (starte|boote) {target} (bitte|mal) neu
de: (reboote|rebootest|neustarte|restarte) [(instanz|server|dienst|service)] {target}
de: (mach|mache) [einen] (restart|neustart|reboot) (von|vom|für|bei) {target}
