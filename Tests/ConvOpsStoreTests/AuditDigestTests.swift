import ConvOpsCore
@testable import ConvOpsStore
import Foundation
import Testing

/// The audit log's signed head: shortening, rolling back or rewriting the log is caught, also
/// by an auditor with only the public key, even when the triggers are dropped and the chain
/// itself is made to verify again.
@Suite struct AuditDigestTests {
    static let dropTriggers = "DROP TRIGGER IF EXISTS audit_append_only_update; DROP TRIGGER IF EXISTS audit_append_only_delete;"

    /// Three requests (nine entries) and a signed head.
    func signedLog(_ db: TempDatabase) throws -> Store {
        let store = try db.open()
        for n in 1...3 { try runOneRequest(store, id: "r\(n)") }
        try store.signAuditHead()
        return store
    }

    @Test func aSignedLogVerifiesWithTheDataKeyAndWithThePublicKeyAlone() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        #expect(try store.verifyAudit() == .intact(entries: 9, from: 0))
        guard case .intact(1, 9, _, 0) = try store.verifyDigests() else { Issue.record("\(try store.verifyDigests())"); return }
        let (chain, digests) = try Store.verifyAudit(databasePath: db.path, digestFile: nil, publicKey: store.auditPublicKey)
        #expect(chain == .intact(entries: 9, from: 0))
        guard case .intact(1, 9, _, 0) = digests else { Issue.record("\(digests)"); return }
        // Entries after the newest digest are counted, not hidden.
        try runOneRequest(store, id: "r4")
        guard case .intact(1, 9, _, 3) = try store.verifyDigests() else { Issue.record("\(try store.verifyDigests())"); return }
    }

    @Test func deletingTheNewestEntriesOrAllOfThemIsCaught() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        _ = try signedLog(db)
        try await db.tampering(Self.dropTriggers + "DELETE FROM audit WHERE seq > 6")
        let store = try db.open()
        // The chain alone still verifies: that was the finding.
        #expect(try store.verifyAudit() == .intact(entries: 6, from: 0))
        guard case .broken(let reason) = try store.verifyDigests() else { Issue.record("not caught"); return }
        #expect(reason.contains("truncated or rolled back"), "\(reason)")
        #expect(reason.contains("signed entries up to 9, and the log ends at 6"))
        try await db.tampering(Self.dropTriggers + "DELETE FROM audit")
        guard case .broken(let all) = try db.open().verifyDigests() else { Issue.record("not caught"); return }
        #expect(all.contains("the log ends at 0"))
        // And it is never signed over.
        #expect(throws: StoreError.self) { try db.open().signAuditHead() }
    }

    @Test func restoringAnOlderCopyOfTheDatabaseIsCaught() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "r1")
        _ = try store.read { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(atPath: db.path, toPath: db.path + ".backup")
        for n in 2...3 { try runOneRequest(store, id: "r\(n)") }
        try store.signAuditHead()
        _ = try store.read { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db.path + suffix) }
        try FileManager.default.copyItem(atPath: db.path + ".backup", toPath: db.path)
        guard case .broken(let reason) = try db.open().verifyDigests() else { Issue.record("not caught"); return }
        #expect(reason.contains("truncated or rolled back"), "\(reason)")
    }

    @Test func aRewrittenChainThatVerifiesAgainIsCaught() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        // Change what entry 9 says and give it a hash that fits: the chain verifies again.
        var entry = try #require(try store.auditEntries(limit: 1).last)
        entry.target = "ec2-instance i-0innocent (nothing) eu-west-1"
        entry.hash = AuditChain.hash(entry)
        try await db.tampering(Self.dropTriggers + "UPDATE audit SET target = '\(entry.target)', hash = '\(entry.hash)' WHERE seq = 9")
        let reopened = try db.open()
        #expect(try reopened.verifyAudit() == .intact(entries: 9, from: 0))
        guard case .broken(let reason) = try reopened.verifyDigests() else { Issue.record("not caught"); return }
        #expect(reason.contains("rewritten: entry 9 is not the one"), "\(reason)")
    }

    @Test func anEditedForgedOrShortenedDigestFileIsCaught() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        try runOneRequest(store, id: "r4")
        try store.signAuditHead()
        let path = db.path + ".digests"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // An edited number breaks its signature.
        try (lines[0] + "\n" + lines[1].replacingOccurrences(of: "\"head_seq\":12", with: "\"head_seq\":6") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        guard case .broken(let edited) = try store.verifyDigests() else { Issue.record("edit not caught"); return }
        #expect(edited.contains("digest 2 of \(path) is not signed by this key"), "\(edited)")
        // Removing the first digest breaks the chain of digests.
        try (lines[1] + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        guard case .broken(let removed) = try store.verifyDigests() else { Issue.record("removal not caught"); return }
        #expect(removed.contains("does not follow the one before it"), "\(removed)")
        // Another key's digests are not ours.
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let other = try TempDatabase()
        defer { other.remove() }
        let otherKey = try other.open(key: Data(repeating: 7, count: 32)).auditPublicKey
        let (_, forged) = try Store.verifyAudit(databasePath: db.path, digestFile: path, publicKey: otherKey)
        guard case .broken(let wrongKey) = forged else { Issue.record("wrong key accepted"); return }
        #expect(wrongKey.contains("not signed by this key"))
        #expect(throws: StoreError.self) { try Store.verifyAudit(databasePath: db.path, digestFile: path, publicKey: "not a key") }
    }

    @Test func aDigestIsWrittenEveryIntervalEntriesWithoutBeingAsked() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try Store(path: db.path, keys: try DataKeys(dataKey: keyData), digestInterval: 4)
        for n in 1...3 { try runOneRequest(store, id: "r\(n)") }
        let lines = try String(contentsOfFile: db.path + ".digests", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "9 entries at an interval of 4: signed after entries 4 and 8, not \(lines.count) times")
        guard case .intact(2, _, _, _) = try store.verifyDigests() else { Issue.record("\(try store.verifyDigests())"); return }
        #expect(try FileManager.default.attributesOfItem(atPath: db.path + ".digests")[.posixPermissions] as? Int == 0o600)
    }

    @Test func retentionSignsWhereTheCheckpointMovedTo() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        try runOneRequest(store, id: "r9", at: t0.addingTimeInterval(86_400 * 30))
        #expect(try store.purge(olderThan: t0.addingTimeInterval(86_400)) == 9)
        guard case .intact(2, 12, _, 0) = try store.verifyDigests() else { Issue.record("\(try store.verifyDigests())"); return }
        let (chain, digests) = try Store.verifyAudit(databasePath: db.path, digestFile: nil, publicKey: store.auditPublicKey)
        #expect(chain == .intact(entries: 3, from: 9))
        guard case .intact = digests else { Issue.record("\(digests)"); return }
    }

    /// Without the data key the checkpoint's HMAC can't be checked: raising the checkpoint to
    /// hide deleted entries must still fail, against the digests.
    @Test func aForgedCheckpointThatHidesDeletedEntriesIsCaughtWithoutTheDataKey() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        let key = store.auditPublicKey
        let ninth = try #require(try store.auditEntries(limit: 1).last)
        try await db.tampering(Self.dropTriggers + """
            INSERT INTO audit_checkpoint (id, seq, hash, at_ms, signature) VALUES (1, 9, '\(ninth.hash)', 0, 'forged')
              ON CONFLICT(id) DO UPDATE SET seq = 9, hash = '\(ninth.hash)', signature = 'forged';
            DELETE FROM audit;
            """)
        let (chain, digests) = try Store.verifyAudit(databasePath: db.path, digestFile: nil, publicKey: key)
        #expect(chain == .intact(entries: 0, from: 9))
        guard case .broken(let reason) = digests else { Issue.record("a forged checkpoint passed: \(digests)"); return }
        #expect(reason.contains("not the one the newest digest signed"), "\(reason)")
        // With the key, the HMAC fails too, and the signer will not sign it.
        let reopened = try db.open()
        guard case .broken = try reopened.verifyAudit() else { Issue.record("keyed verify passed"); return }
        #expect(throws: StoreError.self) { try reopened.signAuditHead() }
    }

    @Test func aDeletedDigestFileIsReportedNotTakenForANewLog() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        _ = try signedLog(db)
        try FileManager.default.removeItem(atPath: db.path + ".digests")
        guard case .broken(let reason) = try db.open().verifyDigests() else { Issue.record("not caught"); return }
        #expect(reason.contains("holds no signed digest (it was deleted or emptied"), "\(reason)")
        // A garbled file does not stop the store from opening; verify names it.
        try "{not a digest\n".write(toFile: db.path + ".digests", atomically: true, encoding: .utf8)
        let store = try db.open()
        guard case .broken(let garbled) = try store.verifyDigests() else { Issue.record("garbled file passed"); return }
        #expect(garbled.contains("line 1 of"))
        #expect(throws: StoreError.self) { try store.signAuditHead() }
    }

    /// Entries written after the newest digest and edited before the next one (a crash, then
    /// an edit, then a restart) are not signed over.
    @Test func editedEntriesAfterTheNewestDigestAreNeverSigned() async throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try signedLog(db)
        try runOneRequest(store, id: "r4")
        var entry = try #require(try store.auditEntries(limit: 3).first)   // entry 10, not yet signed
        entry.target = "ec2-instance i-0innocent (nothing) eu-west-1"
        entry.hash = AuditChain.hash(entry)
        try await db.tampering(Self.dropTriggers + "UPDATE audit SET target = '\(entry.target)', hash = '\(entry.hash)' WHERE seq = 10")
        let error = #expect(throws: StoreError.self) { try db.open().signAuditHead() }
        #expect(error?.message.contains("entries after 9 do not link or hash right") == true, "\(String(describing: error))")
    }

    /// Two processes on one database (run and chat) chain their digests one after the other.
    @Test func twoStoresOnOneDatabaseKeepOneChainOfDigests() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let first = try db.open(), second = try db.open()
        var step = 0
        do {
            step = 1; try runOneRequest(first, id: "r1")
            step = 2; try first.signAuditHead()
            step = 3; try runOneRequest(second, id: "r2")
            step = 4; try second.signAuditHead()
            step = 5; try runOneRequest(second, id: "r3")
            step = 6; try first.signAuditHead()
        } catch { Issue.record("step \(step): \(error)"); return }
        guard case .intact(3, 9, _, 0) = try first.verifyDigests() else { Issue.record("\(try first.verifyDigests())"); return }
    }
}
