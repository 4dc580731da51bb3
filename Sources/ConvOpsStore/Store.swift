import ConvOpsCore
import Crypto
import Foundation

/// The durable state of the bot, in one SQLite file (WAL mode): people, requests, the audit
/// log and anonymous counters. Every transition is written together with its audit entry, in
/// one transaction, before the caller acts on it.
///
/// People are stored once, encrypted (AES-256-GCM) and looked up by a keyed hash of their chat
/// id; everything else refers to them by a random pseudonym. Erasing a person deletes that one
/// row: their requests and audit entries stay, pseudonymous, and the hash chain still verifies.
///
/// `@unchecked Sendable`: the one connection is only touched inside `lock` (a serialized
/// access queue, as GRDB's DatabaseQueue does it). The lock is recursive so a callback that
/// runs inside a read (`forEachAuditEntry`) can read the store again on the same thread.
public final class Store: @unchecked Sendable {
    private let lock = NSRecursiveLock()
    private let database: Database
    /// Under `lock`: chat id index → (pseudonym, display name), so appends don't decrypt.
    var people: [Data: (pseudonym: String, name: String)] = [:]
    /// Under `lock`: the audit chain's last seq and hash; nil until read, and after a failed write.
    var tail: (seq: Int64, hash: String)?
    /// Under `lock`: how deep the current thread is in nested store operations. Statements are
    /// reset only when the outermost one ends, never under a caller still stepping through rows.
    private var depth = 0
    let keys: DataKeys
    public let path: String
    let digestSink: (@Sendable (String) -> Void)?
    /// Where the store reads the time it writes down (a person's first sight, checkpoints, digests).
    let clock: any WallClock
    /// The signed digests of the audit head, outside the database (`<db>.digests` by default).
    let digests: AuditDigestFile
    /// Why the last attempt to sign the audit head failed, if it did (`convops check` says it).
    public internal(set) var digestProblem: String?

