intent maintenance
en: maintenance [(in|for|on)] {env} [{for}]
en: maintenance [(in|for|on)] {env} (until|till|til) {until}
en: (start|begin|enter) maintenance [(in|for|on)] {env} [{for}]
en: (start|begin|enter) maintenance [(in|for|on)] {env} (until|till|til) {until}
en: {env} (is|goes) (in|into|under) maintenance [{for}]
en: {env} (is|goes) (in|into|under) maintenance (until|till|til) {until}
en: (snooze|mute|silence) [all] (alerts|alarms) (in|for|on) {env} [{for}]
en: (snooze|mute|silence) [all] (alerts|alarms) (in|for|on) {env} (until|till|til) {until}
en: maintenance [{for}]
en: maintenance (until|till|til) {until}
en: (start|begin|enter) maintenance [{for}]
en: (start|begin|enter) maintenance (until|till|til) {until}
en: (snooze|mute|silence) [all] (alerts|alarms) [{for}]
en: (snooze|mute|silence) [all] (alerts|alarms) (until|till|til) {until}
