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
        let statuses = Int(env["BENCH_STATUS"] ?? "") ?? 8000

        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: repository)
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U111", name: "Bench")
        // Members enough that no one passes the per-person limit (30 requests a minute).
        for i in 0..<20 { emulator.addUser("UP\(i)", name: "Planner \(i)"); emulator.addUser("UQ\(i)", name: "Runner \(i)") }
        for i in 0..<400 { emulator.addUser("US\(i)", name: "Asker \(i)") }
        let dir = try makeTemporaryDirectory("bench-slack")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment: [String: String] = [
            "PATH": env["PATH"] ?? "/usr/bin:/bin", "HOME": env["HOME"] ?? "/root",
            "CONVOPS_DB": dir + "/convops.db", "CONVOPS_HOME": repository,
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken, "SLACK_BOT_TOKEN": SlackEmulator.botToken,
            "CONVOPS_CONFIG": dir + "/convops.json", "CONVOPS_WAIT_POLL_SECONDS": "0.2",
        ]
        try #"{"mode": "open"}"#.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)

        // Start → the first envelope acknowledged (hello received, socket ready to serve).
        var runEnvironment = environment
        if env["BENCH_DEBUG"] == "1" { runEnvironment["CONVOPS_LOG_LEVEL"] = "debug" }
        let process = try RunningProcess(binary, ["run"], environment: runEnvironment, currentDirectory: repository)
        do {
            var out = try await measure(process, emulator, bursts: bursts, perBurst: perBurst, slashes: slashes) {
                ["plan_after_run_ms": try await planAfterRun(emulator, rounds: 10),
                 "status_burst": try await statusBurst(emulator, moto, count: statuses, distinct: 500),
                 "half_open_socket": try await halfOpen(emulator)]
            }
            out["slash_to_plan_after_a_run_ms"] = (out["plan_after_run_ms"] as? [Double]).map { ["p50": $0.isEmpty ? 0 : $0[$0.count / 2], "max": $0.last ?? 0] }
            out["plan_after_run_ms"] = nil
            return out
        } catch {
            process.signal(SIGTERM)
            let result = await process.wait(timeout: .seconds(5))
            FileHandle.standardError.write(Data("convops run said:\n\(result.stderr.suffix(4000))\n".utf8))
            throw error
        }
    }

    static func measure(_ process: RunningProcess, _ emulator: SlackEmulator, bursts: Int, perBurst: Int,
                        slashes: Int, more: () async throws -> [String: Any]) async throws -> [String: Any] {
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
        let idleMemory = smaps(process.pid)

        // Bursts: 1,000 envelopes spread over one second, each a slash command the bot answers.
        emulator.resetLatencies()
        var peakRSS = idleRSS
        for _ in 0..<bursts {
            let start = ContinuousClock.now
            for i in 0..<perBurst {
                let due = start + .microseconds(Int64(i) * 1_000_000 / Int64(perBurst))
                let wait = due - ContinuousClock.now
                if wait > .zero { try await Task.sleep(for: wait) }
                // Strangers (no users.info): refused at once; what is measured is the ack.
                _ = try emulator.slashCommand("help", user: "UX\(i)", channel: "CBENCH1")
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
            _ = try emulator.slashCommand(i % 2 == 0 ? "restart web-1" : "restart web-2", user: "UP\(i % 20)", channel: "CBENCH2")
            try await emulator.wait("the plan", timeout: .seconds(10)) { emulator.messages.count > before }
            let d = emulator.messages[before].postedAt - sent
            planTimes.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        planTimes.sort()
        let steady = try await more()
        let afterMemory = smaps(process.pid)

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
            "memory_idle": idleMemory, "memory_at_end": afterMemory,
            "exit_status": Int(exit.status),
        ].merging(steady) { a, _ in a }
    }

    /// VmRSS of a process, in KiB.
    static func rss(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
