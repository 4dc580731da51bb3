@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// The edges of a snooze: one that begins while a new alarm is held, and what happens to an
/// alarm still firing when the snooze ends.
@Suite struct AlertSnoozeEndTests {
    typealias Rig = AlertDeskTests.Rig

    @Test func aSnoozeThatBeginsDuringTheHoldCoversTheHeldAlarm() async throws {
        let r = try Rig { $0.episodes.holdSeconds = 60 }
        defer { r.bot.remove() }
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.held))
        r.bot.clock.advance(by: 20)
        _ = await r.say("snooze alarm cpu-high 1h")
        r.bot.clock.advance(by: 50)
        await r.desk.releaseHeld()
        await r.desk.releaseHeld()
        #expect(r.chat.seen.withLock { $0.posts.isEmpty }, "held, then snoozed: not posted")
        #expect(try r.bot.store.alertDispositions() == [.suppressed: 1])
        #expect(try r.bot.store.heldEpisodesDue(now: r.bot.clock.now().addingTimeInterval(86_400)).isEmpty, "the unshown episode is gone")
        // When the snooze ends it is summed up, and since it still fires, its card comes now.
        r.bot.clock.advance(by: 3600)
        await r.desk.endSnoozes()
        let seen = r.chat.seen.withLock { $0 }
        #expect(seen.summaries.count == 1 && seen.summaries.first?.1 == 1)
        #expect(seen.posts.map(\.notice.episode.alarm.name) == ["cpu-high"])
    }

    @Test func anAlarmStillFiringWhenTheSnoozeEndsGetsItsCardOneThatRecoveredOnlyTheSummary() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        _ = await r.say("snooze alarm cpu-high 1h")
        _ = await r.say("snooze alarm disk-full 1h")
        for (i, (alarm, state)) in [("cpu-high", "ALARM"), ("disk-full", "ALARM"), ("cpu-high", "OK"), ("cpu-high", "ALARM"),
                                    ("disk-full", "OK")].enumerated() {
            r.bot.clock.advance(by: 60)
            #expect(await r.desk.take(body: r.body(alarm, state, minute: i), queueMessageID: "q-\(i)") != .done(.posted))
        }
        #expect(r.chat.seen.withLock { $0.posts.isEmpty })
        r.bot.clock.advance(by: 3600)
        await r.desk.endSnoozes()
        await r.desk.endSnoozes()
        let seen = r.chat.seen.withLock { $0 }
        #expect(seen.summaries.count == 2)
        // cpu-high ended in ALARM: one card, once; disk-full recovered: nothing but its summary.
        #expect(seen.posts.map(\.notice.episode.alarm.name) == ["cpu-high"])
        #expect(seen.posts.first?.notice.episode.state == .alarm)
        let reminded = try r.bot.store.episodesToRemind(now: r.bot.clock.now().addingTimeInterval(7200), interval: 3600)
        #expect(reminded.map(\.alarm.name) == ["cpu-high"], "an open episode again: recalled, acknowledgeable")
        // Its OK later resolves that card.
        #expect(await r.desk.take(body: r.body("cpu-high", "OK", minute: 200), queueMessageID: "q-9") == .done(.updated))
    }

    /// A restart between a thread line going out and its alert being settled: the redelivery
    /// edits the message again (harmless) but does not say the line twice.
    @Test func aThreadLineIsNotRepeatedAfterARestartMidChange() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.posted))
        r.chat.seen.withLock { $0.hangAfterReply = true }
        let again = r.body("cpu-high", "ALARM", minute: 5, messageID: "m-again")
        let dying = Task { [desk = r.desk] in await desk.take(body: again, queueMessageID: "q-2") }
        try await waitUntil { r.chat.seen.withLock { $0.replies.count } == 1 }
        // The process is gone (its task never returns); a new one takes the redelivery.
        let chat = AlertDeskTests.Chat()
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: chat, clock: r.bot.clock, logger: .quiet)
        #expect(await desk.take(body: again, queueMessageID: "q-2") == .done(.updated))
        let seen = chat.seen.withLock { $0 }
        #expect(seen.updates.count == 1 && seen.replies.isEmpty && seen.posts.isEmpty)
        // The next change says its line as usual.
        #expect(await desk.take(body: r.body("cpu-high", "OK", minute: 9), queueMessageID: "q-3") == .done(.updated))
        #expect(chat.seen.withLock { $0.replies.map(\.change) } == [.resolved])
        dying.cancel()
    }

    func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestSupportError("timed out") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
