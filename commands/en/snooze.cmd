intent snooze
en: (snooze|mute|silence|quiet) {target} [{for}]
en: (snooze|mute|silence|quiet) {target} (until|till|til) {until}
en: (snooze|mute|silence|quiet) (alerts|alarms|alert) (for|on|from|about) {target} [{for}]
en: (snooze|mute|silence|quiet) (alerts|alarms|alert) (for|on|from|about) {target} (until|till|til) {until}
en: (snooze|mute|silence|quiet) alarm {alarm} (until|till|til) {until}
en: (snooze|mute|silence|quiet) alarm {alarm} [{for}]
