intent whoami
de: wer bin ich
de: wie (heiße|heisse) ich
de: (was|wie) ist mein (name|benutzer|nutzername|konto)
de: (weißt|weisst) wer ich bin
de: sag wer ich bin
