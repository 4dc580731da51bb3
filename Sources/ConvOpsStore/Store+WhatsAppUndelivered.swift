import ConvOpsCore
import Foundation

/// A WhatsApp message Meta would not deliver, parked with Meta's code and title.
public struct UndeliveredWhatsApp: Sendable, Hashable, Codable {
    public var id: String
    /// The conversation's opaque name (`wa:…`), never the number.
    public var channel: String
    /// What the message was ("alert ep-…", "approval request rq-…", "plan", "reply").
    public var what: String
    public var code: Int
    /// Meta's title for the code (never a message body, never a number).
    public var reason: String
    public var at: Date

    public init(id: String, channel: String, what: String, code: Int, reason: String, at: Date) {
        self.id = id
        self.channel = channel
        self.what = what
        self.code = code
        self.reason = reason
        self.at = at
    }
}

extension Store {
    /// How long parked WhatsApp failures are kept: long enough to be noticed and acted on.
    public static let undeliveredDays = 30

    /// Parks a message Meta would not deliver. `personID`: whom it was for, kept only as the
    /// keyed index, so that erasing the person erases these too.
    public func parkUndelivered(_ u: UndeliveredWhatsApp, personID: String?) throws {
        try write { db in
            try db.prepare("""
                INSERT OR REPLACE INTO whatsapp_undelivered (id, person_index, channel, what, code, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).bind([.text(u.id), .blob(personID.map { keys.indexKey($0) }), .text(u.channel), .text(u.what),
                           .integer(Int64(u.code)), .text(u.reason), .real(u.at.timeIntervalSince1970)]).run()
            try Self.count(db, "whatsapp.undelivered")
        }
    }

    /// The parked failures, newest first; `personID`: only theirs.
    public func undeliveredWhatsApp(personID: String? = nil, limit: Int = 500) throws -> [UndeliveredWhatsApp] {
        try read { db in
            let s: Statement
            if let personID {
                s = try db.prepare("SELECT id, channel, what, code, reason, at FROM whatsapp_undelivered WHERE person_index = ? ORDER BY at DESC, id LIMIT ?")
                    .bind([.blob(keys.indexKey(personID)), .integer(Int64(limit))])
            } else {
                s = try db.prepare("SELECT id, channel, what, code, reason, at FROM whatsapp_undelivered ORDER BY at DESC, id LIMIT ?")
                    .bind([.integer(Int64(limit))])
            }
            var out: [UndeliveredWhatsApp] = []
            while try s.step() { out.append(Self.undelivered(s)) }
            return out
        }
    }

    /// A row of `SELECT id, channel, what, code, reason, at FROM whatsapp_undelivered`.
    static func undelivered(_ s: Statement) -> UndeliveredWhatsApp {
        UndeliveredWhatsApp(id: s.text(0) ?? "", channel: s.text(1) ?? "", what: s.text(2) ?? "", code: Int(clamping: s.integer(3)),
                            reason: s.text(4) ?? "", at: Date(timeIntervalSince1970: s.real(5)))
    }

    public func undeliveredCount() throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT COUNT(*) FROM whatsapp_undelivered")
            return try s.step() ? Int(s.integer(0)) : 0
        }
    }

    /// Forgets parked failures: one by id, or all when `id` is nil. Returns how many went.
    @discardableResult
    public func forgetUndelivered(id: String?) throws -> Int {
        try write { db in
            if let id {
                try db.prepare("DELETE FROM whatsapp_undelivered WHERE id = ?").bind([.text(id)]).run()
            } else {
                try db.prepare("DELETE FROM whatsapp_undelivered").run()
            }
            return db.changes
        }
    }

    /// Forgets failures older than `before` (see `undeliveredDays`).
    public func pruneUndelivered(before: Date) throws {
        try write { db in
            try db.prepare("DELETE FROM whatsapp_undelivered WHERE at < ?").bind([.real(before.timeIntervalSince1970)]).run()
        }
    }
}
