import ConvOpsCore
@testable import ConvOpsStore
import Crypto
import Foundation
import Testing

/// Keys and personal data on disk: owner-only files, values bound to their rows, deleted rows
/// gone from the file, and a tampered file refused by name rather than trapped on.
@Suite struct FileSecurityTests {
    func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func databaseWALAndKeyFileAreOwnerOnlyWhateverTheUmask() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let old = umask(0o022)
        defer { umask(old) }
        let keyPath = db.directory + "/convops.db.key"
        let keys = try DataKeys.createFile(keyPath)
        let store = try Store(path: db.path, keys: keys)
        try runOneRequest(store, id: "r1")
        #expect(try mode(keyPath) == 0o600)
        #expect(try mode(db.path) == 0o600)
        #expect(try mode(db.path + "-wal") == 0o600)
        #expect(try mode(db.path + "-shm") == 0o600)
    }

    @Test func aKeyFileOthersCanReadIsRefusedWithWhatToDo() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let keyPath = db.directory + "/key"
        _ = try DataKeys.createFile(keyPath)
        #expect(chmod(keyPath, 0o644) == 0)
        let error = #expect(throws: DataKeyError.self) { try DataKeys.fromFile(keyPath) }
        #expect(error?.description.contains("can be read by others (mode 644): run `chmod 600 \(keyPath)`") == true)
        // createFile does not quietly reuse it either.
        #expect(throws: DataKeyError.self) { try DataKeys.createFile(keyPath) }
        #expect(chmod(keyPath, 0o400) == 0)
        _ = try DataKeys.fromFile(keyPath)
    }

    @Test func anOlderDatabaseLeftOpenToOthersIsTightened() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        try runOneRequest(try db.open(), id: "r1")
        #expect(chmod(db.path, 0o644) == 0)
        _ = try db.open()
        #expect(try mode(db.path) == 0o600)
    }

    @Test func aSealedValueMovedToAnotherRowNoLongerOpens() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try store.pseudonym(for: alice), b = try store.pseudonym(for: bob)
        // Someone with the file copies Alice's sealed name into Bob's row.
        try await db.tampering("UPDATE people SET display_name = (SELECT display_name FROM people WHERE pseudonym = '\(a)') WHERE pseudonym = '\(b)'")
        let reopened = try db.open()
        #expect(try reopened.person(pseudonym: a)?.name == "Alice Liddell")
        let error = #expect(throws: StoreError.self) { try reopened.person(pseudonym: b) }
        #expect(error?.message.contains("moved or edited") == true)
    }

    @Test func valuesSealedByAnOlderConvopsAreBoundAtOpen() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try store.pseudonym(for: alice)
        let keys = try DataKeys(dataKey: keyData)
        // Write Alice's row the way the previous version did: sealed without a context.
        let id = try AESLegacy.seal(alice.id, keys), name = try AESLegacy.seal(alice.name, keys)
        try await db.tampering("UPDATE people SET chat_id = X'\(id.hex)', display_name = X'\(name.hex)' WHERE pseudonym = '\(a)'")
        let reopened = try db.open()
        #expect(try reopened.person(pseudonym: a) == alice)
        // And now it is bound: it no longer opens unbound.
        let stored = try #require(try reopened.read { db -> Data? in
            let s = try db.prepare("SELECT display_name FROM people WHERE pseudonym = ?").bind([.text(a)])
            return try s.step() ? s.blob(0) : nil
        })
        #expect((try? keys.openUnbound(stored)) == nil)
    }

    @Test func anErasedPersonLeavesNoBytesInFreePages() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "r1", by: bob)
        let index = try DataKeys(dataKey: keyData).indexKey(bob.id)
        #expect(try store.erase(chatID: bob.id) != nil)
        _ = try store.read { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: db.path + suffix) ?? Data()
            #expect(bytes.range(of: index) == nil, "the erased person's lookup key is still in convops.db\(suffix)")
        }
    }

    @Test func aTamperedSchemaVersionOrAuditSequenceIsANamedError() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        try runOneRequest(try db.open(), id: "r1")
        try await db.tampering("PRAGMA user_version = -1")
        let version = #expect(throws: StoreError.self) { try db.open() }
        #expect(version?.message.contains("which no convops writes: the file was edited") == true)
        try await db.tampering("PRAGMA user_version = \(Migrations.all.count)")
        try await db.tampering("DROP TRIGGER IF EXISTS audit_append_only_update; DROP TRIGGER IF EXISTS audit_append_only_delete; UPDATE audit SET seq = 9223372036854775807 WHERE seq = (SELECT MAX(seq) FROM audit)")
        let store = try db.open()
        let seq = #expect(throws: (any Error).self) { try store.insert(request("r2")) }
        #expect("\(seq.map { "\($0)" } ?? "")".contains("claims sequence number 9223372036854775807"))
    }

    /// A pre-upgrade (unbound) value copied from one person's row into another's is not
    /// sealed again under the wrong person at open: it stays unopenable.
    @Test func anUnboundValueMovedFromAnotherRowIsNotLaundered() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try store.pseudonym(for: alice), b = try store.pseudonym(for: bob)
        let keys = try DataKeys(dataKey: keyData)
        let id = try AESLegacy.seal(alice.id, keys), name = try AESLegacy.seal(alice.name, keys)
        try await db.tampering("UPDATE people SET chat_id = X'\(id.hex)', display_name = X'\(name.hex)' WHERE pseudonym = '\(b)'")
        let reopened = try db.open()
        #expect(try reopened.person(pseudonym: a) == alice)
        #expect(throws: StoreError.self) { try reopened.person(pseudonym: b) }
    }
}

/// How the previous version sealed personal data, to test the upgrade.
enum AESLegacy {
    static func seal(_ text: String, _ keys: DataKeys) throws -> Data {
        try AES.GCM.seal(Data(text.utf8), using: keys.encryption).combined!
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
