import ConvOpsCore
import ConvOpsStore
import Foundation

/// Durable audit appends in WAL mode, and verifying a long chain.
enum AuditBenchmark {
    static func run() -> [String: Any] {
        let dir = NSTemporaryDirectory() + "bench-audit-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try! DataKeys(dataKey: Data((0..<32).map { UInt8($0) }))
        let person = Person(id: "U0BENCH001", name: "bench")
        func event(_ i: Int) -> AuditEntry.Draft {
            AuditEntry.Draft(at: Date(timeIntervalSince1970: 1_800_000_000 + Double(i)), actor: person, action: "reboot-instance",
                             target: "ec2-instance i-0123456789abcdef0 (web-1) eu-west-1", decision: .confirmed,
                             principal: "arn:aws:sts::123456789012:assumed-role/convops/bench", requestID: "rbench\(i % 100)")
        }

        // One append, one transaction, one commit: each one durable on its own.
        let store = try! Store(path: dir + "/appends.db", keys: keys)
        let appends = Int(ProcessInfo.processInfo.environment["BENCH_APPENDS"] ?? "") ?? 50_000
        let start = nanos()
        for i in 0..<appends { try! store.append([event(i)]) }
        let appendSeconds = Double(nanos() - start) / 1e9

        // A chain of 1,000,000 entries (written in batches), then verified end to end.
        let chainSize = Int(ProcessInfo.processInfo.environment["BENCH_CHAIN"] ?? "") ?? 1_000_000
        let big = try! Store(path: dir + "/chain.db", keys: keys)
        var written = 0
        let buildStart = nanos()
        while written < chainSize {
            let batch = min(10_000, chainSize - written)
            try! big.append((written..<(written + batch)).map(event))
            written += batch
        }
        let buildSeconds = Double(nanos() - buildStart) / 1e9
        let verifyStart = nanos()
        let result = try! big.verifyAudit()
        let verifySeconds = Double(nanos() - verifyStart) / 1e9
        guard case .intact(let entries, _) = result, entries == chainSize else {
            FileHandle.standardError.write(Data("verify failed: \(result)\n".utf8))
            exit(1)
        }
        return [
            "benchmark": "audit",
            "durability": "WAL, synchronous=NORMAL: every append is its own committed transaction; survives a killed process",
            "appends": appends,
            "appends_per_second": Int(Double(appends) / appendSeconds),
            "chain_entries": chainSize,
            "chain_build_seconds": buildSeconds,
            "verify_seconds": verifySeconds,
            "verify_entries_per_second": Int(Double(chainSize) / verifySeconds),
        ]
    }
}
