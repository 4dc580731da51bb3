intent reject
de: (ablehnen|verweigern|verweigere|zurückweisen) [(anfrage|plan|antrag)] [{request}]
de: (lehne|lehn) [(anfrage|plan|antrag)] [{request}] ab
de: [(anfrage|plan|antrag)] [{request}] (ablehnen|verweigern|zurückweisen)
de: ich lehne [(anfrage|plan|antrag)] [{request}] ab
de: reject [{request}]
