intent restart
de: (starte|start) [(instanz|server|dienst|service)] {target} [wieder] neu
de: (boote|boot|reboote) [(instanz|server|dienst|service)] {target} [wieder] neu
de: {target} [wieder] neu (starten|booten)
de: {target} (neustarten|rebooten|restarten|neubooten)
de: (neustart|reboot|restart|restarte) [(von|für|vom)] [(instanz|server|dienst|service)] {target}
de: (starte|boote) {target} (bitte|mal) neu
