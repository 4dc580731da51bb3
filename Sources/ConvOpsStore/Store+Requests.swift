import ConvOpsCore
import Crypto
import Foundation

/// Requests: inserted with their `requested` entry, moved by compare-and-set transitions.
extension Store {
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
    func durably<T>(_ body: () throws -> T) throws -> T {
        try withConnection { db in
            try db.execute("PRAGMA synchronous=FULL")
            defer { try? db.execute("PRAGMA synchronous=NORMAL") }
            return try body()
        }
    }

    func transitionNow(_ request: Request, from expected: RequestState, decision: AuditDecision, actor: Person?) throws -> Bool {
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
        let plan = try decoder.decode(Plan.self, from: Data((try s.text("plan") ?? "").utf8))
        let requesterRef = try s.text("requester") ?? ""
        let requester = try person(db, requesterRef) ?? Person(id: requesterRef, name: requesterRef)
        var r = Request(id: try s.text("id") ?? "", plan: plan, requester: requester, channel: try s.text("channel") ?? "",
                        createdAt: Date(timeIntervalSince1970: try s.real("created_at")),
                        expiresAt: Date(timeIntervalSince1970: try s.real("expires_at")))
        r.state = RequestState(rawValue: try s.text("state") ?? "") ?? .outcomeUnknown
        r.updatedAt = Date(timeIntervalSince1970: try s.real("updated_at"))
        if let ref = try s.text("approver") { r.approver = try person(db, ref) ?? Person(id: ref, name: ref) }
        if let outcome = try s.text("outcome") { r.outcome = try decoder.decode(Outcome.self, from: Data(outcome.utf8)) }
        r.approvalRequired = try s.integer("needs_approval") != 0
        r.environment = try s.text("environment")
        return r
    }
}
