# cancel: drop your newest plan that is still waiting for confirmation or approval.
intent cancel
risk   read-only
help   help.cancel

en: cancel
en: (abort|nevermind)
