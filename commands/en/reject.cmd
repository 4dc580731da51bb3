intent reject
en: (reject|deny|decline|veto|refuse) [(request|plan|it|that|this)] [{request}] [{_*}]
en: i reject [(request|plan|it|that|this)] [{request}]
