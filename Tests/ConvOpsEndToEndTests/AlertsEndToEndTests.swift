import ConvOpsAWS
import ConvOpsCore
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Alarms from a moto SQS queue into the Slack emulator, through the same services as
/// `convops run`: one message per episode, the fix button through the normal plan flow,
/// recovery edits the same message, redeliveries post nothing, broken messages are parked.
@Suite(.serialized) struct AlertsEndToEndTests {
    static let seed = """
        import boto3, sys
        sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="eu-west-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        sqs.create_queue(QueueName="convops-alarms")
        for i in range(4):
            sqs.create_queue(QueueName="convops-storm-%d" % i)
        """
    static let alerts = "C0ALERTS01"

    struct Rig {
        let rig: SlackRig
        let queue: String
        let queues: [String]
        let sqs: SQS
        let web1: String

        /// `storm`: read the four storm queues instead of the one alarm queue.
        static func start(storm: Bool = false) async throws -> Rig {
            let moto = try await SeededMoto.shared.get("AlertsEndToEndTests", also: AlertsEndToEndTests.seed)
            let queue = moto.endpoint + "/123456789012/convops-alarms"
            let queues = storm ? (0..<4).map { moto.endpoint + "/123456789012/convops-storm-\($0)" } : [queue]
            let urls = queues.map { "\"\($0)\"" }.joined(separator: ", ")
            let config = """
                {"mode": "open", "alerts": {"queue_urls": [\(urls)], "default_channels": ["\(AlertsEndToEndTests.alerts)"], "poll_seconds": 1}}
                """
            let rig = try await SlackRig.start(moto: moto, config: config)
            let instances = try await EC2(client: rig.runtime.aws).describeInstances(filters: [(name: "tag:Name", values: ["web-1"])])
            let web1 = try #require(instances.first?.id)
            return Rig(rig: rig, queue: queue, queues: queues, sqs: SQS(client: rig.runtime.aws), web1: web1)
        }

        /// A CloudWatch notification for an alarm on an EC2 instance, in SNS's envelope, from
        /// the real fixture with its fields set.
        func notification(alarm: String, state: String, at time: String, instance: String, messageID: String = UUID().uuidString) throws -> String {
            var inner = try #require(JSON.parse(try AlarmFixtures.text("raw_metric_alarm.json")))
            inner = inner.setting("AlarmName", .string(alarm)).setting("NewStateValue", .string(state))
                .setting("StateChangeTime", .string(time)).setting("AWSAccountId", "123456789012")
                .setting("AlarmArn", .string("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:\(alarm)"))
                .setting("AlarmDescription", "CPU high. Runbook: https://wiki.example.com/runbooks/web")
                .setting("NewStateReason", .string(state == "OK" ? "Threshold Crossed: back under 80" : "Threshold Crossed: 1 datapoint [97.0] was greater than the threshold (80.0)."))
            let trigger = try #require(inner["Trigger"]).setting("Namespace", "AWS/EC2").setting("MetricName", "CPUUtilization")
                .setting("Threshold", 80).setting("Dimensions", [["value": .string(instance), "name": "InstanceId"]])
            inner = inner.setting("Trigger", trigger)
            let envelope = try #require(JSON.parse(try AlarmFixtures.text("sns_envelope_metric_alarm.json")))
            return envelope.setting("Message", .string(inner.text)).setting("MessageId", .string(messageID)).text
        }

        func send(_ body: String) async throws { try await sqs.sendMessage(queueURL: queue, body: body) }

        /// Alert messages in the alerts channel (thread replies and plan cards left out).
        var posts: [SlackEmulator.Message] {
            rig.emulator.messages.filter { m in
                m.channel == AlertsEndToEndTests.alerts && m.threadTS == nil && (m.blocks.array ?? []).contains { $0["type"]?.string == "header" }
            }
        }

        func replies(to ts: String) -> [SlackEmulator.Message] { rig.emulator.messages.filter { $0.threadTS == ts } }

        func button(_ action: BlockKit.AlertAction, on message: SlackEmulator.Message) -> String? {
            for block in message.blocks.array ?? [] where block["type"]?.string == "actions" {
                for element in block["elements"]?.array ?? [] where element["action_id"]?.string == action.rawValue {
                    return element["value"]?.string
                }
            }
            return nil
        }
    }

