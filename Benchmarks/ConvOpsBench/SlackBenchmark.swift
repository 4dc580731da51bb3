import ConvOpsTestSupport
import Foundation

/// The real `convops run` (release build, a process of its own) against the Slack emulator and
/// moto on loopback: start → first envelope acknowledged, ack latency in bursts of 1,000
/// envelopes a second, slash command → plan posted, and the process's RSS idle and under load.
enum SlackBenchmark {
    static func run(repository: String) async throws -> [String: Any] {
        let binary = ProcessInfo.processInfo.environment["BENCH_CONVOPS"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("convops").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSupportError("build convops first: swift build -c release --product convops (looked for \(binary))")
        }
        let env = ProcessInfo.processInfo.environment
        let bursts = Int(env["BENCH_BURSTS"] ?? "") ?? 5
        let perBurst = Int(env["BENCH_BURST_SIZE"] ?? "") ?? 1000
        let slashes = Int(env["BENCH_SLASH"] ?? "") ?? 200

        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: repository)
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U111", name: "Bench")
        let dir = try makeTemporaryDirectory("bench-slack")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment: [String: String] = [
            "PATH": env["PATH"] ?? "/usr/bin:/bin", "HOME": env["HOME"] ?? "/root",
            "CONVOPS_DB": dir + "/convops.db", "CONVOPS_HOME": repository,
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken, "SLACK_BOT_TOKEN": SlackEmulator.botToken,
        ]

        // Start → the first envelope acknowledged (hello received, socket ready to serve).
        var runEnvironment = environment
        if env["BENCH_DEBUG"] == "1" { runEnvironment["CONVOPS_LOG_LEVEL"] = "debug" }
        let process = try RunningProcess(binary, ["run"], environment: runEnvironment, currentDirectory: repository)
        do {
            return try await measure(process, emulator, bursts: bursts, perBurst: perBurst, slashes: slashes)
        } catch {
            process.signal(SIGTERM)
            let result = await process.wait(timeout: .seconds(5))
            FileHandle.standardError.write(Data("convops run said:\n\(result.stderr.suffix(4000))\n".utf8))
            throw error
        }
    }

    static func measure(_ process: RunningProcess, _ emulator: SlackEmulator, bursts: Int, perBurst: Int,
                        slashes: Int) async throws -> [String: Any] {
        try await emulator.wait("a socket", timeout: .seconds(30)) { !emulator.openSockets.isEmpty }
        let helloAt = ContinuousClock.now - process.started
        var firstAck: Duration = .zero
        while true {
            let id = try emulator.slashCommand("status web-1", user: "U111", channel: "CBENCH0")
            let sent = ContinuousClock.now
            try await emulator.wait("ack", timeout: .seconds(60)) { emulator.acked(id) }
            firstAck = sent - process.started + (ContinuousClock.now - sent)
            break
        }
        try await emulator.wait("two sockets", timeout: .seconds(30)) { emulator.openSockets.count == 2 }
        try await Task.sleep(for: .seconds(2))
        let idleRSS = rss(process.pid)

        // Bursts: 1,000 envelopes spread over one second, each a slash command the bot answers.
        emulator.resetLatencies()
        var peakRSS = idleRSS
        for _ in 0..<bursts {
            let start = ContinuousClock.now
            for i in 0..<perBurst {
                let due = start + .microseconds(Int64(i) * 1_000_000 / Int64(perBurst))
                let wait = due - ContinuousClock.now
                if wait > .zero { try await Task.sleep(for: wait) }
                _ = try emulator.slashCommand("help", user: "U111", channel: "CBENCH1")
                if i % 250 == 0 { peakRSS = max(peakRSS, rss(process.pid)) }
            }
            peakRSS = max(peakRSS, rss(process.pid))
            try await emulator.wait("the burst acknowledged", timeout: .seconds(30)) { emulator.unacked.isEmpty }
        }
        let latencies = emulator.ackLatencies.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }.sorted()
        try await emulator.wait("the burst's answers", timeout: .seconds(120)) {
            emulator.calls("response_url").count >= bursts * perBurst
        }
        peakRSS = max(peakRSS, rss(process.pid))

        // Slash command → plan posted, one at a time (resolution asks moto each time).
        var planTimes: [Double] = []
        for i in 0..<slashes {
            let before = emulator.messages.count
            let sent = ContinuousClock.now
            _ = try emulator.slashCommand(i % 2 == 0 ? "restart web-1" : "restart web-2", user: "U111", channel: "CBENCH2")
            try await emulator.wait("the plan", timeout: .seconds(10)) { emulator.messages.count > before }
            let d = emulator.messages[before].postedAt - sent
            planTimes.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        planTimes.sort()

        process.signal(SIGTERM)
        let exit = await process.wait()
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        func at(_ a: [Double], _ p: Double) -> Double { a.isEmpty ? 0 : a[min(a.count - 1, max(0, Int((Double(a.count) * p).rounded(.up)) - 1))] }
        return [
            "benchmark": "slack",
            "process": "convops run (release), its own process; emulator and moto in others on loopback",
            "start_to_first_socket_ms": ms(helloAt),
            "start_to_first_ack_ms": ms(firstAck),
            "bursts": bursts, "envelopes_per_burst": perBurst,
            "ack_latency_us": ["p50": at(latencies, 0.5), "p99": at(latencies, 0.99), "p999": at(latencies, 0.999),
                               "max": latencies.last ?? 0, "count": latencies.count],
            "slash_to_plan_ms": ["p50": at(planTimes, 0.5), "p99": at(planTimes, 0.99), "count": planTimes.count],
            "rss_mb": ["idle": Double(idleRSS) / 1024, "peak_under_burst": Double(peakRSS) / 1024],
            "exit_status": Int(exit.status),
        ]
    }

    /// VmRSS of a process, in KiB.
    static func rss(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
