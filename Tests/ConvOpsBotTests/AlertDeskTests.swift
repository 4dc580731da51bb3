@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Synchronization
import Testing

/// The desk over a real SQLite file and a manual clock, with a recording chat: one post per
/// episode, redeliveries recognised, snoozes that hold back, end by themselves and sum up.
@Suite struct AlertDeskTests {
    final class Chat: AlertSink {
        struct Seen: Sendable {
            var posts: [(channel: String, notice: AlertNotice)] = []
            var updates: [AlertNotice] = []
            var replies: [AlertNotice] = []
            var summaries: [(Snooze, Int)] = []
            var groups: [AlertGroupSummary] = []
            var notices: [(Snooze, String, [String])] = []
            var failing = false
            /// A reply is taken, then the call never returns: the process "dies" right after sending.
            var hangAfterReply = false
        }
        let seen = Mutex(Seen())

        func post(_ notice: AlertNotice, to channel: String) async throws -> String {
            try seen.withLock { s in
                if s.failing { throw TestSupportError("Slack is down") }
                s.posts.append((channel, notice))
                return "1700000000.\(s.posts.count)"
            }
        }
        func addButtons(_ notice: AlertNotice, at message: AlertMessage) async {}
        func update(_ notice: AlertNotice, at message: AlertMessage) async throws { seen.withLock { $0.updates.append(notice) } }
        func reply(_ notice: AlertNotice, under message: AlertMessage) async throws {
            let hang = seen.withLock { $0.replies.append(notice); return $0.hangAfterReply }
            if hang { try await Task.sleep(for: .seconds(3600)) }
        }
        func snoozeEnded(_ snooze: Snooze, held: [StoredAlert], channels: [String]) async throws {
            seen.withLock { $0.summaries.append((snooze, held.count)) }
        }
        func snoozeStarted(_ snooze: Snooze, by person: String, channels: [String]) async throws {
            seen.withLock { $0.notices.append((snooze, person, channels)) }
        }
        func postGroup(_ summary: AlertGroupSummary, to channel: String) async throws -> String {
            seen.withLock { $0.groups.append(summary) }
            return "1800000000.\(summary.group.id)"
        }
        func updateGroup(_ summary: AlertGroupSummary, at message: AlertMessage) async throws { seen.withLock { $0.groups.append(summary) } }
        func find(_ id: String, in channel: String, since: Date) async -> String? {
            seen.withLock { s in s.posts.firstIndex { $0.channel == channel && $0.notice.episode.id == id }.map { "1700000000.\($0 + 1)" } }
        }
    }

    struct Rig {
        let bot: Bot
        let chat = Chat()
        let desk: AlertDesk

        init(policy: AccessPolicy = .openSolo, _ adjust: (inout AlertSettings) -> Void = { _ in }) throws {
            bot = try Bot(policy: policy)
            var settings = AlertSettings()
            settings.defaultChannels = ["C0ALERTS01"]
            adjust(&settings)
            desk = AlertDesk(store: bot.store, engine: bot.engine, settings: settings, sink: chat, clock: bot.clock, logger: .quiet)
        }

        func body(_ alarm: String, _ state: String, minute: Int, messageID: String = UUID().uuidString) -> String {
            let time = Timestamp.format(Date(timeIntervalSince1970: 1_767_225_600 - 86_400 + Double(minute * 60)))
            let inner: JSON = ["AlarmName": .string(alarm), "NewStateValue": .string(state), "StateChangeTime": .string(time),
                               "AlarmArn": .string("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:\(alarm)"),
                               "NewStateReason": "Threshold Crossed", "AWSAccountId": "123456789012",
                               "Trigger": ["MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80,
                                           "Dimensions": [["name": "InstanceId", "value": "i-0123456789abcdef0"]]]]
            let envelope: JSON = ["Type": "Notification", "MessageId": .string(messageID), "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms",
                                  "Message": .string(inner.text)]
            return envelope.text
        }

