intent cancel
en: [(nvm|nevermind)] cancel [(it|that|this|my|last)] [pending] [(request|plan|one)]
en: (abort|nevermind|nvm)
en: forget (it|that)
en: scratch that
