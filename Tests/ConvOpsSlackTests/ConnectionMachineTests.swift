import ConvOpsSlack
import Testing

/// The connection manager's logic, driven by hand: no sockets, time as numbers.
@Suite struct ConnectionMachineTests {
    typealias M = ConnectionMachine

    /// Brings a machine to `n` ready sockets at time `t`; returns the socket ids.
    func ready(_ m: inout M, _ n: Int, at t: inout Double) -> [Int] {
        var ids: [Int] = []
        var actions = m.start(now: t)
        while ids.count < n {
            guard actions.contains(.fetchURL) else {
                t += 1
                actions = m.tick(now: t)
                continue
            }
            let open = m.urlFetched("wss://wss-primary.slack.com/link/?ticket=\(ids.count)", now: t)
            guard case .open(let id, _)? = open.first else { Issue.record("no open after the URL: \(open)"); return ids }
            _ = m.opened(id, now: t)
            actions = m.hello(id, numConnections: ids.count + 1, now: t)
            ids.append(id)
        }
        return ids
    }

    @Test func opensTheConfiguredSocketsOneAtATimeAndSpaced() {
        var m = M(settings: .init(connections: 2))
        #expect(m.start(now: 0) == [.fetchURL])
        // A second fetch never starts while one is in flight.
        #expect(m.tick(now: 0.5).filter { $0 == .fetchURL }.isEmpty)
        guard case .open(let first, _)? = m.urlFetched("wss://x.slack.com/a", now: 0.1).first else { Issue.record("no open"); return }
        _ = m.opened(first, now: 0.2)
        // The next apps.connections.open waits for minOpenInterval (1 s).
        #expect(!m.hello(first, numConnections: 1, now: 0.3).contains(.fetchURL))
        #expect(m.tick(now: 1.1).contains(.fetchURL))
        #expect(m.opens == 2)
    }

    @Test func settingsAreClampedToSlacksLimit() {
        #expect(M.Settings(connections: 0).connections == 1)
        #expect(M.Settings(connections: 40).connections == 10)
    }

    @Test func refreshOpensTheReplacementBeforeClosingTheOldSocket() {
        var m = M(settings: .init(connections: 1))
        var t = 0.0
        let old = ready(&m, 1, at: &t)[0]
        t += 5
        let actions = m.disconnect(old, reason: .refreshRequested, now: t)
        #expect(actions.contains(.fetchURL))
        #expect(!actions.contains { if case .close = $0 { true } else { false } })
        // Until the replacement says hello, the old socket still counts as ready, and a second
        // notice (warning, then refresh_requested) does not close it early.
        #expect(m.readyCount == 1)
        #expect(m.disconnect(old, reason: .refreshRequested, now: t + 0.05).isEmpty)
        guard case .open(let new, _)? = m.urlFetched("wss://x.slack.com/b", now: t).first else { Issue.record("no open"); return }
        _ = m.opened(new, now: t + 0.1)
        #expect(m.readyCount == 1)
        let afterHello = m.hello(new, numConnections: 2, now: t + 0.2)
        #expect(afterHello.contains(.close(id: old, reason: "replaced")))
        #expect(m.readyCount == 1)
        _ = m.closed(old, now: t + 0.3)
        #expect(m.failures == 0)
        #expect(m.sockets.keys.sorted() == [new])
    }

    @Test func tooManyWebsocketsClosesFirstAndBacksOffWithoutAStorm() {
        var m = M(settings: .init(connections: 2), seed: 7)
        var t = 0.0
        var pending = m.start(now: t)
        // Slack answers every new socket with too_many_websockets for ten minutes.
        while t < 600 {
            var actions = pending + m.tick(now: t)
            pending = []
            while actions.contains(.fetchURL) {
                guard case .open(let id, _)? = m.urlFetched("wss://x.slack.com/\(t)", now: t).first else { break }
                _ = m.opened(id, now: t)
                _ = m.hello(id, numConnections: 10, now: t)
                actions = m.disconnect(id, reason: .tooManyWebsockets, now: t)
                #expect(actions.first == .close(id: id, reason: "too_many_websockets"))
                actions += m.closed(id, now: t + 0.1)
            }
            t += 0.5
        }
        // Exponential backoff with a 10 s floor and a 60 s cap: far from one call per second.
        #expect(m.opens <= 20, "\(m.opens) calls to apps.connections.open in 10 minutes")
        #expect(m.opens >= 8)
    }

