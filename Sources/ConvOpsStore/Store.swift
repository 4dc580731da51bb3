import ConvOpsCore
import Crypto
import Foundation

/// The durable state of the bot: requests and the audit log, in one SQLite file (WAL mode).
/// Every transition is written together with its audit entry, in one transaction, before the
/// caller acts on it.
///
/// `@unchecked Sendable`: the one connection is only touched inside `lock` (a serialized
/// access queue, as GRDB's DatabaseQueue does it).
public final class Store: @unchecked Sendable {
    private let lock = NSLock()
    private let database: Database
    public let path: String

    public init(path: String) throws(StoreError) {
        let db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=WAL")
        // NORMAL in WAL mode survives a killed process (our crash model); FULL would also
        // survive power loss at the cost of an fsync per commit.
        try db.execute("PRAGMA synchronous=NORMAL")
        try db.execute("PRAGMA foreign_keys=ON")
        try Self.migrate(db)
        self.path = path
        database = db
    }

    static func migrate(_ db: Database) throws(StoreError) {
        let statement = try db.prepare("PRAGMA user_version")
        _ = try statement.step()
        let current = Int(statement.integer(0))
        guard current <= Migrations.all.count else {
            throw StoreError(code: 0, operation: "migrate", message:
                "the database is at schema version \(current), newer than this convops (\(Migrations.all.count)): upgrade convops")
        }
        for version in current..<Migrations.all.count {
            do {
                try db.transaction {
                    try db.execute(Migrations.all[version])
                    try db.execute("PRAGMA user_version = \(version + 1)")
                }
            } catch {
                throw StoreError(code: 0, operation: "migrate to version \(version + 1)", message: "\(error)")
            }
        }
    }

    public var schemaVersion: Int {
        (try? read { db in
            let s = try db.prepare("PRAGMA user_version")
            _ = try s.step()
            return Int(s.integer(0))
        }) ?? 0
    }

    // MARK: Requests

