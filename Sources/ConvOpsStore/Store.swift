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
    private var people: [Data: (pseudonym: String, name: String)] = [:]
    /// Under `lock`: the audit chain's last seq and hash; nil until read, and after a failed write.
    private var tail: (seq: Int64, hash: String)?
    /// Under `lock`: how deep the current thread is in nested store operations. Statements are
    /// reset only when the outermost one ends, never under a caller still stepping through rows.
    private var depth = 0
    let keys: DataKeys
    public let path: String
    let digestSink: (@Sendable (String) -> Void)?
    /// The signed digests of the audit head, outside the database (`<db>.digests` by default).
    let digests: AuditDigestFile
    /// Why the last attempt to sign the audit head failed, if it did (`convops check` says it).
    public internal(set) var digestProblem: String?

    /// `digestFile`: where the signed audit digests go (default `<path>.digests`); one is
    /// written every `digestInterval` audit entries, after retention, and by `signAuditHead`.
    /// `digestSink`: given every digest line once it is in the file (a copy kept elsewhere).
    public init(path: String, keys: DataKeys, digestFile: String? = nil, digestInterval: Int = 100,
                digestSink: (@Sendable (String) -> Void)? = nil) throws(StoreError) {
        self.digestSink = digestSink
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

    // MARK: People

    /// The pseudonym the store knows a person by, adding the person (encrypted) if new and
    /// updating a changed display name.
    public func pseudonym(for person: Person) throws -> String {
        try write { db in try self.pseudonym(db, person) }
    }

    func pseudonym(_ db: Database, _ person: Person) throws -> String {
        if person.id == AuditEntry.botActor { return AuditEntry.botActor }
        let index = keys.indexKey(person.id)
        if let known = people[index], known.name == person.name { return known.pseudonym }
        let found = try lookUpPseudonym(db, person, index)
        people[index] = (found, person.name)
        return found
    }

    private func lookUpPseudonym(_ db: Database, _ person: Person, _ index: Data) throws -> String {
        let find = try db.prepare("SELECT pseudonym, display_name FROM people WHERE id_index = ?").bind([.blob(index)])
        if try find.step(), let pseudonym = find.text(0) {
            if let stored = find.blob(1), (try? keys.open(stored, context: Self.nameContext(pseudonym))) != person.name {
                try db.prepare("UPDATE people SET display_name = ? WHERE pseudonym = ?")
                    .bind([.blob(try keys.seal(person.name, context: Self.nameContext(pseudonym))), .text(pseudonym)]).run()
            }
            return pseudonym
        }
        let pseudonym = "p-" + (0..<16).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        try db.prepare("INSERT INTO people (pseudonym, id_index, chat_id, display_name, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind([.text(pseudonym), .blob(index), .blob(try keys.seal(person.id, context: Self.idContext(pseudonym))),
                   .blob(try keys.seal(person.name, context: Self.nameContext(pseudonym))),
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
            return Person(id: try keys.open(id, context: Self.idContext(pseudonym)), name: try keys.open(name, context: Self.nameContext(pseudonym)))
        } catch {
            throw StoreError(code: 0, operation: "decrypt personal data", message:
                "the data key does not open this database's personal data (or the row was moved or edited): set CONVOPS_DATA_KEY (or the key file) to the key it was written with")
        }
    }

    /// Where a sealed value lives, authenticated with it (AES-GCM associated data).
    static func idContext(_ pseudonym: String) -> String { "people.chat_id:\(pseudonym)" }
    static func nameContext(_ pseudonym: String) -> String { "people.display_name:\(pseudonym)" }

    /// Seals again, bound to their row and column, the values an older convops sealed unbound.
    /// Runs at open; a value that opens bound is left alone.
    static func bindSealedValues(_ db: Database, _ keys: DataKeys) throws {
        let rows = try db.prepare("SELECT pseudonym, chat_id, display_name, id_index FROM people")
        var legacy: [(String, String, String)] = []
        while try rows.step() {
            guard let pseudonym = rows.text(0), let id = rows.blob(1), let name = rows.blob(2), let index = rows.blob(3) else { continue }
            if (try? keys.open(id, context: idContext(pseudonym))) != nil { continue }
            guard let plainID = try? keys.openUnbound(id), let plainName = try? keys.openUnbound(name) else { continue }
            // An unbound value copied in from another row (or an old backup) is not sealed again
            // here, where it would be bound to the wrong person: the row's own lookup key must
            // be the chat id's. Such a row stays unbound, and fails to open, as it should.
            guard keys.indexKey(plainID) == index else { continue }
            legacy.append((pseudonym, plainID, plainName))
        }
        for (pseudonym, id, name) in legacy {
            try db.prepare("UPDATE people SET chat_id = ?, display_name = ? WHERE pseudonym = ?")
                .bind([.blob(try keys.seal(id, context: idContext(pseudonym))), .blob(try keys.seal(name, context: nameContext(pseudonym))),
                       .text(pseudonym)]).run()
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
                INSERT INTO requests (id, state, plan, requester, channel, created_at, updated_at, expires_at, approver, outcome,
                                      needs_approval, environment)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).bind([.text(request.id), .text(request.state.rawValue), .text(try Self.json(request.plan)), .text(requester),
                           .text(request.channel), .real(request.createdAt.timeIntervalSince1970),
                           .real(request.updatedAt.timeIntervalSince1970), .real(request.expiresAt.timeIntervalSince1970),
                           .text(nil), .text(try request.outcome.map(Self.json)), .integer(request.approvalRequired ? 1 : 0),
                           .text(request.environment)]).run()
            try self.appendAudit(db, for: request, decision: .requested, actor: requester)
            try Self.count(db, "requests.\(request.plan.action.rawValue)")
        }
    }

    /// Moves a request from `expected` to the new state, with its audit entry, atomically.
    /// Returns false (and writes nothing) when the stored state is no longer `expected`:
    /// someone else's event won the race. `actor` is the person who decided, nil for the bot.
    public func transition(_ request: Request, from expected: RequestState, decision: AuditDecision, actor: Person?) throws -> Bool {
        // The move to `executing` is the promise that an AWS call may be out: it must survive
        // power loss too, so that recovery reports outcome_unknown rather than a plan that
        // seems never to have run. One fsync, for that commit only.
        if request.state == .executing { return try durably { try self.transitionNow(request, from: expected, decision: decision, actor: actor) } }
        return try transitionNow(request, from: expected, decision: decision, actor: actor)
    }

    /// Runs `body` with synchronous=FULL (outside any transaction, where SQLite allows it).
    private func durably<T>(_ body: () throws -> T) throws -> T {
        try withConnection { db in
            try db.execute("PRAGMA synchronous=FULL")
            defer { try? db.execute("PRAGMA synchronous=NORMAL") }
            return try body()
        }
    }

    private func transitionNow(_ request: Request, from expected: RequestState, decision: AuditDecision, actor: Person?) throws -> Bool {
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
            try self.appendAudit(db, for: request, decision: decision, actor: who)
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
        r.approvalRequired = s.integer(10) != 0
        r.environment = s.text(11)
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
            let computed = AuditChain.hash(row: s)
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
            try db.prepare("DELETE FROM chat_messages WHERE request_id NOT IN (SELECT id FROM requests)").run()
            return removed
        }
    }

    /// An audit event that is not a request transition: a refused click, a recovery report.
    public struct AuditEvent: Sendable {
        public var at: Date
        /// The person, or nil for the bot.
        public var actor: Person?
        public var action: String
        public var target: String
        public var decision: AuditDecision
        public var principal: String?
        public var outcome: String?
        public var requestID: String?

        public init(at: Date, actor: Person?, action: String, target: String, decision: AuditDecision,
                    principal: String? = nil, outcome: String? = nil, requestID: String? = nil) {
            self.at = at
            self.actor = actor
            self.action = action
            self.target = target
            self.decision = decision
            self.principal = principal
            self.outcome = outcome
            self.requestID = requestID
        }
    }

    /// Appends events to the audit log, durably, in one transaction.
    public func append(_ events: [AuditEvent]) throws {
        try write { db in
            for e in events {
                let actor = try e.actor.map { try self.pseudonym(db, $0) } ?? AuditEntry.botActor
                try self.appendAudit(db, at: e.at, actor: actor, action: e.action, target: e.target, decision: e.decision,
                                     principal: e.principal, outcome: e.outcome, requestID: e.requestID)
            }
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
            people[keys.indexKey(chatID)] = nil
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
    private func withConnection<T>(_ body: (Database) throws -> T) throws -> T {
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
        var hasher = SHA256()
        for field in [e.previousHash, String(e.seq), String(milliseconds(e.at)), e.actor, e.action, e.target,
                      e.decision.rawValue, e.principal ?? "\u{0}", e.outcome ?? "\u{0}", e.requestID ?? "\u{0}"] {
            var f = field
            f.withUTF8 { add(&hasher, $0) }
        }
        return String(decoding: hex(hasher.finalize()), as: UTF8.self)
    }

    /// The same hash, from a row of `SELECT * FROM audit` (columns: seq, at_ms, actor, action,
    /// target, decision, principal, outcome, request_id, prev_hash, hash), as hex bytes.
    static func hash(row s: Statement) -> [UInt8] {
        var hasher = SHA256()
        s.withBytes(9) { add(&hasher, $0 ?? UnsafeBufferPointer(start: nil, count: 0)) }
        for value in [s.integer(0), s.integer(1)] {
            var text = String(value)
            text.withUTF8 { add(&hasher, $0) }
        }
        for column: Int32 in [2, 3, 4, 5, 6, 7, 8] {
            s.withBytes(column) { bytes in
                if let bytes { add(&hasher, bytes) } else { nullField.withUnsafeBufferPointer { add(&hasher, $0) } }
            }
        }
        return hex(hasher.finalize())
    }

    private static let nullField: [UInt8] = [0]

    /// Each field goes in as `LENGTH:BYTES;`: no separator inside a value can forge another split.
    @inline(__always)
    private static func add(_ hasher: inout SHA256, _ bytes: UnsafeBufferPointer<UInt8>) {
        var prefix = String(bytes.count)
        prefix.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: ":")) { hasher.update(bufferPointer: $0) }
        if bytes.count > 0 { hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes)) }
        withUnsafeBytes(of: UInt8(ascii: ";")) { hasher.update(bufferPointer: $0) }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func hex(_ digest: SHA256.Digest) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var i = 0
        for byte in digest {
            out[i] = digits[Int(byte >> 4)]
            out[i + 1] = digits[Int(byte & 0xF)]
            i += 2
        }
        return out
    }

    static func checkpointText(seq: Int64, hash: String, atMilliseconds: Int64) -> String {
        "convops-audit-checkpoint;\(seq);\(hash);\(atMilliseconds)"
    }
}
