import ConvOpsCore
import Crypto
import Foundation

/// A person's data, exported and erased; and the anonymous counters.
extension Store {
    /// Everything the store holds about one person, decrypted, for `convops data export`.
    public struct PersonData: Sendable, Codable {
        public var person: Person
        public var pseudonym: String
        public var requests: [Request]
        public var audit: [AuditEntry]
        /// Their WhatsApp number, when it changed since the config was written (the config's is the operator's).
        public var whatsAppNumber: String?
        /// WhatsApp messages to them that Meta would not deliver (kept 30 days).
        public var whatsAppUndelivered: [UndeliveredWhatsApp] = []
        /// WhatsApp ids Meta reported for them other than their number (kept only as keyed
        /// hashes, which cannot be turned back into the id: counted here, erased with them).
        public var whatsAppIDsLearned = 0
    }

    public func export(chatID: String) throws -> PersonData? {
        try read { db in
            var number: String?
            let n = try db.prepare("SELECT number FROM whatsapp_numbers WHERE person_index = ?").bind([.blob(keys.indexKey(chatID))])
            if try n.step(), let blob = n.blob(0) { number = try? keys.open(blob, context: Self.numberContext(keys.indexKey(chatID))) }
            var undelivered: [UndeliveredWhatsApp] = []
            let u = try db.prepare("SELECT id, channel, what, code, reason, at FROM whatsapp_undelivered WHERE person_index = ? ORDER BY at")
                .bind([.blob(keys.indexKey(chatID))])
            while try u.step() { undelivered.append(Self.undelivered(u)) }
            let ids = try db.prepare("SELECT COUNT(*) FROM whatsapp_ids WHERE person_index = ?").bind([.blob(keys.indexKey(chatID))])
            let learned = try ids.step() ? Int(ids.integer(0)) : 0
            let find = try db.prepare("SELECT pseudonym FROM people WHERE id_index = ?").bind([.blob(keys.indexKey(chatID))])
            guard try find.step(), let pseudonym = find.text(0), let person = try self.person(db, pseudonym) else {
                // Known only by WhatsApp's records of them: that is all there is to export.
                guard number != nil || !undelivered.isEmpty || learned > 0 else { return nil }
                return PersonData(person: Person(id: chatID, name: chatID), pseudonym: "-", requests: [], audit: [], whatsAppNumber: number,
                                  whatsAppUndelivered: undelivered, whatsAppIDsLearned: learned)
            }
            var requests: [Request] = []
            let r = try db.prepare("SELECT * FROM requests WHERE requester = ? OR approver = ? ORDER BY created_at")
                .bind([.text(pseudonym), .text(pseudonym)])
            while try r.step() { requests.append(try self.request(db, from: r)) }
            var audit: [AuditEntry] = []
            let a = try db.prepare("SELECT * FROM audit WHERE actor = ? ORDER BY seq").bind([.text(pseudonym)])
            while try a.step() { audit.append(try Self.auditEntry(from: a)) }
            return PersonData(person: person, pseudonym: pseudonym, requests: requests, audit: audit, whatsAppNumber: number,
                              whatsAppUndelivered: undelivered, whatsAppIDsLearned: learned)
        }
    }

    /// Erases a person: their encrypted record goes; requests and audit entries keep only the
    /// pseudonym, which nothing can link back to them any more. The hash chain is untouched.
    /// Returns the pseudonym, or nil if the store never knew the person.
    @discardableResult
    public func erase(chatID: String) throws -> String? {
        let erased = try eraseRows(chatID)
        // The WAL still holds the pages as they were before (sealed, but the key sits beside
        // the file): copied into the database (where secure_delete zeroed the rows) and emptied.
        // A reader elsewhere may hold it back; the next checkpoint finishes it.
        try? withConnection { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        return erased
    }

    private func eraseRows(_ chatID: String) throws -> String? {
        try write { db in
            // A changed WhatsApp number goes even if the person never asked for anything.
            try db.prepare("DELETE FROM whatsapp_numbers WHERE person_index = ?").bind([.blob(keys.indexKey(chatID))]).run()
            var hadNumber = db.changes > 0
            try db.prepare("DELETE FROM whatsapp_undelivered WHERE person_index = ?").bind([.blob(keys.indexKey(chatID))]).run()
            hadNumber = hadNumber || db.changes > 0
            try db.prepare("DELETE FROM whatsapp_ids WHERE person_index = ?").bind([.blob(keys.indexKey(chatID))]).run()
            hadNumber = hadNumber || db.changes > 0
            let find = try db.prepare("SELECT pseudonym FROM people WHERE id_index = ?").bind([.blob(keys.indexKey(chatID))])
            guard try find.step(), let pseudonym = find.text(0) else { return hadNumber ? Self.noPseudonym : nil }
            try db.prepare("DELETE FROM people WHERE pseudonym = ?").bind([.text(pseudonym)]).run()
            people[keys.indexKey(chatID)] = nil
            return pseudonym
        }
    }

    /// What `erase` returns for a person who had a changed WhatsApp number and nothing else.
    public static let noPseudonym = "-"

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
}
