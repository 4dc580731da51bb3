import ConvOpsCore
import Foundation

/// A verified WhatsApp webhook body waiting to be processed.
public struct WebhookDelivery: Sendable, Hashable {
    public var id: String
    public var body: Data
    public var receivedAt: Date
    public var attempts: Int
}

extension Store {
    /// Keeps a verified webhook body, before Meta is answered (Meta keeps no history: a body
    /// answered 200 and then lost is lost for good).
    public func receiveWebhook(_ body: Data, id: String, at: Date) throws {
        try write { db in
            let sealed = try keys.seal(String(decoding: body, as: UTF8.self), context: Self.webhookContext(id))
            try db.prepare("INSERT INTO whatsapp_inbox (id, body, received_at) VALUES (?, ?, ?)")
                .bind([.text(id), .blob(sealed), .real(at.timeIntervalSince1970)]).run()
            try Self.count(db, "whatsapp.webhooks")
        }
    }

    /// Bodies not processed yet, in the order they came.
    public func pendingWebhooks(limit: Int = 100) throws -> [WebhookDelivery] {
        try read { db in
            let s = try db.prepare("SELECT id, body, received_at, attempts FROM whatsapp_inbox WHERE attempts < 5 ORDER BY received_at, rowid LIMIT ?")
                .bind([.integer(Int64(limit))])
            var out: [WebhookDelivery] = []
            while try s.step() {
                let id = s.text(0) ?? ""
                // A row that no longer opens (edited, or another key) is not replayed as something else.
                guard let blob = s.blob(1), let text = try? keys.open(blob, context: Self.webhookContext(id)) else { continue }
                out.append(WebhookDelivery(id: id, body: Data(text.utf8), receivedAt: Date(timeIntervalSince1970: s.real(2)),
                                           attempts: Int(clamping: s.integer(3))))
            }
            return out
        }
    }