    /// Stores a new request with its `requested` audit entry.
    public func insert(_ request: Request) throws {
        try write { db in
            try db.prepare("""
                INSERT INTO requests (id, state, plan, requester_id, requester_name, channel, created_at, updated_at, expires_at,
                                      approver_id, approver_name, outcome)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).bind(Self.row(request)).run()
            try Self.appendAudit(db, for: request, decision: .requested, actor: request.requester.id)
        }
    }

    /// Moves a request from `expected` to the new state, with its audit entry, atomically.
    /// Returns false (and writes nothing) when the stored state is no longer `expected`:
    /// someone else's event won the race.
    public func transition(_ request: Request, from expected: RequestState, decision: AuditDecision, actor: String) throws -> Bool {
        try write { db in
            try db.prepare("""
                UPDATE requests SET state = ?, updated_at = ?, expires_at = ?, approver_id = ?, approver_name = ?, outcome = ?
                WHERE id = ? AND state = ?
                """).bind([.text(request.state.rawValue), .real(request.updatedAt.timeIntervalSince1970),
                           .real(request.expiresAt.timeIntervalSince1970), .text(request.approver?.id), .text(request.approver?.name),
                           .text(try request.outcome.map(Self.json)), .text(request.id), .text(expected.rawValue)]).run()
            guard db.changes == 1 else { return false }
            try Self.appendAudit(db, for: request, decision: decision, actor: actor)
            return true
        }
    }

    public func request(id: String) throws -> Request? {
        try read { db in
            let s = try db.prepare("SELECT * FROM requests WHERE id = ?").bind([.text(id)])
            return try s.step() ? try Self.request(from: s) : nil
        }
    }

    /// Requests in any of these states, oldest first.
    public func requests(in states: [RequestState]) throws -> [Request] {
        try read { db in
            let marks = states.map { _ in "?" }.joined(separator: ",")
            let s = try db.prepare("SELECT * FROM requests WHERE state IN (\(marks)) ORDER BY created_at")
                .bind(states.map { .text($0.rawValue) })
            var out: [Request] = []
            while try s.step() { out.append(try Self.request(from: s)) }
            return out
        }
    }

    // MARK: Audit

    /// The newest `limit` entries, oldest first.
    public func auditEntries(limit: Int = 50) throws -> [AuditEntry] {
        try read { db in
            let s = try db.prepare("SELECT * FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq").bind([.integer(Int64(limit))])
            var out: [AuditEntry] = []
            while try s.step() { out.append(Self.auditEntry(from: s)) }
            return out
        }
    }

    public func auditEntries(requestID: String) throws -> [AuditEntry] {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit WHERE request_id = ? ORDER BY seq").bind([.text(requestID)])
            var out: [AuditEntry] = []
            while try s.step() { out.append(Self.auditEntry(from: s)) }
            return out
        }
    }

    public enum AuditVerification: Sendable, Hashable {
        case intact(entries: Int)
        /// The first entry whose content, link or position does not fit the chain.
        case broken(seq: Int64, reason: String)
    }

    /// Recomputes every hash and checks each entry links to the one before it.
    public func verifyAudit() throws -> AuditVerification {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit ORDER BY seq")
            var previous = AuditChain.genesis
            var lastSeq: Int64 = 0
            var count = 0
            while try s.step() {
                let entry = Self.auditEntry(from: s)
                if entry.seq != lastSeq + 1 { return .broken(seq: entry.seq, reason: "entry \(lastSeq + 1) is missing") }
                if entry.previousHash != previous { return .broken(seq: entry.seq, reason: "does not link to the entry before it") }
                if AuditChain.hash(entry) != entry.hash { return .broken(seq: entry.seq, reason: "its content was changed") }
                previous = entry.hash
                lastSeq = entry.seq
                count += 1
            }
            return .intact(entries: count)
        }
    }

    // MARK: Internals

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { try database.transaction { try body(database) } }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { try body(database) }
    }

    static func appendAudit(_ db: Database, for request: Request, decision: AuditDecision, actor: String) throws {
        let last = try db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let (seq, previous) = try last.step() ? (last.integer(0) + 1, last.text(1)!) : (1, AuditChain.genesis)
        let outcome: String? = switch decision {
        case .executed, .failed: request.outcome?.summary
        case .outcomeUnknown: "interrupted before the result was known"
        default: nil
        }
        var entry = AuditEntry(seq: seq, at: request.updatedAt, actor: actor, action: request.plan.action.rawValue,
                               target: request.plan.resource.auditTarget, decision: decision,
                               principal: request.outcome?.principal, outcome: outcome, requestID: request.id,
                               previousHash: previous, hash: "")
        entry.hash = AuditChain.hash(entry)
        try db.prepare("""
            INSERT INTO audit (seq, at_ms, actor, action, target, decision, principal, outcome, request_id, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).bind([.integer(entry.seq), .integer(AuditChain.milliseconds(entry.at)), .text(entry.actor), .text(entry.action),
                       .text(entry.target), .text(entry.decision.rawValue), .text(entry.principal), .text(entry.outcome),
                       .text(entry.requestID), .text(entry.previousHash), .text(entry.hash)]).run()
    }

    static func auditEntry(from s: Statement) -> AuditEntry {
        AuditEntry(seq: s.integer(0), at: Date(timeIntervalSince1970: Double(s.integer(1)) / 1000), actor: s.text(2) ?? "",
                   action: s.text(3) ?? "", target: s.text(4) ?? "", decision: AuditDecision(rawValue: s.text(5) ?? "") ?? .failed,
                   principal: s.text(6), outcome: s.text(7), requestID: s.text(8), previousHash: s.text(9) ?? "", hash: s.text(10) ?? "")
    }

    static func row(_ r: Request) throws -> [Statement.Value] {
        [.text(r.id), .text(r.state.rawValue), .text(try json(r.plan)), .text(r.requester.id), .text(r.requester.name),
         .text(r.channel), .real(r.createdAt.timeIntervalSince1970), .real(r.updatedAt.timeIntervalSince1970),
         .real(r.expiresAt.timeIntervalSince1970), .text(r.approver?.id), .text(r.approver?.name),
         .text(try r.outcome.map(json))]
    }

    static func request(from s: Statement) throws -> Request {
        let decoder = JSONDecoder()
        let plan = try decoder.decode(Plan.self, from: Data((s.text(2) ?? "").utf8))
        var r = Request(id: s.text(0) ?? "", plan: plan, requester: Person(id: s.text(3) ?? "", name: s.text(4) ?? ""),
                        channel: s.text(5) ?? "", createdAt: Date(timeIntervalSince1970: s.real(6)),
                        expiresAt: Date(timeIntervalSince1970: s.real(8)))
        r.state = RequestState(rawValue: s.text(1) ?? "") ?? .outcomeUnknown
        r.updatedAt = Date(timeIntervalSince1970: s.real(7))
        if let id = s.text(9) { r.approver = Person(id: id, name: s.text(10) ?? "") }
        if let outcome = s.text(11) { r.outcome = try decoder.decode(Outcome.self, from: Data(outcome.utf8)) }
        return r
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// The audit hash chain: each entry's hash covers its fields and the previous entry's hash,
/// so an edit, deletion, insertion or reordering breaks every link after it.
enum AuditChain {
    static let genesis = String(repeating: "0", count: 64)

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func hash(_ e: AuditEntry) -> String {
        // Length-prefixed fields: no separator inside a value can forge another split.
        var text = ""
        for field in [e.previousHash, String(e.seq), String(milliseconds(e.at)), e.actor, e.action, e.target,
                      e.decision.rawValue, e.principal ?? "\u{0}", e.outcome ?? "\u{0}", e.requestID ?? "\u{0}"] {
            text += "\(field.utf8.count):\(field);"
        }
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
