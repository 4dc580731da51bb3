intent help
en: help [{topic}]
en: (commands|usage|manual)
en: what (do|know|understand|commands)
en: how (does|do) (this|it) work
en: how to use [(this|it)]
