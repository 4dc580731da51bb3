intent snoozes
de: (stummschaltungen|snoozes)
de: (zeige|zeig|liste) [(die|alle)] (stummschaltungen|snoozes)
de: (was|welche) [alarme] (ist|sind) [gerade] (stumm|stummgeschaltet)
de: ist [gerade] (etwas|was|irgendwas) (stumm|stummgeschaltet)
