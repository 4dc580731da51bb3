intent cancel
de: (abbrechen|abbruch|stornieren|storniere|vergiss) [(es|das|anfrage|plan|auftrag)]
de: (brich|breche) [(es|das|meine|mein|meinen)] [(anfrage|plan|auftrag)] ab
de: lass es [sein]
de: [(meine|mein|meinen)] (anfrage|plan|auftrag) (abbrechen|stornieren)
de: vergiss abbrechen
