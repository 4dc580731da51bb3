import ConvOpsHTTP
import ConvOpsSlack
import ConvOpsTestSupport
import Foundation
import Synchronization
import Logging
import Testing

/// Tests read what happened from the emulator; the client's own log would only be noise.
let quiet: Logger = {
    var logger = Logger(label: "test.socket-mode")
    logger.logLevel = .critical
    return logger
}()

/// The Socket Mode client against the emulator over real WebSockets: acks, duplicates,
/// refreshes, drops, stalls and too_many_websockets.
@Suite struct SocketModeClientTests {
    final class Received: Sendable {
        let ids = Mutex<[String]>([])
        var count: Int { ids.withLock { $0.count } }
    }

    /// The Web API of an emulator, with the emulator's tokens.
    static func api(_ emulator: SlackEmulator) -> SlackWebAPI {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy.production.allowing(endpoint: emulator.apiURL)), logger: .quiet)
        return SlackWebAPI(http: http, baseURL: emulator.apiURL, botToken: SlackToken(SlackEmulator.botToken)!,
                           appToken: SlackToken(SlackEmulator.appToken), logger: .quiet)
    }

    struct Rig {
        let emulator: SlackEmulator
        let client: SocketModeClient
        let received: Received
        let run: Task<String, Never>

        static func start(connections: Int = 2, clock: ManualClock? = nil,
                          tune: (inout ConnectionMachine.Settings) -> Void = { _ in }) async throws -> Rig {
            let emulator = try SlackEmulator()
            let api = SocketModeClientTests.api(emulator)
            var options = SocketModeClient.Options(connections: connections, tick: .milliseconds(100), allowLoopback: true)
            tune(&options.machine)
            let client = try SocketModeClient(api: api, options: options, clock: clock.map { $0.sleeps } ?? ContinuousClock(), logger: quiet)
            let received = Received()
            let run = Task { await client.run() }
            Task {
                for await envelope in client.envelopes {
                    client.took(envelope)
                    received.ids.withLock { $0.append(envelope.id) }
                }
            }
            if let clock {
                try await Self.advance(clock, until: { emulator.openSockets.count == connections }, within: .seconds(60))
            }
            try await emulator.wait("\(connections) sockets") { emulator.openSockets.count == connections }
            return Rig(emulator: emulator, client: client, received: received, run: run)
        }

        /// Moves the manual clock on a tick at a time (giving the real sockets a moment between
        /// ticks) until `done`, or until `limit` of clock time passed; returns the clock time taken.
        @discardableResult
        static func advance(_ clock: ManualClock, until done: () -> Bool, within limit: Duration) async throws -> Duration {
            var passed = Duration.zero
            while !done(), passed < limit {
                try await clock.waitForSleepers()
                clock.advance(by: .milliseconds(100))
                passed += .milliseconds(100)
                try await Task.sleep(for: .milliseconds(3))
            }
            return passed
        }

        func stop() async -> String {
            client.shutdown()
            let reason = await run.value
            emulator.shutdown()
            return reason
        }
    }

    @Test func acksEveryEnvelopeAndHandsDuplicatesOnOnce() async throws {
        let rig = try await Rig.start()
        let e = rig.emulator
        let slash = try e.slashCommand("status")
        try e.resend(slash)                                   // the same envelope again, byte for byte
        let event = try e.mention("status", eventID: "EvDup1")
        try e.mention("status", eventID: "EvDup1", retry: 1)  // Slack's redelivery: new envelope id, same event
        try e.sendRaw(#"{"type":"brand_new_frame"}"#)
        try e.sendRaw(#"{"type":"future_envelope","envelope_id":"fut-1","payload":{}}"#)
        try e.sendRaw("garbage")
        try await e.wait("all acks") { e.unacked.isEmpty && e.ackFrames.contains(#"{"envelope_id":"fut-1"}"#) }
        try await e.wait("three envelopes handed on") { rig.received.count == 3 }
        try await Task.sleep(for: .milliseconds(200))
        #expect(rig.received.count == 3, "slash once, event once, the unknown envelope once")
        #expect(rig.received.ids.withLock { $0.contains(slash) })
        _ = event
        #expect(rig.client.stats.duplicates == 2)
        #expect(rig.client.stats.unknown == 2)
        #expect(await rig.stop() == "shut down")
    }

    /// A consumer that falls behind: past the envelopes one socket may have waiting, and past
    /// those all may, each goes to the overflow handler (acknowledged, handed on exactly once one
    /// way or the other); a full socket does not stop the other's from being handed on.
    @Test func theIntakeIsBoundedPerSocketAndInAll() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let api = Self.api(emulator)
        let options = SocketModeClient.Options(connections: 2, tick: .milliseconds(100), allowLoopback: true, waitingPerSocket: 5, waitingInAll: 8)
        let client = try SocketModeClient(api: api, options: options, logger: quiet)
        let overflowed = Received()
        client.onOverflow { envelope in overflowed.ids.withLock { $0.append(envelope.id) } }
        let run = Task { await client.run() }
        try await emulator.wait("2 sockets") { emulator.openSockets.count == 2 }
        let (a, b) = (emulator.openSockets[0], emulator.openSockets[1])
        var sent: [String] = []
        for i in 0..<10 { sent.append(try emulator.slashCommand("status web-\(i)", socket: a)) }
        try await emulator.wait("socket A's acks") { emulator.unacked.isEmpty }
        try await emulator.wait("A's overflow") { overflowed.count == 5 }
        #expect(client.waiting == 5, "five wait from the full socket")
        for i in 0..<10 { sent.append(try emulator.slashCommand("status api-\(i)", socket: b)) }
        try await emulator.wait("socket B's acks") { emulator.unacked.isEmpty }
        try await emulator.wait("B's overflow") { overflowed.count == 12 }
        #expect(client.waiting == 8, "B still got three in: the bound in all, not A's")
        #expect(client.overflowed == 12)
        // The consumer catches up: the eight come out, and the intake takes new ones again.
        var handed: [String] = []
        var iterator = client.envelopes.makeAsyncIterator()
        for _ in 0..<8 {
            guard let envelope = await iterator.next() else { break }
            client.took(envelope)
            handed.append(envelope.id)
        }
        #expect(client.waiting == 0)
        let late = try emulator.slashCommand("status web-late", socket: a)
        if let envelope = await iterator.next() { client.took(envelope); handed.append(envelope.id) }
        #expect(handed.last == late)
        let all = handed + overflowed.ids.withLock { $0 }
        #expect(Set(all) == Set(sent + [late]) && all.count == sent.count + 1, "each envelope exactly once, one way or the other")
        client.shutdown()
        _ = await run.value
    }

    @Test func refreshRequestedLeavesNoGapWithoutALiveSocket() async throws {
        let rig = try await Rig.start(connections: 1)
        let e = rig.emulator
        let old = try #require(e.openSockets.first)
        // Envelopes keep coming while Slack refreshes the only socket, and it closes the old
        // one a moment later (as it does).
        // 15 s: time for the replacement even on a 2-core CI machine busy with the whole suite.
        let refresh = Task { try await e.disconnect(old, reason: "refresh_requested", closeAfter: .seconds(15)) }
        var sent: [String] = []
        for i in 0..<60 {
            sent.append(try e.slashCommand("status \(i)"))
            try await Task.sleep(for: .milliseconds(50))
        }
        try await refresh.value
        let all = sent
        try await e.wait("every envelope acked") { all.allSatisfy(e.acked) }
        #expect(e.unacked.isEmpty)
        let sockets = e.sockets
        #expect(sockets.count == 2)
        // Make before break: the replacement was open before the old socket closed.
        #expect(sockets[1].openedAt < (sockets[0].closedAt ?? .now))
        #expect(e.openSockets.count == 1 && e.openSockets != [old])
        #expect(e.calls("apps.connections.open").count == 2)
        _ = await rig.stop()
    }

    @Test func warningOpensTheReplacementFirst() async throws {
        let rig = try await Rig.start(connections: 1)
        let e = rig.emulator
        let old = try #require(e.openSockets.first)
        try await e.disconnect(old, reason: "warning")
        try await e.wait("the replacement and the old socket closed") { e.openSockets.count == 1 && e.openSockets.first != old }
        // The new socket was up before the old one went: at one moment both were open.
        let s = e.sockets
        #expect(s.count == 2)
        let oldClosed = try #require(s[0].closedAt)
        #expect(s[1].openedAt < oldClosed)
        _ = await rig.stop()
    }

    @Test func aDroppedTCPConnectionIsReplacedAndTheOtherSocketCarriesOn() async throws {
        let rig = try await Rig.start(connections: 2)
        let e = rig.emulator
        let victim = e.openSockets[0]
        e.dropTCP(victim)
        // Meanwhile the other socket takes every envelope.
        var sent: [String] = []
        for i in 0..<20 { sent.append(try e.slashCommand("status \(i)")) }
        let all = sent
        try await e.wait("acks on the surviving socket") { all.allSatisfy(e.acked) }
        try await e.wait("a replacement socket", timeout: .seconds(20)) { e.openSockets.count == 2 && !e.openSockets.contains(victim) }
        _ = await rig.stop()
    }

    @Test func aStalledSocketIsFoundAndReplacedWithin3Seconds() async throws {
        // Production settings: ping every second, dead 2 s after an unanswered ping; on a manual clock.
        let clock = ManualClock()
        let rig = try await Rig.start(connections: 2, clock: clock)
        let e = rig.emulator
        let victim = e.openSockets[0]
        e.stall(victim)
        // The clock is read at the client's decision: the close and the new socket then take
        // real time (on a loaded machine, every 3 ms of it would be another 100 ms of clock).
        let client = rig.client
        let took = try await Rig.advance(clock, until: { client.abandonedSockets > 0 }, within: .seconds(60))
        try await Rig.advance(clock, until: { e.openSockets.count == 2 && !e.openSockets.contains(victim) }, within: .seconds(60))
        #expect(e.openSockets.count == 2 && !e.openSockets.contains(victim))
        #expect(took <= .seconds(4), "replaced after \(took) on the clock")
        #expect(took >= .seconds(2), "not before its pong was due: \(took)")
        _ = await rig.stop()
    }

    /// Slack keeps sending on a half-open socket until its TCP connection ends: what went there
    /// meanwhile is lost (slash commands are not sent again). Noticed within 3 s on the clock,
    /// the TCP connection dropped, and nothing is sent on it after that; counted.
    @Test func aHalfOpenSocketLosesOnlyWhatCameInItsFirst3Seconds() async throws {
        let clock = ManualClock()
        let rig = try await Rig.start(connections: 2, clock: clock)
        let e = rig.emulator
        let victim = e.openSockets[0]
        e.halfOpen(victim)
        var sent: [String] = []
        var passed = Duration.zero
        // Ten envelopes a second on the clock, spread over both sockets as Slack does, until
        // the client gives the socket up (the TCP close that follows takes real time).
        let client = rig.client
        while client.abandonedSockets == 0, passed < .seconds(20) {
            sent.append(try e.slashCommand("status \(sent.count)"))
            try await clock.waitForSleepers()
            clock.advance(by: .milliseconds(100))
            passed += .milliseconds(100)
            try await Task.sleep(for: .milliseconds(3))
        }
        // The drop itself may wait on the clock: it goes on moving, uncounted.
        try await Rig.advance(clock, until: { !e.connected(victim) }, within: .seconds(20))
        #expect(!e.connected(victim), "its TCP connection was ended")
        #expect(passed <= .seconds(3), "noticed after \(passed) on the clock")
        // After that everything lands on a live socket.
        var after: [String] = []
        for i in 0..<20 { after.append(try e.slashCommand("after \(i)")) }
        let later = after
        try await e.wait("every envelope after the drop acknowledged") { later.allSatisfy(e.acked) }
        let lost = sent.filter { !e.acked($0) }
        #expect(lost.count <= sent.count / 2 + 1, "\(lost.count) of \(sent.count) lost")
        #expect(!lost.isEmpty, "the emulator did route to the half-open socket")
        print("half-open socket: noticed after \(passed) on the clock; \(lost.count) of \(sent.count) envelopes sent meanwhile lost")
        _ = await rig.stop()
    }

    @Test func tooManyWebsocketsCausesNoReconnectStorm() async throws {
        let clock = ManualClock()
        // Pongs are not what this is about: on a loaded machine a pong's real milliseconds are
        // seconds of this fast-moving clock, and the live socket was given up as half-open.
        let rig = try await Rig.start(connections: 2, clock: clock) {
            $0.tooManyWait = 2
            $0.pongTimeout = 600
        }
        let e = rig.emulator
        e.disconnectNewSockets(reason: "too_many_websockets")
        let before = e.calls("apps.connections.open").count
        try await e.disconnect(e.openSockets[0], reason: "too_many_websockets")
        try await Rig.advance(clock, until: { false }, within: .seconds(8))
        let during = e.calls("apps.connections.open").count - before
        // With a 2 s floor and doubling backoff, 8 s allow a handful of tries, not a storm.
        #expect(during <= 5, "\(during) calls to apps.connections.open in 8 s")
        // And it does keep trying.
        #expect(during >= 1, "no retry in 8 s on the clock")
        // The socket that was not told to go keeps working the whole time.
        #expect(e.openSockets.count >= 1)
        let id = try e.slashCommand("status")
        try await e.wait("ack") { e.acked(id) }
        _ = await rig.stop()
    }

    @Test func aRevokedAppTokenStopsWithAReason() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy.production.allowing(endpoint: emulator.apiURL)), logger: .quiet)
        let api = SlackWebAPI(http: http, baseURL: emulator.apiURL, botToken: SlackToken(SlackEmulator.botToken)!,
                              appToken: SlackToken("xapp-1-revoked"), logger: .quiet)
        let client = try SocketModeClient(api: api, options: .init(connections: 2, tick: .milliseconds(100), allowLoopback: true),
                                          logger: quiet)
        let reason = await client.run()
        #expect(reason.contains("check SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN"))
        #expect(emulator.calls("apps.connections.open").count == 1)
    }

    @Test func refusesASocketURLOutsideSlack() async throws {
        // Without allowLoopback, the emulator's ws://127.0.0.1 URL is refused before connecting.
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let api = Self.api(emulator)
        let client = try SocketModeClient(api: api, options: .init(connections: 1, tick: .milliseconds(100)), logger: quiet)
        let reason = await client.run()
        #expect(reason.contains("returned a URL outside Slack (127.0.0.1)"))
        #expect(emulator.sockets.isEmpty)
    }
}

extension SocketModeClientTests {
    @Test func anEventLostOnAStalledSocketIsRedeliveredAndHandledOnce() async throws {
        let rig = try await Rig.start(connections: 2)
        let e = rig.emulator
        let victim = e.openSockets[0]
        e.stall(victim)
        // Sent on the stalled socket: nobody acks it in time, so "Slack" sends it again elsewhere.
        try e.mention("status", eventID: "EvLate1", socket: victim)
        try await Task.sleep(for: .seconds(3.2))
        let again = try e.redeliverLate()
        #expect(again.count == 1)
        try await e.wait("the redelivery acked") { again.allSatisfy(e.acked) }
        try await e.wait("handled") { rig.received.count == 1 }
        // Once more, as if the first ack had been late rather than lost: still handled once.
        try e.mention("status", eventID: "EvLate1", retry: 2)
        try await Task.sleep(for: .milliseconds(300))
        #expect(rig.received.count == 1)
        _ = await rig.stop()
    }
}