    /// `digestFile`: where the signed audit digests go (default `<path>.digests`); one is
    /// written every `digestInterval` audit entries, after retention, and by `signAuditHead`.
    /// `digestSink`: given every digest line once it is in the file (a copy kept elsewhere).
    public init(path: String, keys: DataKeys, digestFile: String? = nil, digestInterval: Int = 100,
                digestSink: (@Sendable (String) -> Void)? = nil, clock: any WallClock = SystemClock()) throws(StoreError) {
        self.digestSink = digestSink
        self.clock = clock
        try OwnerOnlyFile.prepareDatabase(path)
        let db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=WAL")
        // NORMAL in WAL mode survives a killed process (our crash model); FULL would also
        // survive power loss at the cost of an fsync per commit (see `transition`).
        try db.execute("PRAGMA synchronous=NORMAL")
        try db.execute("PRAGMA foreign_keys=ON")
        // Deleted rows (an erased person) are overwritten with zeros, not left in free pages.
        try db.execute("PRAGMA secure_delete=ON")
        try Self.migrate(db)
        do {
            try db.transaction { try Self.bindSealedValues(db, keys) }
            digests = try AuditDigestFile(path: digestFile ?? path + ".digests", interval: digestInterval, keys: try DigestKeys(keys))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: 0, operation: "bind sealed values to their rows", message: "\(error)")
        }
        self.path = path
        self.keys = keys
        database = db
        // Statements stepped while opening (PRAGMA user_version, the reseal's SELECT) would
        // otherwise hold a read snapshot for ever: after another process wrote, every write of
        // this connection would fail with SQLITE_BUSY_SNAPSHOT.
        db.resetStatements()
    }

    static func migrate(_ db: Database) throws(StoreError) {
        let statement = try db.prepare("PRAGMA user_version")
        _ = try statement.step()
        let current = Int(statement.integer(0))
        // A statement left mid-result would keep a migration from dropping a table (SQLITE_LOCKED).
        db.resetStatements()
        guard current >= 0 else {
            throw StoreError(code: 0, operation: "migrate", message:
                "the database says it is at schema version \(current), which no convops writes: the file was edited; restore it from a backup")
        }
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

    /// The columns of every table, as SQLite reports them.
    public func schema() throws -> [String: [String]] {
        try read { db in
            var out: [String: [String]] = [:]
            let tables = try db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            var names: [String] = []
            while try tables.step() { names.append(tables.text(0) ?? "") }
            for table in names {
                let info = try db.prepare("PRAGMA table_info(\(table))")
                var columns: [String] = []
                while try info.step() { columns.append(info.text(1) ?? "") }
                out[table] = columns
            }
            return out
        }
    }

    // MARK: Internals

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try withConnection { db in
            do {
                let result = try db.transaction { try body(db) }
                if digests.pending >= digests.interval, depth == 1 { signHead(db) }
                return result
            } catch {
                // Rolled back: what we remembered may not be in the file.
                tail = nil
                people.removeAll()
                throw error
            }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try withConnection(body)
    }

    /// The connection, under the lock. Statements are reset when the outermost operation ends,
    /// never under a caller still stepping through rows.
    func withConnection<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock {
            depth += 1
            defer {
                depth -= 1
                if depth == 0 { database.resetStatements() }
            }
            return try body(database)
        }
    }

    func appendAudit(_ db: Database, for request: Request, decision: AuditDecision, actor: String) throws {
        let outcome: String? = switch decision {
        case .executed, .failed: request.outcome?.summary
        case .outcomeUnknown: "interrupted before the result was known"
        default: nil
        }
        try appendAudit(db, at: request.updatedAt, actor: actor, action: request.plan.action.rawValue,
                        target: request.plan.resource.auditTarget, decision: decision,
                        principal: request.outcome?.principal, outcome: outcome, requestID: request.id)
    }

    func appendAudit(_ db: Database, at: Date, actor: String, action: String, target: String, decision: AuditDecision,
                     principal: String?, outcome: String?, requestID: String?) throws {
        digests.pending += 1
        let (lastSeq, previous) = try chainTail(db)
        // The tail is read from the file: a row edited to Int64.max must not trap the writer.
        let (seq, overflow) = lastSeq.addingReportingOverflow(1)
        guard !overflow else {
            throw StoreError(code: 0, operation: "append to the audit log", message:
                "the newest audit entry claims sequence number \(lastSeq), which no convops writes: the file was edited; run `convops audit verify`")
        }
        var entry = AuditEntry(seq: seq, at: at, actor: actor, action: action, target: target, decision: decision,
                               principal: principal, outcome: outcome, requestID: requestID, previousHash: previous, hash: "")
        entry.hash = AuditChain.hash(entry)
        try db.prepare("""
            INSERT INTO audit (seq, at_ms, actor, action, target, decision, principal, outcome, request_id, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).bind([.integer(entry.seq), .integer(AuditChain.milliseconds(entry.at)), .text(entry.actor), .text(entry.action),
                       .text(entry.target), .text(entry.decision.rawValue), .text(entry.principal), .text(entry.outcome),
                       .text(entry.requestID), .text(entry.previousHash), .text(entry.hash)]).run()
        tail = (entry.seq, entry.hash)
    }

    /// The last entry's seq and hash (or the checkpoint's, or the start), remembered between
    /// appends: this process is the only writer.
    func chainTail(_ db: Database) throws -> (Int64, String) {
        if let tail { return tail }
        let last = try db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        if try last.step() { return (last.integer(0), last.text(1) ?? AuditChain.genesis) }
        let cp = try db.prepare("SELECT seq, hash FROM audit_checkpoint WHERE id = 1")
        if try cp.step() { return (cp.integer(0), cp.text(1) ?? AuditChain.genesis) }
        return (0, AuditChain.genesis)
    }

    static func auditEntry(from s: Statement) throws(StoreError) -> AuditEntry {
        AuditEntry(seq: try s.integer("seq"), at: Date(timeIntervalSince1970: Double(try s.integer("at_ms")) / 1000),
                   actor: try s.text("actor") ?? "", action: try s.text("action") ?? "", target: try s.text("target") ?? "",
                   decision: AuditDecision(rawValue: try s.text("decision") ?? "") ?? .failed, principal: try s.text("principal"),
                   outcome: try s.text("outcome"), requestID: try s.text("request_id"), previousHash: try s.text("prev_hash") ?? "",
                   hash: try s.text("hash") ?? "")
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
