intent approve
en: [lgtm] (approve|accept|allow|lgtm) [(request|plan|it|that|this)] [{request}] [{_*}]
en: signoff [on] [(request|plan|it|that|this)] [{request}]
en: i approve [(request|plan|it|that|this)] [{request}]
