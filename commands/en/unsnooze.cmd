intent unsnooze
en: (unsnooze|unmute|unsilence) {target}
en: (unsnooze|unmute|unsilence) alarm {alarm}
en: (end|stop|cancel|finish) (snooze|mute) (for|on|of) {target}
en: (end|stop|cancel|finish) maintenance [(in|for|on)] {env}
en: (end|stop|cancel|finish) maintenance
en: resume (alerts|alarms) (for|on|from|about) {target}
