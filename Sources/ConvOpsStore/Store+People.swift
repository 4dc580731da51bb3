import ConvOpsCore
import Crypto
import Foundation

/// People: stored once, sealed, found by a keyed hash of their chat id.
extension Store {
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

    func lookUpPseudonym(_ db: Database, _ person: Person, _ index: Data) throws -> String {
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
                   .real(clock.now().timeIntervalSince1970)]).run()
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
}
