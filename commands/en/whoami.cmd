intent whoami
en: whoami
en: who am i
en: who (is|are) (me|i)
en: (what's|whats|what) [is] my (name|user|username|identity|id)
en: (know|remember) who i am
en: who do think i am
en: (tell|show) who i am
en: what user am i [(logged|signed)] [in] [as]
