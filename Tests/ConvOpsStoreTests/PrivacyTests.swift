import ConvOpsCore
@testable import ConvOpsStore
import Foundation
import Testing

/// The privacy promises, checked against the real database file.
@Suite struct PrivacyTests {
    @Test func noPersonalIdentifierIsInTheFileOrItsWAL() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "r1")
        try runOneRequest(store, id: "r2", by: bob)
        var r = request("r3", by: alice)
        try store.insert(r)
        r.state = .awaitingApproval
        #expect(try store.transition(r, from: .awaitingConfirmation, decision: .confirmed, actor: alice))
        r.state = .executing
        r.approver = bob
        #expect(try store.transition(r, from: .awaitingApproval, decision: .approved, actor: bob))
        // Read the raw bytes while the store is open, so the WAL still holds the writes.
        for suffix in ["", "-wal"] {
            let bytes = try #require(FileManager.default.contents(atPath: db.path + suffix), "\(suffix)")
            #expect(!bytes.isEmpty)
            for needle in ["U0ALICE7QX", "Alice Liddell", "Alice", "U0BOB9ZZTT", "Bob Builder"] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(needle) found in convops.db\(suffix)")
            }
        }
    }

    @Test func theSchemaHoldsOnlyDeclaredDataClasses() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let schema = try db.open().schema()
        #expect(Set(schema.keys) == Set(Store.declaredColumns.keys))
        for (table, columns) in schema {
            #expect(Set(columns) == Set(Store.declaredColumns[table]?.keys ?? [:].keys), "table \(table) has undeclared or missing columns")
        }
    }

    @Test func aPersonsDataIsExportedAndErased() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "r1")
        try runOneRequest(store, id: "r2", by: bob)
        let export = try #require(try store.export(chatID: alice.id))
        #expect(export.person == alice)
        #expect(export.requests.map(\.id) == ["r1"])
        #expect(export.audit.map(\.decision) == [.requested, .confirmed])
        let json = try JSONEncoder().encode(export)
        #expect(String(decoding: json, as: UTF8.self).contains("Alice Liddell"))

        let pseudonym = try #require(try store.erase(chatID: alice.id))
        #expect(try store.export(chatID: alice.id) == nil)
        #expect(try store.erase(chatID: alice.id) == nil)
        // The requests and audit entries stay, under the pseudonym nothing links back to Alice.
        let r1 = try #require(try store.request(id: "r1"))
        #expect(r1.requester == Person(id: pseudonym, name: pseudonym))
        #expect(store.displayName(pseudonym: pseudonym) == pseudonym)
        #expect(try store.verifyAudit() == .intact(entries: 6, from: 0))
        // Bob is untouched.
        #expect(try store.export(chatID: bob.id)?.requests.map(\.id) == ["r2"])
    }

    @Test func retentionPurgesBehindASignedCheckpoint() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "old", at: t0)                              // entries 1–3
        try runOneRequest(store, id: "new", at: t0.addingTimeInterval(400 * 86_400)) // entries 4–6
        let removed = try store.purge(olderThan: t0.addingTimeInterval(365 * 86_400))
        #expect(removed == 3)
        #expect(try store.request(id: "old") == nil)
        #expect(try store.request(id: "new")?.state == .succeeded)
        #expect(try store.verifyAudit() == .intact(entries: 3, from: 3))
        // New entries chain on from the checkpoint.
        try runOneRequest(store, id: "newer", at: t0.addingTimeInterval(401 * 86_400))
        #expect(try store.verifyAudit() == .intact(entries: 6, from: 3))
        // Entries the checkpoint does not cover still can't be deleted.
        #expect(try db.tamper("DELETE FROM audit WHERE seq = 5;").stderr.contains("only entries a retention checkpoint covers"))
        // A forged checkpoint (say, to hide a deletion) fails: it is signed with the data key.
        _ = try db.tamper("UPDATE audit_checkpoint SET seq = 4;")
        guard case .broken(let seq, let reason) = try store.verifyAudit() else {
            Issue.record("a forged checkpoint must not verify")
            return
        }
        #expect(seq == 4)
        #expect(reason.contains("signature"))
    }

    @Test func theWrongKeyIsAClearError() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        try runOneRequest(try db.open(), id: "r1")
        let other = try db.open(key: Data(repeating: 9, count: 32))
        let error = #expect(throws: StoreError.self) { _ = try other.request(id: "r1") }
        #expect(error?.message.contains("set CONVOPS_DATA_KEY") == true)
    }

    @Test func badKeysAreRefusedWithWhatToDo() {
        #expect(throws: DataKeyError.self) { _ = try DataKeys(dataKey: Data(count: 16)) }
        let error = #expect(throws: DataKeyError.self) { _ = try DataKeys.fromEnvironment(["CONVOPS_DATA_KEY": "not base64!"]) }
        #expect(error?.description.contains("head -c 32 /dev/urandom | base64") == true)
    }

    @Test func aKeyFileIsMadeOwnerReadableOnlyAndReused() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let path = db.directory + "/data.key"
        _ = try DataKeys.createFile(path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let first = try FileManager.default.contents(atPath: path)
        _ = try DataKeys.createFile(path)
        #expect(try FileManager.default.contents(atPath: path) == first)
    }
}