    @Test func alarmPostsWithButtonsRestartRunsThePlanAndOKUpdatesTheSameMessage() async throws {
        let r = try await Rig.start()
        defer { Task { await r.rig.stop() } }
        let alarm = "web-1-cpu-high"
        let first = try r.notification(alarm: alarm, state: "ALARM", at: "2026-12-03T10:00:00.000+0000", instance: r.web1, messageID: "m-1")
        try await r.send(first)
        try await r.rig.emulator.wait("the alert posted with its buttons") { r.posts.contains { r.button(.fix, on: $0) != nil } }
        let post = try #require(r.posts.first)
        let text = post.blocks.text
        #expect(text.contains("\(alarm) is in ALARM"))
        #expect(text.contains("web-1, EC2 instance in prod/eu-west-1"), "\(text)")
        #expect(text.contains("AWS/EC2 CPUUtilization ≥ 80"))
        #expect(text.contains("<https://wiki.example.com/runbooks/web|Runbook>"))
        #expect(text.contains("#alarmsV2:alarm/\(alarm)"))
        let episode = try #require(r.button(.acknowledge, on: post))
        #expect(r.button(.fix, on: post) == episode)

        // The same notification again (SNS redelivers): recognised, nothing posted.
        try await r.send(first)
        // Acknowledge: recorded and shown on the card, the button gone.
        _ = try r.rig.emulator.click(BlockKit.AlertAction.acknowledge.rawValue, value: episode, user: "U222", channel: Self.alerts, messageTS: post.ts)
        try await r.rig.emulator.wait("the acknowledgement shown") { r.rig.message(post.ts)?.blocks.text.contains("Acknowledged by Bob") == true }
        #expect(r.button(.acknowledge, on: r.rig.message(post.ts)!) == nil)
        #expect(try r.rig.store().auditEntries(limit: 20).contains { $0.action == "alert.acknowledge" && $0.decision == .acknowledged })

        // Restart web-1 from the alert: the normal plan, confirm, reboot; the alert is in the audit.
        _ = try r.rig.emulator.click(BlockKit.AlertAction.fix.rawValue, value: episode, user: "U111", channel: Self.alerts, messageTS: post.ts)
        let card = try await r.rig.waitForCard(.confirm, in: Self.alerts)
        _ = try r.rig.emulator.click("convops.confirm", value: card.value, user: "U111", channel: Self.alerts, messageTS: card.ts)
        try await r.rig.emulator.wait("the reboot done") { r.rig.message(card.ts)?.text.contains("Done:") == true }
        let audit = try r.rig.store().auditEntries(requestID: card.value)
        #expect(audit.contains { $0.action == "alert.fix" && $0.outcome == "alert episode \(episode)" })
        #expect(audit.contains { $0.decision == .executed })

        // OK: the same message, now resolved, without the fix button; a line in its thread.
        try await r.send(try r.notification(alarm: alarm, state: "OK", at: "2026-12-03T10:12:00.000+0000", instance: r.web1))
        try await r.rig.emulator.wait("the message resolved") { r.rig.message(post.ts)?.blocks.text.contains("resolved after") == true }
        #expect(r.button(.fix, on: r.rig.message(post.ts)!) == nil)
        try await r.rig.emulator.wait("the thread line") { r.replies(to: post.ts).contains { $0.text.contains("OK after") } }
        #expect(r.posts.count == 1, "one message for the episode: \(r.posts.map(\.text))")
        // Settled once the thread line is out: wait for the store to say so.
        try await r.rig.emulator.wait("both alerts settled") {
            (try? r.rig.store().alertDispositions()) == [.posted: 1, .updated: 1]
        }
    }

