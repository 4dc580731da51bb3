/// Slack lets a channel take about one message a second: each post to a channel waits until
/// a second after the previous one to that channel finished (so they also arrive a second
/// apart). Returns how long it waited, whole seconds.
actor ChannelPacer {
    private var lastDone: [String: ContinuousClock.Instant] = [:]
    private var next: [String: ContinuousClock.Instant] = [:]
    let interval: Duration

    init(interval: Duration = .seconds(1)) { self.interval = interval }

    func wait(_ channel: String) async -> Int {
        let now = ContinuousClock.now
        // Reserve a turn: after the last one finished, and after every turn already given out.
        let turn = max(now, (lastDone[channel] ?? now - interval) + interval, next[channel] ?? now)
        next[channel] = turn + interval
        if lastDone.count > 10_000 { lastDone = lastDone.filter { now - $0.value < .seconds(60) } }
        if next.count > 10_000 { next = next.filter { $0.value > now } }
        guard turn > now else { return 0 }
        try? await Task.sleep(until: turn, clock: .continuous)
        let waited = turn - now
        return Int(waited.components.seconds)
    }

    func done(_ channel: String) {
        lastDone[channel] = ContinuousClock.now
    }
}
