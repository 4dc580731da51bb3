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
    let keys: DataKeys
    public let path: String

    public init(path: String, keys: DataKeys) throws(StoreError) {
        let db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=WAL")
        // NORMAL in WAL mode survives a killed process (our crash model); FULL would also
        // survive power loss at the cost of an fsync per commit.
        try db.execute("PRAGMA synchronous=NORMAL")
        try db.execute("PRAGMA foreign_keys=ON")
        try Self.migrate(db)
        self.path = path
        self.keys = keys
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

    // MARK: People

    /// The pseudonym the store knows a person by, adding the person (encrypted) if new and
    /// updating a changed display name.
    public func pseudonym(for person: Person) throws -> String {
        try write { db in try self.pseudonym(db, person) }
    }

    func pseudonym(_ db: Database, _ person: Person) throws -> String {
        if person.id == AuditEntry.botActor { return AuditEntry.botActor }
        let index = keys.indexKey(person.id)
        let find = try db.prepare("SELECT pseudonym, display_name FROM people WHERE id_index = ?").bind([.blob(index)])
        if try find.step(), let pseudonym = find.text(0) {
            if let stored = find.blob(1), (try? keys.open(stored)) != person.name {
                try db.prepare("UPDATE people SET display_name = ? WHERE pseudonym = ?")
                    .bind([.blob(try keys.seal(person.name)), .text(pseudonym)]).run()
            }
            return pseudonym
        }
        let pseudonym = "p-" + (0..<16).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        try db.prepare("INSERT INTO people (pseudonym, id_index, chat_id, display_name, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind([.text(pseudonym), .blob(index), .blob(try keys.seal(person.id)), .blob(try keys.seal(person.name)),
                   .real(Date().timeIntervalSince1970)]).run()
        return pseudonym
    }

    /// The person behind a pseudonym, decrypted; nil once erased.
    public func person(pseudonym: String) throws -> Person? {
        try read { db in try self.person(db, pseudonym) }
    }

    func person(_ db: Database, _ pseudonym: String) throws -> Person? {
        if pseudonym == AuditEntry.botActor { return Person(id: AuditEntry.botActor, name: AuditEntry.botActor) }
        let s = try db.prepare("SELECT chat_id, display_name FROM people WHERE pseudonym = ?").bind([.text(pseudonym)])
        guard try s.step(), let id = s.blob(0), let name = s.blob(1) else { return nil }
        do {
            return Person(id: try keys.open(id), name: try keys.open(name))
        } catch {
            throw StoreError(code: 0, operation: "decrypt personal data", message:
                "the data key does not open this database's personal data: set CONVOPS_DATA_KEY (or the key file) to the key it was written with")
        }
    }

    /// How an actor reads in the audit log: the person's name, or the pseudonym once erased.
    public func displayName(pseudonym: String) -> String {
        ((try? person(pseudonym: pseudonym)) ?? nil)?.name ?? pseudonym
    }

    // MARK: Requests

    /// Stores a new request with its `requested` audit entry.
    public func insert(_ request: Request) throws {
        try write { db in
            let requester = try self.pseudonym(db, request.requester)
            try db.prepare("""
                INSERT INTO requests (id, state, plan, requester, channel, created_at, updated_at, expires_at, approver, outcome)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).bind([.text(request.id), .text(request.state.rawValue), .text(try Self.json(request.plan)), .text(requester),
                           .text(request.channel), .real(request.createdAt.timeIntervalSince1970),
                           .real(request.updatedAt.timeIntervalSince1970), .real(request.expiresAt.timeIntervalSince1970),
                           .text(nil), .text(try request.outcome.map(Self.json))]).run()
            try Self.appendAudit(db, for: request, decision: .requested, actor: requester)
            try Self.count(db, "requests.\(request.plan.action.rawValue)")
        }
    }

    /// Moves a request from `expected` to the new state, with its audit entry, atomically.
    /// Returns false (and writes nothing) when the stored state is no longer `expected`:
    /// someone else's event won the race. `actor` is the person who decided, nil for the bot.
    public func transition(_ request: Request, from expected: RequestState, decision: AuditDecision, actor: Person?) throws -> Bool {
        try write { db in
            let approver = try request.approver.map { try self.pseudonym(db, $0) }
            try db.prepare("""
                UPDATE requests SET state = ?, updated_at = ?, expires_at = ?, approver = ?, outcome = ?
                WHERE id = ? AND state = ?
                """).bind([.text(request.state.rawValue), .real(request.updatedAt.timeIntervalSince1970),
                           .real(request.expiresAt.timeIntervalSince1970), .text(approver),
                           .text(try request.outcome.map(Self.json)), .text(request.id), .text(expected.rawValue)]).run()
            guard db.changes == 1 else { return false }
            let who = try actor.map { try self.pseudonym(db, $0) } ?? AuditEntry.botActor
            try Self.appendAudit(db, for: request, decision: decision, actor: who)
            try Self.count(db, "decisions.\(decision.rawValue)")
            return true
        }
    }

    public func request(id: String) throws -> Request? {
        try read { db in
            let s = try db.prepare("SELECT * FROM requests WHERE id = ?").bind([.text(id)])
            return try s.step() ? try self.request(db, from: s) : nil
        }
    }

    /// Requests in any of these states, oldest first.
    public func requests(in states: [RequestState]) throws -> [Request] {
        try read { db in
            let marks = states.map { _ in "?" }.joined(separator: ",")
            let s = try db.prepare("SELECT * FROM requests WHERE state IN (\(marks)) ORDER BY created_at")
                .bind(states.map { .text($0.rawValue) })
            var out: [Request] = []
            while try s.step() { out.append(try self.request(db, from: s)) }
            return out
        }
    }

    func request(_ db: Database, from s: Statement) throws -> Request {
        let decoder = JSONDecoder()
        let plan = try decoder.decode(Plan.self, from: Data((s.text(2) ?? "").utf8))
        let requesterRef = s.text(3) ?? ""
        let requester = try person(db, requesterRef) ?? Person(id: requesterRef, name: requesterRef)
        var r = Request(id: s.text(0) ?? "", plan: plan, requester: requester, channel: s.text(4) ?? "",
                        createdAt: Date(timeIntervalSince1970: s.real(5)), expiresAt: Date(timeIntervalSince1970: s.real(7)))
        r.state = RequestState(rawValue: s.text(1) ?? "") ?? .outcomeUnknown
        r.updatedAt = Date(timeIntervalSince1970: s.real(6))
        if let ref = s.text(8) { r.approver = try person(db, ref) ?? Person(id: ref, name: ref) }
        if let outcome = s.text(9) { r.outcome = try decoder.decode(Outcome.self, from: Data(outcome.utf8)) }
        return r
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

    public func auditEntry(seq: Int64) throws -> AuditEntry? {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit WHERE seq = ?").bind([.integer(seq)])
            return try s.step() ? Self.auditEntry(from: s) : nil
        }
    }

    /// Every entry in order, handed over one at a time (for export of a large log).
    public func forEachAuditEntry(_ body: (AuditEntry) throws -> Void) throws {
        try read { db in
            let s = try db.prepare("SELECT * FROM audit ORDER BY seq")
            while try s.step() { try body(Self.auditEntry(from: s)) }
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
            var previous = AuditChain.genesis
            var lastSeq: Int64 = 0
            let cp = try db.prepare("SELECT seq, hash, at_ms, signature FROM audit_checkpoint WHERE id = 1")
            if try cp.step() {
                let seq = cp.integer(0), hash = cp.text(1) ?? "", at = cp.integer(2), signature = cp.text(3) ?? ""
                guard self.keys.sign(AuditChain.checkpointText(seq: seq, hash: hash, atMilliseconds: at)) == signature else {
                    return .broken(seq: seq, reason: "the retention checkpoint's signature does not match (wrong data key, or it was altered)")
                }
                previous = hash
                lastSeq = seq
            }
            let start = lastSeq
            let s = try db.prepare("SELECT * FROM audit ORDER BY seq")
            var count = 0
            while try s.step() {
                let entry = Self.auditEntry(from: s)
                if entry.seq != lastSeq + 1 {
                    return .broken(seq: entry.seq, reason: entry.seq <= lastSeq ? "it is covered by the checkpoint but still present" : "entry \(lastSeq + 1) is missing")
                }
                if entry.previousHash != previous { return .broken(seq: entry.seq, reason: "does not link to the entry before it") }
                if AuditChain.hash(entry) != entry.hash { return .broken(seq: entry.seq, reason: "its content was changed") }
                previous = entry.hash
                lastSeq = entry.seq
                count += 1
            }
            return .intact(entries: count, from: start)
        }
    }

    /// Retention: deletes audit entries (and finished requests) older than `cutoff`, after
    /// writing a signed checkpoint of the last deleted entry so the rest still verifies.
    /// Returns how many audit entries went.
    @discardableResult
    public func purge(olderThan cutoff: Date) throws -> Int {
        try write { db in
            let last = try db.prepare("SELECT seq, hash FROM audit WHERE at_ms < ? ORDER BY seq DESC LIMIT 1")
                .bind([.integer(AuditChain.milliseconds(cutoff))])
            guard try last.step() else { return 0 }
            let seq = last.integer(0), hash = last.text(1) ?? ""
            let now = AuditChain.milliseconds(Date())
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
            return removed
        }
    }

    // MARK: A person's data

    /// Everything the store holds about one person, decrypted, for `convops data export`.
    public struct PersonData: Sendable, Codable {
        public var person: Person
        public var pseudonym: String
        public var requests: [Request]
        public var audit: [AuditEntry]
    }

    public func export(chatID: String) throws -> PersonData? {
        try read { db in
            let find = try db.prepare("SELECT pseudonym FROM people WHERE id_index = ?").bind([.blob(keys.indexKey(chatID))])
            guard try find.step(), let pseudonym = find.text(0), let person = try self.person(db, pseudonym) else { return nil }
            var requests: [Request] = []
            let r = try db.prepare("SELECT * FROM requests WHERE requester = ? OR approver = ? ORDER BY created_at")
                .bind([.text(pseudonym), .text(pseudonym)])
            while try r.step() { requests.append(try self.request(db, from: r)) }
            var audit: [AuditEntry] = []
            let a = try db.prepare("SELECT * FROM audit WHERE actor = ? ORDER BY seq").bind([.text(pseudonym)])
            while try a.step() { audit.append(Self.auditEntry(from: a)) }
            return PersonData(person: person, pseudonym: pseudonym, requests: requests, audit: audit)
        }
    }

    /// Erases a person: their encrypted record goes; requests and audit entries keep only the
    /// pseudonym, which nothing can link back to them any more. The hash chain is untouched.
    /// Returns the pseudonym, or nil if the store never knew the person.
    @discardableResult
    public func erase(chatID: String) throws -> String? {
        try write { db in
            let find = try db.prepare("SELECT pseudonym FROM people WHERE id_index = ?").bind([.blob(keys.indexKey(chatID))])
            guard try find.step(), let pseudonym = find.text(0) else { return nil }
            try db.prepare("DELETE FROM people WHERE pseudonym = ?").bind([.text(pseudonym)]).run()
            return pseudonym
        }
    }

    // MARK: Counters

    /// Anonymous aggregates: how many of each action and decision, nothing about who.
    public func counters() throws -> [String: Int] {
        try read { db in
            let s = try db.prepare("SELECT name, value FROM counters")
            var out: [String: Int] = [:]
            while try s.step() { out[s.text(0) ?? ""] = Int(s.integer(1)) }
            return out
        }
    }

    static func count(_ db: Database, _ name: String) throws {
        try db.prepare("INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1")
            .bind([.text(name)]).run()
    }

    // MARK: Internals

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { try database.transaction { try body(database) } }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { try body(database) }
    }

    static func appendAudit(_ db: Database, for request: Request, decision: AuditDecision, actor: String) throws {
        let outcome: String? = switch decision {
        case .executed, .failed: request.outcome?.summary
        case .outcomeUnknown: "interrupted before the result was known"
        default: nil
        }
        try appendAudit(db, at: request.updatedAt, actor: actor, action: request.plan.action.rawValue,
                        target: request.plan.resource.auditTarget, decision: decision,
                        principal: request.outcome?.principal, outcome: outcome, requestID: request.id)
    }

    static func appendAudit(_ db: Database, at: Date, actor: String, action: String, target: String, decision: AuditDecision,
                            principal: String?, outcome: String?, requestID: String?) throws {
        let last = try db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        var seq: Int64 = 1, previous = AuditChain.genesis
        if try last.step() {
            seq = last.integer(0) + 1
            previous = last.text(1) ?? AuditChain.genesis
        } else {
            let cp = try db.prepare("SELECT seq, hash FROM audit_checkpoint WHERE id = 1")
            if try cp.step() { seq = cp.integer(0) + 1; previous = cp.text(1) ?? AuditChain.genesis }
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
    }

    static func auditEntry(from s: Statement) -> AuditEntry {
        AuditEntry(seq: s.integer(0), at: Date(timeIntervalSince1970: Double(s.integer(1)) / 1000), actor: s.text(2) ?? "",
                   action: s.text(3) ?? "", target: s.text(4) ?? "", decision: AuditDecision(rawValue: s.text(5) ?? "") ?? .failed,
                   principal: s.text(6), outcome: s.text(7), requestID: s.text(8), previousHash: s.text(9) ?? "", hash: s.text(10) ?? "")
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

    static func checkpointText(seq: Int64, hash: String, atMilliseconds: Int64) -> String {
        "convops-audit-checkpoint;\(seq);\(hash);\(atMilliseconds)"
    }
}