    @Test func aBrokenMessageIsParkedAndTheQueueKeepsFlowing() async throws {
        let r = try await Rig.start()
        defer { Task { await r.rig.stop() } }
        try await r.send("this is not an alarm")
        try await r.send(#"{"Type":"Notification","MessageId":"m-x","TopicArn":"t","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"PANIC\"}"}"#)
        try await r.send(try r.notification(alarm: "db-1-storage", state: "ALARM", at: "2026-12-03T11:00:00.000+0000", instance: r.web1))
        try await r.rig.emulator.wait("the good one posted") { r.posts.contains { $0.text.contains("db-1-storage") } }
        try await r.rig.emulator.wait("both parked") { ((try? r.rig.store().parkedAlerts().count) ?? 0) == 2 }
        let parked = try r.rig.store().parkedAlerts()
        #expect(parked.contains { $0.reason.contains("not a JSON object") })
        #expect(parked.contains { $0.reason.contains("NewStateValue 'PANIC'") })
        #expect(try r.rig.store().parkedBody(id: parked[0].id) != nil)
    }

    @Test func snoozeOneHourFromTheAlertHoldsBackTheNextAlarmOnThatResource() async throws {
        let r = try await Rig.start()
        defer { Task { await r.rig.stop() } }
        try await r.send(try r.notification(alarm: "web-1-memory", state: "ALARM", at: "2026-12-03T12:00:00.000+0000", instance: r.web1))
        try await r.rig.emulator.wait("the alert posted") { r.posts.contains { r.button(.snooze, on: $0) != nil } }
        let post = try #require(r.posts.first)
        let episode = try #require(r.button(.snooze, on: post))
        _ = try r.rig.emulator.click(BlockKit.AlertAction.snooze.rawValue, value: episode, user: "U111", channel: Self.alerts, messageTS: post.ts)
        try await r.rig.emulator.wait("the snooze stored") { ((try? r.rig.store().activeSnoozes().count) ?? 0) == 1 }
        let snooze = try #require(try r.rig.store().activeSnoozes().first)
        #expect(snooze.scope == .resource && snooze.target == r.web1 && snooze.label == "web-1")
        #expect(abs(snooze.until.timeIntervalSince(snooze.createdAt) - 3600) < 1)
        // Another alarm on web-1: held back, kept; one on another resource still posts.
        try await r.send(try r.notification(alarm: "web-1-disk", state: "ALARM", at: "2026-12-03T12:05:00.000+0000", instance: r.web1))
        try await r.send(try r.notification(alarm: "other-cpu", state: "ALARM", at: "2026-12-03T12:05:00.000+0000", instance: "i-0000000000000000f"))
        try await r.rig.emulator.wait("the other alarm posted") { r.posts.contains { $0.text.contains("other-cpu") } }
        try await r.rig.emulator.wait("the held one stored") { ((try? r.rig.store().alertDispositions()[.suppressed]) ?? 0) == 1 }
        #expect(!r.posts.contains { $0.text.contains("web-1-disk") })
        // Typed in Slack: what is snoozed, in the person's words.
        _ = try r.rig.emulator.slashCommand("what's snoozed?", user: "U111", channel: Self.alerts)
        try await r.rig.emulator.wait("the snoozes listed") {
            r.rig.emulator.ackFrames.contains { $0.contains("web-1 (resource) until") && $0.contains("1 alert(s) held") }
                || r.rig.emulator.ephemerals.contains { $0.text.contains("web-1 (resource) until") }
        }
    }

    /// 10,000 messages through moto SQS at once: distinct alarms on a few resources, SNS
    /// redeliveries and broken ones. Every one is accounted for in the store, the channel gets
    /// its first posts and then one grouped message, and no post breaks Slack's pace.
    @Test func aStormOfTenThousandIsAccountedForAndKeepsToSlacksPace() async throws {
        let r = try await Rig.start(storm: true)
        defer { Task { await r.rig.stop() } }
        r.rig.emulator.enforcePostRate(perSecond: 1)
        let instances = [r.web1, "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3"]
        var bodies: [String] = []
        for i in 0..<9_800 {
            let name = ["api", "db", "web", "queue"][i % 4] + "-storm-\(i)"
            bodies.append(try r.notification(alarm: name, state: "ALARM", at: "2026-12-03T13:00:00.000+0000",
                                             instance: instances[i % instances.count], messageID: "storm-\(i)"))
        }
        for i in 0..<100 { bodies.append(bodies[i * 7]) }                         // SNS delivered these twice
        for i in 0..<100 { bodies.append("{\"broken\": \(i)") }                    // and these are not JSON
        bodies.shuffle()
        let started = ContinuousClock.now
        let store = try r.rig.store()
        func accounted() -> Int {
            let settled = ((try? store.alertDispositions()) ?? [:]).filter { $0.key != .pending }.values.reduce(0, +)
            return settled + ((try? store.parkedAlerts(limit: 1_000).count) ?? 0)
        }
        // Into four queues, as fast as they drain: moto finds a message to delete by scanning
        // its whole queue, so it is kept under about 250 deep per queue (SNS would spread
        // 10,000 alarms over a minute or more anyway). SNS's redeliveries make no row.
        var seen = Set<String>()
        var rows = 0
        for (n, chunk) in stride(from: 0, to: bodies.count, by: 100).map({ Array(bodies[$0..<min(bodies.count, $0 + 100)]) }).enumerated() {
            while rows - accounted() > 1_000 { try await Task.sleep(for: .milliseconds(50)) }
            try await r.sqs.sendMessages(queueURL: r.queues[n % r.queues.count], bodies: chunk)
            for body in chunk where seen.insert(body).inserted { rows += 1 }
        }
        #expect(rows == 9_900)
        try await r.rig.emulator.wait("every message accounted for", timeout: .seconds(900)) {
            let settled = ((try? store.alertDispositions()) ?? [:]).filter { $0.key != .pending }.values.reduce(0, +)
            return settled == 9_800 && ((try? store.parkedAlerts(limit: 1_000).count) ?? 0) == 100
        }
        let took = ContinuousClock.now - started
        let counts = try store.alertDispositions()
        #expect(counts[.pending] == nil)
        #expect((counts[.posted] ?? 0) + (counts[.grouped] ?? 0) == 9_800, "\(counts)")
        #expect((counts[.posted] ?? 0) <= 10, "past ten posts in a minute the channel is grouped: \(counts)")
        // The grouped message catches up within a few seconds, and counts all of them.
        try await r.rig.emulator.wait("the group shown with every grouped alarm") {
            r.posts.contains { $0.text.contains("\(counts[.grouped] ?? 0) alarms") }
        }
        #expect(r.rig.emulator.postRateViolations == 0, "a post broke Slack's pace for the channel")
        #expect(r.posts.count <= 11)
        print("storm: 10,000 messages accounted for in \(took)")
    }
}
