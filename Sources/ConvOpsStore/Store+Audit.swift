import ConvOpsCore
import Crypto
import Foundation

/// The audit log: read, verified, purged behind a signed checkpoint, appended to.
extension Store {
    /// The newest `limit` entries, oldest first.
    public func auditEntries(limit: Int = 50) throws -> [AuditEntry] {
        try read { db in
            let s = try db.prepare("SELECT * FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq").bind([.integer(Int64(limit))])
            var out: [AuditEntry] = []
            while try s.step() { out.append(try Self.auditEntry(from: s)) }
            return out
        }
    }

    public func auditEntries(requestID: String) throws -> [AuditEntry] {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit WHERE request_id = ? ORDER BY seq").bind([.text(requestID)])
            var out: [AuditEntry] = []
            while try s.step() { out.append(try Self.auditEntry(from: s)) }
            return out
        }
    }

    public func auditEntry(seq: Int64) throws -> AuditEntry? {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit WHERE seq = ?").bind([.integer(seq)])
            return try s.step() ? try Self.auditEntry(from: s) : nil
        }
    }

    /// Every entry in order, handed over one at a time (for export of a large log).
    public func forEachAuditEntry(_ body: (AuditEntry) throws -> Void) throws {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit ORDER BY seq")
            while try s.step() { try body(try Self.auditEntry(from: s)) }
        }
    }

    public enum AuditVerification: Sendable, Hashable {
        /// `entries` verified; `from` is the checkpoint seq they continue from (0: the start).
        case intact(entries: Int, from: Int64)
        /// The first entry whose content, link or position does not fit the chain.
        case broken(seq: Int64, reason: String)
    }

    /// Recomputes every hash and checks each entry links to the one before it, starting from
    /// the signed retention checkpoint when older entries were purged.
    public func verifyAudit() throws -> AuditVerification {
        try read { db in
            try Self.verifyChain(db) { seq, hash, at, signature in
                self.keys.sign(AuditChain.checkpointText(seq: seq, hash: hash, atMilliseconds: at)) == signature
            }
        }
    }

    /// The chain walk. `checkpointSigned` checks the retention checkpoint's HMAC; nil without
    /// the data key (an auditor's check), where the signed digests vouch for the checkpoint.
    static func verifyChain(_ db: Database, checkpointSigned: ((Int64, String, Int64, String) -> Bool)?) throws -> AuditVerification {
        var previous = AuditChain.genesis
        var lastSeq: Int64 = 0
        let cp = try db.prepare("SELECT seq, hash, at_ms, signature FROM audit_checkpoint WHERE id = 1")
        if try cp.step() {
            let seq = cp.integer(0), hash = cp.text(1) ?? "", at = cp.integer(2), signature = cp.text(3) ?? ""
            if let checkpointSigned, !checkpointSigned(seq, hash, at, signature) {
                return .broken(seq: seq, reason: "the retention checkpoint's signature does not match (wrong data key, or it was altered)")
            }
            previous = hash
            lastSeq = seq
        }
        let start = lastSeq
        let s = try db.prepare("SELECT * FROM audit ORDER BY seq")
        var count = 0
        var previousHash = Array(previous.utf8)
        while try s.step() {
            let seq = s.integer(0)
            if seq != lastSeq + 1 {
                return .broken(seq: seq, reason: seq <= lastSeq ? "it is covered by the checkpoint but still present" : "entry \(lastSeq + 1) is missing")
            }
            // Straight from SQLite's buffers: no Strings or Dates per entry.
            let links = s.withBytes(9) { $0.map { $0.elementsEqual(previousHash) } ?? false }
            if !links { return .broken(seq: seq, reason: "does not link to the entry before it") }
            let computed = try AuditChain.hash(row: s)
            let matches = s.withBytes(10) { $0.map { $0.elementsEqual(computed) } ?? false }
            if !matches { return .broken(seq: seq, reason: "its content was changed") }
            previousHash = computed
            lastSeq = seq
            count += 1
        }
        return .intact(entries: count, from: start)
    }

    /// Retention: deletes audit entries (and finished requests) older than `cutoff`, after
    /// writing a signed checkpoint of the last deleted entry so the rest still verifies.
    /// Returns how many audit entries went.
    @discardableResult
    public func purge(olderThan cutoff: Date) throws -> Int {
        // Retention moves the checkpoint; the digest that follows signs where it moved to.
        defer { try? signAuditHead() }
        return try write { db in
            // Alerts are action logs too: kept no longer than the retention either.
            let before = [Statement.Value.real(cutoff.timeIntervalSince1970)]
            try db.prepare("DELETE FROM alerts WHERE received_at < ? AND disposition != 'pending'").bind(before).run()
            try db.prepare("DELETE FROM alert_episodes WHERE closed_at IS NOT NULL AND closed_at < ?").bind(before).run()
            try db.prepare("DELETE FROM alert_messages WHERE episode_id NOT IN (SELECT id FROM alert_episodes)").run()
            try db.prepare("DELETE FROM parked_alerts WHERE received_at < ?").bind(before).run()
            try db.prepare("DELETE FROM snoozes WHERE ended_at IS NOT NULL AND ended_at < ?").bind(before).run()
            try db.prepare("DELETE FROM alert_groups WHERE last_at < ?").bind(before).run()
            try db.prepare("DELETE FROM alert_attempts WHERE at < ?").bind(before).run()
            try db.prepare("DELETE FROM whatsapp_alerts WHERE queued_at < ?").bind(before).run()
            let last = try db.prepare("SELECT seq, hash FROM audit WHERE at_ms < ? ORDER BY seq DESC LIMIT 1")
                .bind([.integer(AuditChain.milliseconds(cutoff))])
            guard try last.step() else { return 0 }
            let seq = last.integer(0), hash = last.text(1) ?? ""
            let now = AuditChain.milliseconds(clock.now())
            let signature = keys.sign(AuditChain.checkpointText(seq: seq, hash: hash, atMilliseconds: now))
            try db.prepare("""
                INSERT INTO audit_checkpoint (id, seq, hash, at_ms, signature) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at_ms = excluded.at_ms, signature = excluded.signature
                """).bind([.integer(seq), .text(hash), .integer(now), .text(signature)]).run()
            try db.prepare("DELETE FROM audit WHERE seq <= ?").bind([.integer(seq)]).run()
            let removed = db.changes
            let terminal = RequestState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
            try db.prepare("DELETE FROM requests WHERE updated_at < ? AND state IN (\(terminal))")
                .bind([.real(cutoff.timeIntervalSince1970)]).run()
            try db.prepare("DELETE FROM chat_messages WHERE request_id NOT IN (SELECT id FROM requests)").run()
            return removed
        }
    }

    /// Appends events to the audit log, durably, in one transaction.
    public func append(_ events: [AuditEntry.Draft]) throws {
        try write { db in
            for e in events {
                let actor = try e.actor.map { try self.pseudonym(db, $0) } ?? AuditEntry.botActor
                try self.appendAudit(db, at: e.at, actor: actor, action: e.action, target: e.target, decision: e.decision,
                                     principal: e.principal, outcome: e.outcome, requestID: e.requestID)
            }
        }
    }
}
