import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
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
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="eu-west-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "pay-1"},
                                                                                     {"Key": "Team", "Value": "payments"},
                                                                                     {"Key": "Owner", "Value": "jane@example.com"}]}])
        """
    static let payments = "C0PAYMENTS"
    static let alerts = "C0ALERTS01"

    struct Rig {
        let rig: SlackRig
        let queue: String
        let queues: [String]
        let sqs: SQS
        let web1: String
        let metricsPort: Int

        static func start(routes: String = "[]") async throws -> Rig {
            let moto = try await SeededMoto.shared.get("AlertsEndToEndTests", also: AlertsEndToEndTests.seed)
            let queue = moto.endpoint + "/123456789012/convops-alarms"
            let queues = [queue]
            let urls = queues.map { "\"\($0)\"" }.joined(separator: ", ")
            let config = """
                {"mode": "open", "alerts": {"queue_urls": [\(urls)], "default_channels": ["\(AlertsEndToEndTests.alerts)"], "poll_seconds": 1, "routes": \(routes)}}
                """
            let metricsPort = try FreePort.pick()
            let rig = try await SlackRig.start(moto: moto, config: config, extra: ["CONVOPS_METRICS_PORT": String(metricsPort)])
            let instances = try await EC2(client: rig.runtime.aws).describeInstances(filters: [(name: "tag:Name", values: ["web-1"])])
            let web1 = try #require(instances.first?.id)
            return Rig(rig: rig, queue: queue, queues: queues, sqs: SQS(client: rig.runtime.aws), web1: web1, metricsPort: metricsPort)
        }

        /// A CloudWatch notification for an alarm on an EC2 instance, in SNS's envelope, from
        /// the real fixture with its fields set.
        func notification(alarm: String, state: String, at time: String, instance: String, messageID: String = UUID().uuidString,
                          account: String = "123456789012") throws -> String {
            var inner = try #require(JSON.parse(try AlarmFixtures.text("raw_metric_alarm.json")))
            inner = inner.setting("AlarmName", .string(alarm)).setting("NewStateValue", .string(state))
                .setting("StateChangeTime", .string(time)).setting("AWSAccountId", .string(account))
                .setting("AlarmArn", .string("arn:aws:cloudwatch:eu-west-1:\(account):alarm:\(alarm)"))
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

        // The usage metrics, scraped as Prometheus would: counts, and not one identifier.
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        // Counted as each alert is done with, a moment after its row settles: scraped until all three are in.
        var scraped = try await http.execute(HTTPRequest(method: .get, url: "http://127.0.0.1:\(r.metricsPort)/metrics"))
        for _ in 0..<50 where !scraped.bodyText.contains("convops_alerts_received_total 3") {
            try await Task.sleep(for: .milliseconds(100))
            scraped = try await http.execute(HTTPRequest(method: .get, url: "http://127.0.0.1:\(r.metricsPort)/metrics"))
        }
        #expect(scraped.status == 200)
        let metrics = scraped.bodyText
        #expect(metrics.contains("convops_alerts_received_total 3"), "\(metrics)")
        #expect(metrics.contains(#"convops_alerts_total{outcome="posted"} 1"#))
        #expect(metrics.contains(#"convops_alerts_total{outcome="duplicate"} 1"#))
        #expect(metrics.contains(#"convops_requests_total{intent="restart",outcome="planned"} 1"#))
        #expect(metrics.contains("convops_alert_seconds_bucket"))
        for identifier in [Self.alerts, "U111", "U222", "Alice", "Bob", "123456789012", "web-1", r.web1, "eu-west-1", "arn:", alarm, "ep-"] {
            #expect(!metrics.contains(identifier), "\(identifier) in /metrics")
        }
        #expect(try await http.execute(HTTPRequest(method: .get, url: "http://127.0.0.1:\(r.metricsPort)/")).status == 404)
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
        #expect(snooze.scope == .resource && snooze.target == "eu-west-1||\(r.web1)" && snooze.label == "web-1")
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

    /// A tag of the alarm's resource picks the channel; an alarm from an account that is not
    /// ours (a shared topic) is shown, but never about a resource of ours and with no fix.
    @Test func aResourceTagRoutesTheAlertAndAnotherAccountsAlarmGetsNoFix() async throws {
        let r = try await Rig.start(routes: #"[{"match": {"resource_tags": {"team": "payments"}}, "channels": ["\#(Self.payments)"]}]"#)
        defer { Task { await r.rig.stop() } }
        let pay1 = try #require(try await EC2(client: r.rig.runtime.aws).describeInstances(filters: [(name: "tag:Name", values: ["pay-1"])]).first?.id)
        try await r.send(try r.notification(alarm: "pay-1-cpu", state: "ALARM", at: "2026-12-03T13:00:00.000+0000", instance: pay1))
        try await r.send(try r.notification(alarm: "theirs-cpu", state: "ALARM", at: "2026-12-03T13:00:00.000+0000", instance: r.web1,
                                            account: "999999999999"))
        @Sendable func top(_ channel: String) -> [SlackEmulator.Message] {
            r.rig.emulator.messages.filter { $0.channel == channel && $0.threadTS == nil && $0.blocks.text.contains("is in ALARM") }
        }
        // Posted first, the buttons added once the message is recorded: wait for them.
        try await r.rig.emulator.wait("both posted with their buttons") {
            top(Self.payments).count == 1 && top(Self.alerts).count == 1
                && (top(Self.payments) + top(Self.alerts)).allSatisfy { r.button(.snooze, on: $0) != nil }
        }
        let pay = try #require(top(Self.payments).first)
        #expect(pay.blocks.text.contains("pay-1-cpu") && pay.blocks.text.contains("pay-1, EC2 instance"), "\(pay.blocks.text)")
        #expect(r.button(.fix, on: pay) != nil)
        let theirs = try #require(top(Self.alerts).first)
        #expect(theirs.blocks.text.contains("theirs-cpu"))
        #expect(!theirs.blocks.text.contains("web-1"), "resolved in our account though the alarm is another's: \(theirs.blocks.text)")
        #expect(r.button(.fix, on: theirs) == nil)
        #expect(r.button(.acknowledge, on: theirs) != nil, "\(theirs.blocks.text)")
        // Only the tags routes name travel with the resource: the owner's address is not stored.
        let path = try r.rig.store().path
        for file in [path, path + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            #expect(bytes.range(of: Data("jane@example.com".utf8)) == nil, "the Owner tag in \(file)")
        }
    }
}
