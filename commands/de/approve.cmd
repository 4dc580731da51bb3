intent approve
de: (genehmige|genehmigen|freigeben|zustimmen|genehmigt) [(anfrage|plan|antrag)] [{request}]
de: (gib|gebe) [(anfrage|plan|antrag)] [{request}] frei
de: [(anfrage|plan|antrag)] [{request}] (genehmigen|freigeben)
de: ich (genehmige|stimme) [(anfrage|plan|antrag)] [{request}] [zu]
de: approve [{request}]
