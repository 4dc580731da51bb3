import ConvOpsCore
import ConvOpsTestSupport
import Foundation

/// The steady-process rows of `convops-bench slack` (issue 16): memory per library from
/// /proc/PID/smaps, a plan right after another plan ran, a burst of status questions about
/// names that mostly do not exist (AWS calls per answer), and a half-open socket.
extension SlackBenchmark {
    /// Rss, Pss and private memory in KiB (smaps_rollup), and Rss per mapped file, largest first.
    static func smaps(_ pid: Int32) -> [String: Any] {
        func kB(_ line: Substring) -> Int { Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0 }
        var totals: [String: Int] = [:]
        if let rollup = procfs("/proc/\(pid)/smaps_rollup") {
            for line in rollup.split(separator: "\n") {
                for key in ["Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous"] where line.hasPrefix(key + ":") { totals[key] = kB(line) }
            }
        }
        var byFile: [String: Int] = [:]
        if let text = procfs("/proc/\(pid)/smaps") {
            var current = "[anonymous]"
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                    current = fields.count >= 6 ? String(fields[5...].joined(separator: " ").split(separator: "/").last ?? "") : "[anonymous]"
                } else if line.hasPrefix("Rss:") {
                    byFile[current, default: 0] += kB(line)
                }
            }
        }
        let top = byFile.sorted { $0.value > $1.value }.prefix(12).map { ["file": $0.key, "rss_kb": $0.value] as [String: Any] }
        return ["rss_kb": totals["Rss"] ?? 0, "pss_kb": totals["Pss"] ?? 0,
                "private_kb": (totals["Private_Clean"] ?? 0) + (totals["Private_Dirty"] ?? 0), "by_file": top]
    }

    /// A procfs file, read to its end (its size says 0, so a sized read stops after a page).
    static func procfs(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var data = Data()
        while let chunk = try? handle.read(upToCount: 65_536), !chunk.isEmpty { data.append(chunk) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Slash → plan posted for web-2, each right after a restart of web-1 ran (confirmed, done).
    static func planAfterRun(_ emulator: SlackEmulator, rounds: Int) async throws -> [Double] {
        var times: [Double] = []
        for round in 0..<rounds {
            let user = "UQ\(round % 20)"
            let before = emulator.messages.count
            _ = try emulator.slashCommand("restart web-1", user: user, channel: "CBENCH3")
            try await emulator.wait("the plan", timeout: .seconds(10)) {
                emulator.messages.dropFirst(before).contains { $0.channel == "CBENCH3" && confirmValue($0.blocks) != nil }
            }
            guard let card = emulator.messages.dropFirst(before).first(where: { $0.channel == "CBENCH3" && confirmValue($0.blocks) != nil }),
                  let value = confirmValue(card.blocks) else { throw TestSupportError("the plan has no Confirm button") }
            _ = try emulator.click("convops.confirm", value: value, user: user, channel: "CBENCH3", messageTS: card.ts)
            try await emulator.wait("the outcome", timeout: .seconds(30)) {
                emulator.messages.first { $0.ts == card.ts }.map { confirmValue($0.blocks) == nil && $0.text.contains("web-1") } ?? false
            }
            let next = emulator.messages.count
            let sent = ContinuousClock.now
            _ = try emulator.slashCommand("restart web-2", user: user, channel: "CBENCH4")
            try await emulator.wait("the next plan", timeout: .seconds(10)) { emulator.messages.dropFirst(next).contains { $0.channel == "CBENCH4" } }
            let d = emulator.messages.dropFirst(next).first { $0.channel == "CBENCH4" }!.postedAt - sent
            times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        return times.sorted()
    }

    static func confirmValue(_ blocks: JSON) -> String? {
        for block in blocks.array ?? [] where block["type"]?.string == "actions" {
            for element in block["elements"]?.array ?? [] where element["action_id"]?.string == "convops.confirm" {
                return element["value"]?.string
            }
        }
        return nil
    }

    /// `count` status questions at once about `distinct` names (web-1 among them, the rest
    /// not there): how many were answered, and how many calls reached AWS (moto's recorder).
    static func statusBurst(_ emulator: SlackEmulator, _ moto: MotoServer, count: Int, distinct: Int) async throws -> [String: Any] {
        try await moto.startRecording()
        let before = emulator.calls("response_url").count
        let started = ContinuousClock.now
        for i in 0..<count {
            let n = i % distinct
            _ = try emulator.slashCommand(n == 0 ? "status web-1" : "status web-\(1000 + n)", user: "US\(i % 400)", channel: "CBENCH5")
        }
        try? await emulator.wait("every status answered", timeout: .seconds(180)) { emulator.calls("response_url").count - before >= count }
        let took = ContinuousClock.now - started
        let answered = emulator.calls("response_url").count - before
        let calls = try await moto.recordedBodies().count
        var replies: [String: Int] = [:]
        for call in emulator.calls.suffix(count * 3) { replies[call.method, default: 0] += 1 }
        let texts = emulator.ephemerals.filter { $0.channel == "response_url" }.suffix(answered).map { String($0.text.prefix(40)) }
        var kinds: [String: Int] = [:]
        for t in texts { kinds[t, default: 0] += 1 }
        let busy = texts.filter { $0.hasPrefix("ConvOps is working on") }.count
        return ["questions": count, "distinct_names": distinct, "answered": answered, "answered_busy": busy, "calls_by_method": replies,
                "aws_calls_per_real_answer": answered - busy == 0 ? 0 : Double(calls) / Double(answered - busy),
                "answers_by_start": kinds.sorted { $0.value > $1.value }.prefix(6).map { "\($0.value)× \($0.key)" },
                "seconds": Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18,
                "aws_calls": calls, "aws_calls_per_answer": answered == 0 ? 0 : Double(calls) / Double(answered)]
    }

    /// One socket goes half-open while 100 envelopes a second arrive: how long until its TCP
    /// connection is dropped, and how many envelopes went to it meanwhile (lost).
    static func halfOpen(_ emulator: SlackEmulator) async throws -> [String: Any] {
        try await emulator.wait("two sockets", timeout: .seconds(30)) { emulator.openSockets.count == 2 }
        emulator.resetLatencies()
        let victim = emulator.openSockets[0]
        emulator.halfOpen(victim)
        let started = ContinuousClock.now
        var sent: [String] = []
        while emulator.connected(victim), ContinuousClock.now - started < .seconds(30) {
            sent.append(try emulator.slashCommand("help", user: "UX\(sent.count)", channel: "CBENCH6"))
            try await Task.sleep(for: .milliseconds(10))
        }
        let noticed = ContinuousClock.now - started
        let all = sent
        try? await emulator.wait("the rest acknowledged", timeout: .seconds(5)) { all.filter { !emulator.acked($0) }.count <= all.count / 2 }
        try await Task.sleep(for: .seconds(1))
        let lost = sent.filter { !emulator.acked($0) }.count
        try? await emulator.wait("a replacement", timeout: .seconds(10)) { emulator.openSockets.count == 2 }
        return ["noticed_after_ms": Double(noticed.components.seconds) * 1000 + Double(noticed.components.attoseconds) / 1e15,
                "envelopes_sent_meanwhile": sent.count, "lost": lost, "sockets_after": emulator.openSockets.count]
    }
}
