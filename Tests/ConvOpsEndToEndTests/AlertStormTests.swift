import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation
import Testing

/// The shipped `convops run` (the release binary in CI's second pass) through a storm of 10,000
/// messages in moto SQS, killed with SIGKILL part way and started again on the same database:
/// every message is accounted for, no alert message is posted twice, and no post breaks the
/// emulator's one-per-second pace for the channel.
@Suite struct AlertStormTests {
    static let seed = """
        import boto3, sys
        sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="eu-west-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        for i in range(4):
            sqs.create_queue(QueueName="convops-storm-%d" % i, Attributes={"VisibilityTimeout": "10"})
        """
    static let channel = "C0STORM001"

    /// A CloudWatch notification in SNS's envelope.
    static func notification(_ alarm: String, instance: String, messageID: String) -> String {
        let inner: JSON = ["AlarmName": .string(alarm), "NewStateValue": "ALARM", "StateChangeTime": "2026-12-03T13:00:00.000+0000",
                           "AlarmArn": .string("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:\(alarm)"), "AWSAccountId": "123456789012",
                           "NewStateReason": "Threshold Crossed", "Region": "EU (Ireland)",
                           "Trigger": ["MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80,
                                       "ComparisonOperator": "GreaterThanThreshold",
                                       "Dimensions": [["value": .string(instance), "name": "InstanceId"]]]]
        let envelope: JSON = ["Type": "Notification", "MessageId": .string(messageID), "TopicArn": "arn:aws:sns:eu-west-1:123456789012:convops-alarms",
                              "Subject": .string("ALARM: \"\(alarm)\" in EU (Ireland)"), "Message": .string(inner.text),
                              "Timestamp": "2026-12-03T13:00:00.100Z", "SignatureVersion": "1"]
        return envelope.text
    }

    @Test func tenThousandKilledMidStormNothingLostNothingPostedTwice() async throws {
        let moto = try await SeededMoto.shared.get("AlertStormTests", also: Self.seed)
        let queues = (0..<4).map { moto.endpoint + "/123456789012/convops-storm-\($0)" }
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U111", name: "Alice")
        emulator.enforcePostRate(perSecond: 1)
        let urls = queues.map { "\"\($0)\"" }.joined(separator: ", ")
        let scenario = try Scenario(moto: moto, config: """
            {"mode": "open", "alerts": {"queue_urls": [\(urls)], "default_channels": ["\(Self.channel)"], "poll_seconds": 1}}
            """)
        defer { scenario.remove() }
        var env = scenario.environment.merging(["SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken,
                                                "SLACK_BOT_TOKEN": SlackEmulator.botToken]) { $1 }
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        func start() async throws -> RunningProcess {
            let p = try RunningProcess(convopsBinary, ["run"], environment: env, currentDirectory: repositoryRoot)
            try await emulator.wait("two sockets from convops run", timeout: .seconds(60)) { emulator.openSockets.count == 2 }
            return p
        }
        /// What the store has taken in: settled alerts and parked messages (read with sqlite3, as
        /// an operator would, while the bot writes).
        func accounted() async throws -> (settled: Int, parked: Int, pending: Int) {
            let sql = "SELECT (SELECT count(*) FROM alerts WHERE disposition != 'pending'), (SELECT count(*) FROM parked_alerts), "
                + "(SELECT count(*) FROM alerts WHERE disposition = 'pending');"
            let r = try await Subprocess.run("/usr/bin/env", ["sqlite3", "-readonly", scenario.database, sql])
            let n = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap { Int($0) }
            guard n.count == 3 else { return (0, 0, 0) }
            return (n[0], n[1], n[2])
        }

        let instances = ["i-0aaaaaaaaaaaaaaa0", "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3"]
        var bodies = (0..<9_800).map { i in
            Self.notification(["api", "db", "web", "queue"][i % 4] + "-storm-\(i)", instance: instances[i % 4], messageID: "storm-\(i)")
        }
        for i in 0..<100 { bodies.append(bodies[i * 7]) }          // SNS delivered these twice
        for i in 0..<100 { bodies.append("{\"broken\": \(i)") }    // and these are not JSON
        bodies.shuffle()

        var process = try await start()
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let sqs = SQS(client: AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                                        credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                                        http: http, logger: .quiet))
        let started = ContinuousClock.now
        var sent = Set<String>()
        var killed = false
        // Fed as fast as the queues drain (moto scans a whole queue to delete one message, so
        // each is kept a few hundred deep; SNS spreads a storm over a minute or more anyway).
        for (n, chunk) in stride(from: 0, to: bodies.count, by: 100).map({ Array(bodies[$0..<min(bodies.count, $0 + 100)]) }).enumerated() {
            while true {
                let a = try await accounted()
                if !killed, a.settled + a.parked >= 3_000 {
                    // Mid-storm: no goodbye, no drain.
                    process.signal(SIGKILL)
                    _ = await process.wait()
                    killed = true
                    try await emulator.wait("the killed process's sockets gone") { emulator.openSockets.isEmpty }
                    process = try await start()
                }
                if sent.count - (a.settled + a.parked) <= 800 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await sqs.sendMessages(queueURL: queues[n % queues.count], bodies: chunk)
            for body in chunk { sent.insert(body) }
        }
        #expect(sent.count == 9_900)
        try await emulator.wait("every message accounted for", timeout: .seconds(900)) {
            // A Task cannot run here (the condition is synchronous): read the file directly.
            let r = try? Subprocess.runBlocking("/usr/bin/env", ["sqlite3", "-readonly", scenario.database,
                "SELECT (SELECT count(*) FROM alerts WHERE disposition NOT IN ('pending')) + (SELECT count(*) FROM parked_alerts);"])
            return Int(r?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") == 9_900
        }
        let took = ContinuousClock.now - started
        #expect(killed)
        let final = try await accounted()
        #expect(final.settled == 9_800 && final.parked == 100 && final.pending == 0, "\(final)")

        // No alert message twice: each message ConvOps posted names its episode or group in its metadata.
        try await Task.sleep(for: .seconds(4))
        let posted = emulator.messages.filter { $0.channel == Self.channel && $0.threadTS == nil }
        let ids = posted.compactMap { $0.versions.first?["metadata"]?["event_payload"]?["id"]?.string }
        #expect(ids.count == posted.count)
        #expect(Set(ids).count == ids.count, "posted twice: \(Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys)")
        #expect(posted.count <= 22, "ten posts and a group, at most twice over across the restart: \(posted.count)")
        #expect(emulator.postRateViolations == 0, "a post broke Slack's pace for the channel")
        process.signal(SIGTERM)
        let stopped = await process.wait(timeout: .seconds(60))
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1500))")
        print("storm: 10,000 messages through convops run, killed once, accounted for in \(took)")
    }
}