        func say(_ text: String, as person: Person = Person(id: "U-alice", name: "alice")) async -> [Reply] {
            await bot.engine.handle(InboundMessage(text: text, person: person, channel: "C0OPS00001"))
        }
    }

    @Test func oneEpisodeOnePostRedeliveriesRecognisedRecoveryUpdates() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        let first = r.body("cpu-high", "ALARM", minute: 0, messageID: "m-1")
        #expect(await r.desk.take(body: first, queueMessageID: "q-1") == .done(.posted))
        // The same SNS message again, and the same change under another MessageId: seen.
        #expect(await r.desk.take(body: first, queueMessageID: "q-1") == .duplicate(.posted))
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-2") == .duplicate(.posted))
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 5), queueMessageID: "q-3") == .done(.updated))
        // A late OK from before the second ALARM: stored, nothing said.
        #expect(await r.desk.take(body: r.body("cpu-high", "OK", minute: 3), queueMessageID: "q-4") == .done(.quiet))
        #expect(await r.desk.take(body: r.body("cpu-high", "OK", minute: 12), queueMessageID: "q-5") == .done(.updated))
        let seen = r.chat.seen.withLock { $0 }
        #expect(seen.posts.count == 1)
        #expect(seen.updates.map(\.change) == [.again, .resolved])
        #expect(seen.updates.last?.episode.alarms == 2)
        #expect(try r.bot.store.alertDispositions() == [.posted: 1, .updated: 2, .quiet: 1])
    }

    @Test func aChatThatIsDownLeavesTheMessageInTheQueueAndNothingIsLost() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        r.chat.seen.withLock { $0.failing = true }
        let body = r.body("disk-full", "ALARM", minute: 0, messageID: "m-9")
        guard case .retryLater = await r.desk.take(body: body, queueMessageID: "q-9") else { Issue.record("kept in the queue"); return }
        #expect(try r.bot.store.pendingAlerts().count == 1)
        r.chat.seen.withLock { $0.failing = false }
        // The queue delivers it again: carried on where it stopped, posted once.
        #expect(await r.desk.take(body: body, queueMessageID: "q-9") == .done(.posted))
        #expect(r.chat.seen.withLock { $0.posts.count } == 1)
        #expect(try r.bot.store.pendingAlerts().isEmpty)
    }

    @Test func aSnoozeHoldsBackEndsByItselfAndSumsUp() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        let said = await r.say("snooze alarm cpu-high 2h")
        #expect(said.first?.text.contains("until") == true, "\(said)")
        #expect(try r.bot.store.activeSnoozes().count == 1)
        #expect(try r.bot.store.auditEntries(limit: 10).contains { $0.action == "alert.snooze" && $0.decision == .snoozed })
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 1), queueMessageID: "q-1") == .done(.suppressed))
        #expect(await r.desk.take(body: r.body("other", "ALARM", minute: 1), queueMessageID: "q-2") == .done(.posted))
        #expect(await r.say("snoozes").first?.text.contains("cpu-high (alarm)") == true)
        // Told to the alert channels, once.
        await r.desk.announceSnoozes()
        await r.desk.announceSnoozes()
        let notices = r.chat.seen.withLock { $0.notices }
        #expect(notices.count == 1 && notices.first?.1 == "alice" && notices.first?.2 == ["C0ALERTS01"])
        // Not yet over: nothing ends.
        r.bot.clock.advance(by: 3600)
        await r.desk.endSnoozes()
        #expect(r.chat.seen.withLock { $0.summaries.isEmpty })
        r.bot.clock.advance(by: 3601)
        await r.desk.endSnoozes()
        let summaries = r.chat.seen.withLock { $0.summaries }
        #expect(summaries.count == 1 && summaries.first?.1 == 1 && summaries.first?.0.channel == "C0OPS00001")
        await r.desk.endSnoozes()
        #expect(r.chat.seen.withLock { $0.summaries.count } == 1, "summed up once")
        // Over, and cpu-high still fires: its card comes now, and the next ALARM updates it.
        #expect(r.chat.seen.withLock { $0.posts.map(\.notice.episode.alarm.name) } == ["other", "cpu-high"])
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 200), queueMessageID: "q-3") == .done(.updated))
        #expect(await r.say("snoozes").first?.text == "Nothing is snoozed.")
    }

    @Test func aResourceSnoozeCoversItsAlarmsByTheirDimensions() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        let now = r.bot.clock.now()
        // Elsewhere, the same id: not covered.
        try r.bot.store.add(Snooze(id: "sz-0", scope: .resource, target: "us-east-1||i-0123456789abcdef0", label: "orders-db",
                                   until: now.addingTimeInterval(600), createdAt: now, channel: "C0OPS00001"),
                            by: Person(id: "U-alice", name: "alice"))
        #expect(await r.desk.take(body: r.body("mem-high", "ALARM", minute: 1), queueMessageID: "q-0") == .done(.posted))
        try r.bot.store.add(Snooze(id: "sz-1", scope: .resource, target: "eu-west-1||i-0123456789abcdef0", label: "orders-db",
                                   until: now.addingTimeInterval(600), createdAt: now, channel: "C0OPS00001"),
                            by: Person(id: "U-alice", name: "alice"))
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 1), queueMessageID: "q-1") == .done(.suppressed))
    }

    @Test(arguments: ["don't snooze alarm cpu-high", "should we snooze alarm cpu-high?", "snooze alarm cpu-high 999999 weeks",
                      "snooze alarm cpu-high for 10 seconds", "I snoozed alarm cpu-high"])
    func deliberationAndBoundsSnoozeNothing(text: String) async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        _ = await r.say(text)
        #expect(try r.bot.store.activeSnoozes().isEmpty)
    }

    @Test func whoMayNotSnoozeIsRefusedAndAudited() async throws {
        let policy = AccessPolicy(mode: .team, groups: ["oncall": ["U-alice"]],
                                  rules: [.init(who: ["*"], intents: [.status, .help, .snoozes]),
                                          .init(who: ["group:oncall"], intents: [.snooze, .maintenance], environments: ["*"])])
        let r = try Rig(policy: policy)
        defer { r.bot.remove() }
        let mallory = Person(id: "U-mallory", name: "mallory")
        let refused = await r.say("snooze alarm cpu-high 2h", as: mallory)
        #expect(refused.first?.isRefusal == true)
        #expect(await r.say("maintenance prod until 18:00", as: mallory).first?.isRefusal == true)
        #expect(try r.bot.store.activeSnoozes().isEmpty)
        #expect(await r.say("snooze alarm cpu-high 2h").first?.isRefusal == false)
        #expect(await r.say("maintenance prod until 18:00").first?.text.contains("Maintenance for prod") == true)
        #expect(try r.bot.store.activeSnoozes().count == 2)
    }

    @Test func untilATimeOfDayIsTheNextOneInTheConfiguredZone() {
        let utc = TimeZone(identifier: "UTC")!
        let now = Timestamp.parse("2026-12-03T12:30:00Z")!
        #expect(Snooze.end(of: .until(minuteOfDay: 18 * 60), from: now, in: utc) == Timestamp.parse("2026-12-03T18:00:00Z"))
        #expect(Snooze.end(of: .until(minuteOfDay: 9 * 60), from: now, in: utc) == Timestamp.parse("2026-12-04T09:00:00Z"))
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        #expect(Snooze.end(of: .until(minuteOfDay: 18 * 60), from: now, in: berlin) == Timestamp.parse("2026-12-03T17:00:00Z"))
        // Across the spring change (2027-03-28 02:00 → 03:00 in Berlin): 18:00 is at +02:00.
        let spring = Timestamp.parse("2027-03-28T00:30:00Z")!
        #expect(Snooze.end(of: .until(minuteOfDay: 18 * 60), from: spring, in: berlin) == Timestamp.parse("2027-03-28T16:00:00Z"))
    }

    @Test func aNewAlarmThatRecoversWithinTheHoldPostsNothingOneThatStaysIsPostedAfterIt() async throws {
        let r = try Rig { $0.episodes.holdSeconds = 60 }
        defer { r.bot.remove() }
        #expect(await r.desk.take(body: r.body("blip", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.held))
        #expect(await r.desk.take(body: r.body("blip", "OK", minute: 0) .replacingOccurrences(of: ":00.000Z", with: ":30.000Z"),
                                  queueMessageID: "q-2") == .done(.quiet))
        #expect(await r.desk.take(body: r.body("stays", "ALARM", minute: 0), queueMessageID: "q-3") == .done(.held))
        r.bot.clock.advance(by: 30)
        await r.desk.releaseHeld()
        #expect(r.chat.seen.withLock { $0.posts.isEmpty }, "still within the hold")
        r.bot.clock.advance(by: 31)
        await r.desk.releaseHeld()
        await r.desk.releaseHeld()
        let posts = r.chat.seen.withLock { $0.posts }
        #expect(posts.map(\.notice.episode.alarm.name) == ["stays"], "posted once, after the hold; the blip never")
        #expect(try r.bot.store.alertDispositions() == [.quiet: 2, .posted: 1])
    }

    @Test func aFlappingAlarmIsUpdatedInPlaceNotPostedAgain() async throws {
        let r = try Rig { $0.episodes.flapChanges = 4; $0.episodes.flapWindow = 1800 }
        defer { r.bot.remove() }
        var results: [AlertDesk.Result] = []
        for (i, state) in ["ALARM", "OK", "ALARM", "OK", "ALARM", "OK", "ALARM"].enumerated() {
            r.bot.clock.advance(by: 120)
            results.append(await r.desk.take(body: r.body("flappy", state, minute: i * 2), queueMessageID: "q-\(i)"))
        }
        let seen = r.chat.seen.withLock { $0 }
        // ALARM, OK (closed), ALARM (a second post: 3 changes), OK, then ALARM makes it flapping:
        // the second message is reopened and updated, and stays the only new one.
        #expect(seen.posts.count == 2, "\(results)")
        #expect(seen.updates.last?.episode.flapping == true)
        #expect(seen.replies.filter { $0.change == .flapping }.count == 1, "said once in the thread")
        #expect(results.last == .done(.updated))
    }

    @Test func anAlarmNobodyAcknowledgedIsRecalledInItsThread() async throws {
        let r = try Rig { $0.reminderMinutes = 30 }
        defer { r.bot.remove() }
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.posted))
        r.bot.clock.advance(by: 29 * 60)
        await r.desk.remind()
        #expect(r.chat.seen.withLock { $0.replies.isEmpty })
        r.bot.clock.advance(by: 61)
        await r.desk.remind()
        await r.desk.remind()
        #expect(r.chat.seen.withLock { $0.replies.map(\.change) } == [.reminder], "once per interval")
        r.bot.clock.advance(by: 30 * 60)
        await r.desk.remind()
        #expect(r.chat.seen.withLock { $0.replies.count } == 2)
        // Acknowledged: no more reminders.
        let episode = try #require(try r.bot.store.openEpisode(key: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high"))
        #expect(try r.bot.store.acknowledge(episodeID: episode.id, by: Person(id: "U-bob", name: "bob"), at: r.bot.clock.now(), target: "x"))
        r.bot.clock.advance(by: 31 * 60)
        await r.desk.remind()
        #expect(r.chat.seen.withLock { $0.replies.count } == 2)
    }

    @Test func pastTheStormThresholdNewEpisodesJoinOneGroupedMessageAndNothingIsUnaccountedFor() async throws {
        let r = try Rig { $0.storm.posts = 3; $0.storm.windowSeconds = 60 }
        defer { r.bot.remove() }
        for i in 0..<20 {
            _ = await r.desk.take(body: r.body(i % 2 == 0 ? "api-\(i)" : "db-\(i)", "ALARM", minute: 0), queueMessageID: "q-\(i)")
        }
        await r.desk.showGroups()
        var seen = r.chat.seen.withLock { $0 }
        #expect(seen.posts.count == 3)
        #expect(seen.groups.count == 1)
        #expect(seen.groups.last?.count == 17)
        #expect(seen.groups.last?.names.map(\.0).sorted() == ["api-*", "db-*"])
        // One recovers: the group is shown again with the new count, not before 3 s.
        _ = await r.desk.take(body: r.body("api-10", "OK", minute: 1), queueMessageID: "q-ok")
        await r.desk.showGroups()
        #expect(r.chat.seen.withLock { $0.groups.count } == 1)
        r.bot.clock.advance(by: 4)
        await r.desk.showGroups()
        seen = r.chat.seen.withLock { $0 }
        #expect(seen.groups.count == 2 && seen.groups.last?.resolved == 1)
        let counts = try r.bot.store.alertDispositions()
        #expect(counts == [.posted: 3, .grouped: 17, .updated: 1])
        #expect(counts.values.reduce(0, +) == 21, "every alert accounted for")
        // The storm passes: a minute later, a new alarm is posted on its own again.
        r.bot.clock.advance(by: 61)
        #expect(await r.desk.take(body: r.body("calm", "ALARM", minute: 5), queueMessageID: "q-calm") == .done(.posted))
    }

    @Test func aSnoozeCanBeEndedEarlyAndWhatItHeldIsSummedUp() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        _ = await r.say("maintenance prod for 6 hours")
        _ = await r.say("snooze alarm cpu-high 2h")
        #expect(try r.bot.store.activeSnoozes().count == 2)
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 1), queueMessageID: "q-1") == .done(.suppressed))
        #expect(await r.say("unsnooze alarm web-9").first?.text.contains("Nothing like that is snoozed") == true)
        #expect(await r.say("don't unmute alarm cpu-high").first?.isRefusal == true)
        #expect(await r.say("unmute alarm cpu-high").first?.text.contains("Ended: cpu-high") == true)
        #expect(await r.say("end maintenance in prod").first?.text.contains("Ended: prod") == true)
        await r.desk.endSnoozes()
        let summaries = r.chat.seen.withLock { $0.summaries }
        #expect(summaries.count == 2 && summaries.contains { $0.0.label == "cpu-high" && $0.1 == 1 })
        #expect(try r.bot.store.auditEntries(limit: 20).filter { $0.action == "alert.unsnooze" }.count == 2)
        // It still fires: posted when its snooze ended; the next ALARM updates that card.
        #expect(r.chat.seen.withLock { $0.posts.count } == 1)
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 9), queueMessageID: "q-2") == .done(.updated))
    }

    /// An alarm's text may name people (a custom notification's "Page Jane if…"): it is sealed
    /// in the database file and its WAL, like every other personal datum.
    @Test func whatAnAlarmSaysIsEncryptedAtRest() async throws {
        let r = try Rig()
        defer { r.bot.remove() }
        let custom = #"{"version":"1.0","source":"custom","id":"c-1","content":{"title":"Orders down","description":"Page Jane Doe at once","nextSteps":["Call Jane Doe"]},"metadata":{"threadId":"orders-1"}}"#
        #expect(await r.desk.take(body: custom, queueMessageID: "q-1") == .done(.posted))
        #expect(await r.desk.take(body: r.body("cpu-high", "ALARM", minute: 1).replacingOccurrences(of: "Threshold Crossed", with: "Jane Doe's box"),
                                  queueMessageID: "q-2") == .done(.posted))
        #expect(try r.bot.store.openEpisode(key: "custom:orders-1")?.alarm.description == "Page Jane Doe at once")
        for file in ["/convops.db", "/convops.db-wal"] {
            let bytes = FileManager.default.contents(atPath: r.bot.directory + file) ?? Data()
            #expect(bytes.range(of: Data("Jane Doe".utf8)) == nil, "in \(file)")
        }
    }
}
