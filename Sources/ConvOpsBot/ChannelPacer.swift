/// Slack lets a channel take about one message a second: posts to a channel go one at a time,
/// each a second after the previous one to that channel finished (so they also arrive at Slack
/// a second apart, whatever the network did to the one before). Returns how long it waited,
/// whole seconds.
actor ChannelPacer {
    private var lastDone: [String: ContinuousClock.Instant] = [:]
    private var busy: Set<String> = []
    let interval: Duration

    init(interval: Duration = .seconds(1)) { self.interval = interval }

    func wait(_ channel: String) async -> Int {
        let asked = ContinuousClock.now
        while true {
            // Another post to the channel is out: its end decides when this one may go.
            while busy.contains(channel) { try? await Task.sleep(for: .milliseconds(20)) }
            let now = ContinuousClock.now
            let turn = max(now, (lastDone[channel] ?? now - interval) + interval)
            if turn > now { try? await Task.sleep(until: turn, clock: .continuous) }
            // Re-checked after the sleep: the actor may have let another post take the channel.
            guard !busy.contains(channel), ContinuousClock.now >= (lastDone[channel] ?? asked - interval) + interval else { continue }
            busy.insert(channel)
            if lastDone.count > 10_000 { lastDone = lastDone.filter { ContinuousClock.now - $0.value < .seconds(60) } }
            return Int((ContinuousClock.now - asked).components.seconds)
        }
    }

    func done(_ channel: String) {
        busy.remove(channel)
        lastDone[channel] = ContinuousClock.now
    }
}