    @Test func aSilentSocketIsFoundByItsUnansweredPing() {
        var m = M(settings: .init(connections: 1))
        var t = 0.0
        let id = ready(&m, 1, at: &t)[0]
        var pingAt: Double?
        var dropAt: Double?
        while t < 40, dropAt == nil {
            t += 0.25
            for action in m.tick(now: t) {
                if action == .ping(id: id), pingAt == nil { pingAt = t }
                if case .drop(id, _) = action { dropAt = t }
            }
        }
        let ping = try! #require(pingAt), drop = try! #require(dropAt)
        #expect(ping <= 1.25)
        #expect(drop - ping > 2 && drop - ping <= 2.25, "dropped \(drop - ping) s after the first unanswered ping")
        #expect(drop <= 3.5, "noticed within 3 s of going silent (give or take a tick)")
        // And its replacement is planned.
        t += 60
        #expect(m.tick(now: t).contains(.fetchURL))
    }

    @Test func pongsKeepASocketAlive() {
        var m = M(settings: .init(connections: 1))
        var t = 0.0
        let id = ready(&m, 1, at: &t)[0]
        for _ in 0..<400 {
            t += 0.5
            for action in m.tick(now: t) {
                if case .drop = action { Issue.record("dropped a healthy socket at \(t)") }
                if action == .ping(id: id) { m.pong(id, now: t + 0.01) }
            }
        }
        #expect(m.readyCount == 1)
    }

    @Test func fatalTokenErrorsStopAndOthersRetryWithBackoff() {
        var m = M(settings: .init(connections: 1), seed: 1)
        _ = m.start(now: 0)
        let transient = m.urlFailed(.transient("network"), now: 0)
        #expect(transient.count == 1)
        #expect(!m.tick(now: 0.2).contains(.fetchURL))
        var t = 0.2
        while !m.tick(now: t).contains(.fetchURL) { t += 0.1 }
        #expect(t >= 0.5 && t <= 1.2)
        let rateLimited = m.urlFailed(.rateLimited(retryAfter: 30), now: t)
        #expect(rateLimited.count == 1)
        #expect(!m.tick(now: t + 29).contains(.fetchURL))
        #expect(m.tick(now: t + 30.1).contains(.fetchURL))
        let fatal = m.urlFailed(.fatal("invalid_auth"), now: t + 31)
        #expect(fatal.last == .stop("invalid_auth"))
        #expect(m.stopped == "invalid_auth")
        #expect(m.tick(now: t + 500).isEmpty)
    }

    @Test func controlFramesAreLegalInEveryStateAndOldEpochsAreIgnored() {
        var m = M(settings: .init(connections: 1))
        _ = m.start(now: 0)
        // A disconnect or hello for a socket that does not exist (an older epoch): nothing.
        #expect(m.disconnect(99, reason: .warning, now: 0).isEmpty)
        #expect(m.hello(99, numConnections: 1, now: 0).isEmpty)
        #expect(m.closed(99, now: 0).isEmpty)
        guard case .open(let id, _)? = m.urlFetched("wss://x.slack.com/a", now: 0).first else { Issue.record("no open"); return }
        // A disconnect while still handshaking closes that socket and plans another.
        let early = m.disconnect(id, reason: .refreshRequested, now: 0.1)
        #expect(early.first == .close(id: id, reason: "disconnect before ready"))
        // link_disabled stops for good.
        var n = M(settings: .init(connections: 1))
        var t = 0.0
        let s = ready(&n, 1, at: &t)[0]
        #expect(n.disconnect(s, reason: .linkDisabled, now: t).last.map { if case .stop = $0 { true } else { false } } == true)
    }

