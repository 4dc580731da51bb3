@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Synchronization
import Testing

/// The sweeper on a manual clock: ten minutes of a plan's life, a warning and its expiry, and
/// a day of retention, in milliseconds of real time.
@Suite struct SweeperTests {
    static let policy = AccessPolicy(mode: .team, groups: [:], rules: [.init(who: ["*"], intents: [.restart, .cancel])],
                                     expiry: 600, warning: 120)

    @Test func warnsOnceThenExpiresThePlanAndAnnouncesBoth() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let alice = Person(id: "U-alice", name: "alice")
        let r = try bot.request("rsweep01", state: .awaitingConfirmation, environment: nil, by: alice, in: "C-ops", policy: Self.policy)
        try await bot.engine.record(card: MessageRef(role: .request, channel: "C-ops", ts: "1.1"), for: r.id)
        let heard = Mutex<[Reply]>([])
        let sweeper = Sweeper(engine: bot.engine, clock: bot.clock.sleeps, interval: .seconds(1))
        let running = Task { await sweeper.run { reply in heard.withLock { $0.append(reply) } } }
        defer { running.cancel() }

        // 479 s: nothing yet. 481 s: within the two-minute warning.
        for _ in 0..<479 {
            try await bot.clock.waitForSleepers()
            bot.clock.advance(by: .seconds(1))
        }
        try await bot.clock.waitForSleepers()
        #expect(heard.withLock { $0 }.isEmpty)
        bot.clock.advance(by: .seconds(2))
        try await bot.clock.waitForSleepers()
        let warning = try #require(heard.withLock { $0.first })
        guard case .request(let update) = warning, update.step == .note else {
            Issue.record("not a note: \(warning)")
            return
        }
        #expect(update.cards == [MessageRef(role: .request, channel: "C-ops", ts: "1.1")])
        #expect(update.text.contains("rsweep01"))

        // Once only, however many sweeps pass; then expired at 600 s.
        for _ in 0..<118 {
            bot.clock.advance(by: .seconds(1))
            try await bot.clock.waitForSleepers()
        }
        #expect(heard.withLock { $0.count } == 1)
        #expect(try bot.store.request(id: r.id)?.state == .awaitingConfirmation)
        bot.clock.advance(by: .seconds(1))
        try await bot.clock.waitForSleepers()
        #expect(heard.withLock { $0.count } == 2)
        guard case .request(let expired)? = heard.withLock({ $0.last }), expired.step == .finished else {
            Issue.record("expiry not announced")
            return
        }
        #expect(expired.request.state == .expired)
        #expect(try bot.store.request(id: r.id)?.state == .expired)
    }

    @Test func purgesAtStartAndThenOnceADay() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let alice = Person(id: "U-alice", name: "alice")
        // A finished request 400 days old goes at start; one finished today goes a year later.
        let old = try bot.request("rold0001", state: .cancelled, environment: nil, by: alice, in: "C-ops", policy: Self.policy)
        bot.clock.advance(by: .seconds(400 * 86_400))
        let new = try bot.request("rnew0001", state: .cancelled, environment: nil, by: alice, in: "C-ops", policy: Self.policy)
        let sweeper = Sweeper(engine: bot.engine, clock: bot.clock.sleeps, interval: .seconds(43_200), retentionDays: 365)
        let running = Task { await sweeper.run { _ in } }
        defer { running.cancel() }
        try await bot.clock.waitForSleepers()
        #expect(try bot.store.request(id: old.id) == nil)
        #expect(try bot.store.request(id: new.id) != nil)
        // 366 days on, half a day at a time: the daily purge takes it.
        for _ in 0..<(366 * 2) {
            bot.clock.advance(by: .seconds(43_200))
            try await bot.clock.waitForSleepers()
        }
        #expect(try bot.store.request(id: new.id) == nil)
    }

    @Test func stopsWhenCancelled() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let sweeper = Sweeper(engine: bot.engine, clock: bot.clock.sleeps)
        let running = Task { await sweeper.run { _ in } }
        try await bot.clock.waitForSleepers()
        running.cancel()
        await running.value
        #expect(bot.clock.sleeping == 0)
    }
}
