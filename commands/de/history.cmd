intent history
de: (verlauf|historie|history|aktionen) [{scope}]
de: {scope} (aktionen|verlauf|historie|änderungen|history)
de: (zeige|zeig|liste) [{scope}] (aktionen|verlauf|historie|änderungen|history)
de: (verlauf|historie|aktionen|änderungen) (von|für) {scope}
de: (letzte|letzten|neueste) (aktionen|änderungen) [{scope=all}]
de: was habe ich [(heute|gestern|zuletzt)] gemacht {scope=mine}
de: was hab ich [(heute|gestern|zuletzt)] gemacht {scope=mine}
de: was ist [(heute|gestern|zuletzt)] passiert {scope=all}
de: wer hat [(heute|gestern|zuletzt)] (was|etwas) (gemacht|geändert) {scope=all}
de: wer hat {_} [neu]
de: (zeige|zeig|zeigen) was ich [(heute|gestern|zuletzt)] gemacht (hab|habe) {scope=mine}
de: was hab ich [(heute|gestern|zuletzt)] so gemacht {scope=mine}