    @Test func warnsWhenSlackCountsMoreSocketsThanWeHold() {
        var m = M(settings: .init(connections: 1))
        _ = m.start(now: 0)
        guard case .open(let id, _)? = m.urlFetched("wss://x.slack.com/a", now: 0).first else { Issue.record("no open"); return }
        _ = m.opened(id, now: 0)
        let actions = m.hello(id, numConnections: 10, now: 0)
        #expect(actions.contains { if case .warn(let w) = $0 { w.contains("Slack counts 10") } else { false } })
    }

    @Test func aStableSocketClearsTheFailureCount() {
        var m = M(settings: .init(connections: 1))
        _ = m.start(now: 0)
        _ = m.urlFailed(.transient("x"), now: 0)
        #expect(m.failures == 1)
        var t = 0.0
        while !m.tick(now: t).contains(.fetchURL) { t += 0.1 }
        guard case .open(let id, _)? = m.urlFetched("wss://x.slack.com/a", now: t).first else { Issue.record("no open"); return }
        _ = m.opened(id, now: t)
        _ = m.hello(id, numConnections: 1, now: t)
        for step in 1...70 {
            for action in m.tick(now: t + Double(step)) where action == .ping(id: id) { m.pong(id, now: t + Double(step)) }
        }
        #expect(m.failures == 0)
    }

    /// A dead socket beside a live one is replaced as soon as connects may be made, without
    /// the backoff a failure to connect would earn.
    @Test func aDeadSocketBesideALiveOneIsReplacedWithoutBackoff() {
        var m = M(settings: .init(connections: 2))
        var t = 0.0
        let ids = ready(&m, 2, at: &t)
        // Both up a while (past `stableAfter`), answering their pings.
        while t < 40 {
            t += 0.25
            for action in m.tick(now: t) { if case .ping(let id) = action { m.pong(id, now: t) } }
        }
        var dropped: Double?
        var replanned: Double?
        while t < 70, replanned == nil {
            t += 0.25
            // The first socket answers its pings; the second never does.
            for action in m.tick(now: t) {
                if case .ping(let id) = action, id == ids[0] { m.pong(id, now: t) }
                if case .drop(let id, _) = action, id == ids[1] { dropped = t }
                if action == .fetchURL, dropped != nil { replanned = t }
            }
        }
        let drop = try! #require(dropped), again = try! #require(replanned)
        #expect(again - drop <= 1.0, "replacement planned \(again - drop) s after the drop")
        #expect(m.failures == 0, "not counted as a failure")
    }

    /// A path too slow for the pong deadline: replacements that die young back off, so it does
    /// not reconnect every few seconds for ever.
    @Test func socketsThatKeepDyingYoungBackOff() {
        var m = M(settings: .init(connections: 2))
        var t = 0.0
        let ids = ready(&m, 2, at: &t)
        var opens = 0
        var newest: Int?
        while t < 120 {
            t += 0.25
            for action in m.tick(now: t) {
                // The first socket answers; every other one never does.
                if case .ping(let id) = action, id == ids[0] { m.pong(id, now: t) }
                if case .drop(let id, _) = action { _ = m.closed(id, now: t) }
                if action == .fetchURL {
                    opens += 1
                    if case .open(let id, _)? = m.urlFetched("wss://x/?ticket=\(opens)", now: t).first {
                        _ = m.opened(id, now: t)
                        _ = m.hello(id, numConnections: 2, now: t)
                        newest = id
                    }
                }
            }
        }
        _ = newest
        #expect(m.failures >= 3, "young deaths counted: \(m.failures)")
        #expect(opens <= 10, "\(opens) connects in two minutes, not one every three seconds")
    }
}
