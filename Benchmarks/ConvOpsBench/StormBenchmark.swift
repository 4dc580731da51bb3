import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation

/// The 10,000-alert storm end to end: the real `convops run` (release build, a process of its
/// own) reading four moto SQS queues, posting to the Slack emulator, which enforces one post per
/// channel per second. Reports the time until every message is accounted for in the store, the
/// posts and updates made, CPU per alert and peak RSS of the convops process.
enum StormBenchmark {
    static func run(repository: String) async throws -> [String: Any] {
        let env = ProcessInfo.processInfo.environment
        let binary = env["BENCH_CONVOPS"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("convops").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSupportError("build convops first: swift build -c release --product convops (looked for \(binary))")
        }
        let total = Int(env["BENCH_ALERTS"] ?? "") ?? 10_000
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .init(label: "bench"))
        let client = AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                               http: http, logger: .init(label: "bench"))
        var queues: [String] = []
        for i in 0..<4 {
            let answer = try await client.json(.sqs, action: "CreateQueue",
                                               body: ["QueueName": "bench-storm-\(i)", "Attributes": ["VisibilityTimeout": "10"]])
            queues.append(answer["QueueUrl"] as? String ?? moto.endpoint + "/123456789012/bench-storm-\(i)")
        }
        let sqs = SQS(client: client)
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.enforcePostRate(perSecond: 1)
        let dir = try makeTemporaryDirectory("bench-storm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let urls = queues.map { "\"\($0)\"" }.joined(separator: ", ")
        try #"{"mode": "open", "alerts": {"queue_urls": [\#(urls)], "default_channels": ["C0BENCH001"], "poll_seconds": 1}}"#
            .write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
        let environment: [String: String] = [
            "PATH": env["PATH"] ?? "/usr/bin:/bin", "HOME": env["HOME"] ?? "/root", "CONVOPS_CONFIG": dir + "/convops.json",
            "CONVOPS_DB": dir + "/convops.db", "CONVOPS_HOME": repository,
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken, "SLACK_BOT_TOKEN": SlackEmulator.botToken,
        ]
        let process = try RunningProcess(binary, ["run"], environment: environment, currentDirectory: repository)
        defer {
            process.signal(SIGTERM)
        }
        try await emulator.wait("two sockets", timeout: .seconds(60)) { emulator.openSockets.count == 2 }
        try await Task.sleep(for: .seconds(1))
        let idleRSS = SlackBenchmark.rss(process.pid)
        let cpuBefore = cpuTicks(process.pid)

        let bodies = (0..<total).map { i in
            notification(["api", "db", "web", "queue"][i % 4] + "-bench-\(i)", instance: "i-0bbbbbbbbbbbbbbb\(i % 4)", messageID: "bench-\(i)")
        }
        let database = dir + "/convops.db"
        let started = ContinuousClock.now
        var sent = 0
        var peakSeen = idleRSS
        for (n, start) in stride(from: 0, to: bodies.count, by: 100).enumerated() {
            // Moto scans a whole queue to delete one message: keep each a few hundred deep.
            while sent - accounted(database) > 800 { try await Task.sleep(for: .milliseconds(100)) }
            try await sqs.sendMessages(queueURL: queues[n % queues.count], bodies: Array(bodies[start..<min(bodies.count, start + 100)]))
            sent += min(100, bodies.count - start)
            peakSeen = max(peakSeen, SlackBenchmark.rss(process.pid))
        }
        while accounted(database) < total {
            guard ContinuousClock.now - started < .seconds(1800) else { throw TestSupportError("the storm was not accounted for in 30 min") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let took = ContinuousClock.now - started
        let cpu = cpuTicks(process.pid) - cpuBefore
        let peak = max(peakSeen, peakRSS(process.pid))
        try await Task.sleep(for: .seconds(4)) // the grouped message catches up
        let posts = emulator.messages.filter { $0.channel == "C0BENCH001" && $0.threadTS == nil }.count
        let updates = emulator.calls.filter { $0.method == "chat.update" }.count
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return [
            "benchmark": "alert storm through convops run (release), 4 moto SQS queues, Slack emulator at 1 post/s/channel",
            "alerts": total,
            "seconds_until_all_accounted": (seconds * 10).rounded() / 10,
            "alerts_per_second": (Double(total) / seconds).rounded(),
            "posts": posts,
            "chat_update_calls": updates,
            "post_rate_violations": emulator.postRateViolations,
            "cpu_ms_per_alert": ((Double(cpu) / ticks * 1000 / Double(total)) * 1000).rounded() / 1000,
            "rss_mb": ["idle": Double(idleRSS) / 1024, "peak": Double(peak) / 1024],
        ]
    }

    /// Settled alerts plus parked messages, read from the database as an operator would.
    static func accounted(_ database: String) -> Int {
        let r = try? Subprocess.runBlocking("/usr/bin/env", ["sqlite3", "-readonly", database,
            "SELECT (SELECT count(*) FROM alerts WHERE disposition != 'pending') + (SELECT count(*) FROM parked_alerts);"])
        return Int(r?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }

    /// utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15).
    static func cpuTicks(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
        guard fields.count > 12 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// VmHWM: the most resident memory the process ever had, in KiB.
    static func peakRSS(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    static func notification(_ alarm: String, instance: String, messageID: String) -> String {
        let inner: JSON = ["AlarmName": .string(alarm), "NewStateValue": "ALARM", "StateChangeTime": "2026-12-03T13:00:00.000+0000",
                           "AlarmArn": .string("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:\(alarm)"), "AWSAccountId": "123456789012",
                           "NewStateReason": "Threshold Crossed", "Region": "EU (Ireland)",
                           "Trigger": ["MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80,
                                       "Dimensions": [["value": .string(instance), "name": "InstanceId"]]]]
        let envelope: JSON = ["Type": "Notification", "MessageId": .string(messageID), "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms",
                              "Message": .string(inner.text)]
        return envelope.text
    }
}