    /// Bodies that failed five times: kept for `check` to count, no longer tried.
    public func stuckWebhooks() throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT COUNT(*) FROM whatsapp_inbox WHERE attempts >= 5")
            return try s.step() ? Int(s.integer(0)) : 0
        }
    }

    /// Rows that no longer decrypt: counted for `check`, never processed.
    public func unreadableWebhooks() throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT id, body FROM whatsapp_inbox")
            var bad = 0
            while try s.step() {
                let id = s.text(0) ?? ""
                if s.blob(1).map({ (try? keys.open($0, context: Self.webhookContext(id))) == nil }) ?? true { bad += 1 }
            }
            return bad
        }
    }

    /// The body is processed: it goes (what it said lives on only as requests and audit entries).
    public func processedWebhook(id: String) throws {
        try write { db in try db.prepare("DELETE FROM whatsapp_inbox WHERE id = ?").bind([.text(id)]).run() }
    }

    /// Processing failed; it is tried again later. `reason` must not quote the body.
    public func webhookFailed(id: String, reason: String) throws {
        try write { db in
            try db.prepare("UPDATE whatsapp_inbox SET attempts = attempts + 1, last_error = ? WHERE id = ?").bind([.text(reason), .text(id)]).run()
        }
    }

    /// Whether an inbound message (by its wamid) was already acted on.
    public func seenWhatsAppMessage(_ wamid: String) throws -> Bool {
        try read { db in
            try db.prepare("SELECT 1 FROM whatsapp_seen WHERE ref = ?").bind([.blob(keys.indexKey("wamid:" + wamid))]).step()
        }
    }

    /// Notes an inbound message as acted on. False if it already was.
    @discardableResult
    public func markWhatsAppMessage(_ wamid: String, at: Date) throws -> Bool {
        try write { db in
            try db.prepare("INSERT OR IGNORE INTO whatsapp_seen (ref, at) VALUES (?, ?)")
                .bind([.blob(keys.indexKey("wamid:" + wamid)), .real(at.timeIntervalSince1970)]).run()
            return db.changes == 1
        }
    }

    /// A sent message's delivery state: the new one if it ranks higher than the stored one
    /// (statuses come in any order and more than once), else the stored one; `changed` says
    /// which.
    public func recordDeliveryStatus(messageID: String, state: String, rank: Int, errorCode: Int?, at: Date) throws -> (state: String, changed: Bool) {
        try write { db in
            let ref = keys.indexKey("wamid:" + messageID)
            let s = try db.prepare("SELECT state, rank FROM whatsapp_statuses WHERE ref = ?").bind([.blob(ref)])
            if try s.step() {
                let stored = s.text(0) ?? "", storedRank = Int(s.integer(1))
                guard rank > storedRank else { return (stored, false) }
                try db.prepare("UPDATE whatsapp_statuses SET state = ?, rank = ?, updated_at = ?, error_code = ? WHERE ref = ?")
                    .bind([.text(state), .integer(Int64(rank)), .real(at.timeIntervalSince1970), Statement.Value.integer(errorCode.map(Int64.init)),
                           .blob(ref)]).run()
                return (state, true)
            }
            try db.prepare("INSERT INTO whatsapp_statuses (ref, state, rank, updated_at, error_code) VALUES (?, ?, ?, ?, ?)")
                .bind([.blob(ref), .text(state), .integer(Int64(rank)), .real(at.timeIntervalSince1970),
                       Statement.Value.integer(errorCode.map(Int64.init))]).run()
            return (state, true)
        }
    }

    /// Forgets message ids older than `before` (Meta redelivers for up to 7 days).
    public func pruneWhatsApp(before: Date) throws {
        try write { db in
            try db.prepare("DELETE FROM whatsapp_seen WHERE at < ?").bind([.real(before.timeIntervalSince1970)]).run()
            try db.prepare("DELETE FROM whatsapp_statuses WHERE updated_at < ?").bind([.real(before.timeIntervalSince1970)]).run()
        }
    }

    /// What requests and cards store as the channel of a WhatsApp conversation: a keyed hash
    /// of the person's WhatsApp id, so that no phone number is in any row.
    public func whatsAppChannel(waID: String) -> String {
        "wa:" + keys.indexKey("whatsapp.channel:" + waID).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// What a card stores as its message id for a message we sent (wamids encode the number).
    public func whatsAppMessageRef(_ wamid: String) -> String {
        keys.indexKey("whatsapp.message:" + wamid).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// A person's number changed (WhatsApp's `user_changed_number`): kept, sealed, so that
    /// their messages from the new number reach them and ours go there. Ids learned for the old
    /// number are forgotten (the old number may be someone else's now).
    public func changedNumber(personID: String, to number: String, at: Date) throws {
        try write { db in
            let index = keys.indexKey(personID)
            let context = Self.numberContext(index)
            try db.prepare("""
                INSERT INTO whatsapp_numbers (person_index, person_id, number, changed_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(person_index) DO UPDATE SET person_id = excluded.person_id, number = excluded.number, changed_at = excluded.changed_at
                """).bind([.blob(index), .blob(try keys.seal(personID, context: context + ".id")), .blob(try keys.seal(number, context: context)),
                           .real(at.timeIntervalSince1970)]).run()
            try db.prepare("DELETE FROM whatsapp_ids WHERE person_index = ?").bind([.blob(index)]).run()
        }
    }

    /// Every changed number, by the person's id (read at start).
    public func changedNumbers() throws -> [String: String] {
        try read { db in
            let s = try db.prepare("SELECT person_index, person_id, number FROM whatsapp_numbers")
            var out: [String: String] = [:]
            while try s.step() {
                guard let index = s.blob(0), let id = s.blob(1), let number = s.blob(2) else { continue }
                let context = Self.numberContext(index)
                guard let person = try? keys.open(id, context: context + ".id"), let n = try? keys.open(number, context: context),
                      keys.indexKey(person) == index else { continue }
                out[person] = n
            }
            return out
        }
    }

    /// Meta reported `waID` when we dialled `number` for `personID`: kept as keyed hashes, with
    /// the person's id sealed, so that their messages from it reach them. False (nothing
    /// written) when the id is already another person's.
    @discardableResult
    public func learnWhatsAppID(_ waID: String, personID: String, dialled number: String, at: Date) throws -> Bool {
        try write { db in
            let index = keys.indexKey("whatsapp.id:" + waID)
            try db.prepare("""
                INSERT INTO whatsapp_ids (id_index, person_index, person_id, number_index, learned_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id_index) DO UPDATE SET number_index = excluded.number_index, learned_at = excluded.learned_at
                WHERE person_index = excluded.person_index
                """).bind([.blob(index), .blob(keys.indexKey(personID)), .blob(try keys.seal(personID, context: Self.idContext(index))),
                           .blob(keys.indexKey("whatsapp.dialled:" + number)), .real(at.timeIntervalSince1970)]).run()
            return db.changes == 1
        }
    }

    /// Whose WhatsApp id `waID` is, if learned while dialling the number `numberOf` says that
    /// person has now. A row learned for a number they no longer have is forgotten (that
    /// number may be someone else's by now).
    public func whatsAppPerson(waID: String, numberOf: (String) -> String?) throws -> String? {
        let index = keys.indexKey("whatsapp.id:" + waID)
        let found: (person: String, number: Data)? = try read { db in
            let s = try db.prepare("SELECT person_index, person_id, number_index FROM whatsapp_ids WHERE id_index = ?").bind([.blob(index)])
            guard try s.step(), let personIndex = s.blob(0), let sealed = s.blob(1), let number = s.blob(2),
                  let person = try? keys.open(sealed, context: Self.idContext(index)), keys.indexKey(person) == personIndex else { return nil }
            return (person, number)
        }
        guard let found else { return nil }
        guard let current = numberOf(found.person), keys.indexKey("whatsapp.dialled:" + current) == found.number else {
            try write { db in try db.prepare("DELETE FROM whatsapp_ids WHERE id_index = ?").bind([.blob(index)]).run() }
            return nil
        }
        return found.person
    }

    static func idContext(_ index: Data) -> String { "whatsapp_ids.person:" + index.prefix(8).map { String(format: "%02x", $0) }.joined() }

    static func numberContext(_ index: Data) -> String { "whatsapp_numbers.number:" + index.prefix(8).map { String(format: "%02x", $0) }.joined() }

    static func webhookContext(_ id: String) -> String { "whatsapp_inbox.body:\(id)" }
}
