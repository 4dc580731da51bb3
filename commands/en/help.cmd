intent help
en: help [{topic}]
en: (commands|usage|manual)
en: how to use [(this|it)]
en: how (does|do) (this|it) work
en: what (do|know|understand|commands)
en: help (with|on|for|about) {topic}
