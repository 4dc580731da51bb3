import ConvOpsCore
@testable import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

let alice = Person(id: "U0ALICE7QX", name: "Alice Liddell")
let bob = Person(id: "U0BOB9ZZTT", name: "Bob Builder")
let t0 = Date(timeIntervalSince1970: 1_800_000_000)
let keyData = Data((0..<32).map { UInt8($0 &* 7 &+ 3) })

func request(_ id: String, by person: Person = alice, at time: Date = t0) -> Request {
    let resource = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-1", region: "eu-west-1")
    let plan = Plan(action: .rebootInstance, resource: resource, risk: .mutating,
                    apiCalls: [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": resource.id])])
    return Request(id: id, plan: plan, requester: person, channel: "C024BE91L", createdAt: time, expiresAt: time.addingTimeInterval(600))
}

/// A database file in a fresh temp folder.
struct TempDatabase {
    let directory: String
    var path: String { directory + "/convops.db" }

    init() throws {
        directory = NSTemporaryDirectory() + "store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func open(key: Data = keyData) throws -> Store { try Store(path: path, keys: try DataKeys(dataKey: key)) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// As `tamper`, awaited on a thread of its own rather than blocking one of the cooperative
    /// pool's two: Python can take seconds to start while every suite runs at once, and the
    /// loopback servers of other tests need the pool meanwhile.
    @discardableResult
    func tampering(_ sql: String) async throws -> Subprocess.Result {
        let result = try await Subprocess.run("/usr/bin/env", ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", path, sql])
        guard result.status == 0 else { throw TestSupportError("the tampering SQL failed: \(result.stderr)") }
        return result
    }

    /// Runs SQL from outside our code, as someone with the file would (python's sqlite3).
    func tamper(_ sql: String) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", path, sql]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

/// Stores a request and takes it through confirm and a successful reboot.
func runOneRequest(_ store: Store, id: String, by person: Person = alice, at time: Date = t0) throws {
    var r = request(id, by: person, at: time)
    try store.insert(r)
    r.state = .executing
    r.updatedAt = time.addingTimeInterval(5)
    #expect(try store.transition(r, from: .awaitingConfirmation, decision: .confirmed, actor: person))
    r.state = .succeeded
    r.updatedAt = time.addingTimeInterval(9)
    r.outcome = Outcome(succeeded: true, summary: "rebooted", principal: "arn:aws:sts::123456789012:assumed-role/convops/ops")
    #expect(try store.transition(r, from: .executing, decision: .executed, actor: nil))
}

@Suite struct StoreTests {
    @Test func whatIsWrittenSurvivesCloseAndReopen() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        do {
            let store = try db.open()
            try runOneRequest(store, id: "r1")
        } // the store is closed here
        let reopened = try db.open()
        let r = try #require(try reopened.request(id: "r1"))
        #expect(r.state == .succeeded)
        #expect(r.requester == alice)
        #expect(r.plan.resource.name == "web-1")
        #expect(r.outcome?.principal == "arn:aws:sts::123456789012:assumed-role/convops/ops")
        let audit = try reopened.auditEntries(requestID: "r1")
        #expect(audit.map(\.decision) == [.requested, .confirmed, .executed])
        let pseudonym = try reopened.pseudonym(for: alice)
        #expect(audit.map(\.actor) == [pseudonym, pseudonym, "convops"])
        #expect(reopened.displayName(pseudonym: pseudonym) == "Alice Liddell")
        #expect(audit.last?.principal == "arn:aws:sts::123456789012:assumed-role/convops/ops")
        #expect(audit.last?.outcome == "rebooted")
        #expect(audit.first?.at == t0)
        #expect(try reopened.verifyAudit() == .intact(entries: 3, from: 0))
        #expect(reopened.schemaVersion == 14)
        #expect(try reopened.counters() == ["requests.reboot-instance": 1, "decisions.confirmed": 1, "decisions.executed": 1])
    }

    @Test func aTransitionFromAStaleStateWritesNothing() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        var r = request("r2")
        try store.insert(r)
        r.state = .cancelled
        #expect(try store.transition(r, from: .awaitingConfirmation, decision: .cancelled, actor: alice))
        // A confirm that read the old state loses the race: no state change, no audit entry.
        r.state = .executing
        #expect(try store.transition(r, from: .awaitingConfirmation, decision: .confirmed, actor: alice) == false)
        #expect(try store.request(id: "r2")?.state == .cancelled)
        #expect(try store.auditEntries(requestID: "r2").map(\.decision) == [.requested, .cancelled])
    }

    @Test func pendingRequestsAreFoundByState() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try store.insert(request("a"))
        try runOneRequest(store, id: "b")
        try store.insert(request("c", by: bob))
        #expect(try store.requests(in: [.awaitingConfirmation]).map(\.id).sorted() == ["a", "c"])
        #expect(try store.requests(in: [.awaitingConfirmation]).first { $0.id == "c" }?.requester == bob)
        #expect(try store.requests(in: [.succeeded]).map(\.id) == ["b"])
    }

    @Test func theDatabaseIsInWALMode() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try store.insert(request("w"))
        #expect(FileManager.default.fileExists(atPath: db.path + "-wal"))
    }

    @Test func theAuditLogRefusesUpdatesAndDeletes() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        let store = try db.open()
        try runOneRequest(store, id: "r3")
        let update = try db.tamper("UPDATE audit SET actor = 'mallory' WHERE seq = 1;")
        #expect(update.status != 0)
        #expect(update.stderr.contains("the audit log is append-only"))
        let delete = try db.tamper("DELETE FROM audit WHERE seq = 2;")
        #expect(delete.stderr.contains("only entries a retention checkpoint covers can be purged"))
        #expect(try store.verifyAudit() == .intact(entries: 3, from: 0))
    }

    /// With the triggers dropped (someone with write access to the file), the chain still tells.
    @Test(arguments: [
        ("edited", "UPDATE audit SET actor = 'mallory' WHERE seq = 2;", Store.AuditVerification.broken(seq: 2, reason: "its content was changed")),
        ("deleted", "DELETE FROM audit WHERE seq = 2;", .broken(seq: 3, reason: "entry 2 is missing")),
        ("replaced", "DELETE FROM audit WHERE seq >= 2; INSERT INTO audit SELECT 2, at_ms, 'x', action, target, decision, principal, outcome, request_id, prev_hash, hash FROM audit WHERE seq = 1;",
         .broken(seq: 2, reason: "does not link to the entry before it")),
        ("reordered", "UPDATE audit SET seq = seq + 100 WHERE seq IN (2, 3); UPDATE audit SET seq = 2 WHERE seq = 103; UPDATE audit SET seq = 3 WHERE seq = 102;",
         .broken(seq: 2, reason: "does not link to the entry before it")),
    ])
    func verifyFindsTheFirstBadEntry(_ name: String, _ sql: String, _ expected: Store.AuditVerification) throws {
        let db = try TempDatabase()
        defer { db.remove() }
        do {
            let store = try db.open()
            try runOneRequest(store, id: "r4")
            try runOneRequest(store, id: "r5")
        }
        let result = try db.tamper("DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete; " + sql)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.open().verifyAudit() == expected)
    }

    @Test func aNewerSchemaIsRefusedWithAClearMessage() throws {
        let db = try TempDatabase()
        defer { db.remove() }
        _ = try db.open()
        _ = try db.tamper("PRAGMA user_version = 99;")
        let error = #expect(throws: StoreError.self) { _ = try db.open() }
        #expect(error?.message.contains("newer than this convops") == true)
    }

    @Test func anUnopenableFileIsAClearError() {
        let error = #expect(throws: StoreError.self) { _ = try Store(path: "/nonexistent-dir/x/convops.db", keys: try DataKeys(dataKey: keyData)) }
        #expect(error?.operation == "open /nonexistent-dir/x/convops.db")
    }
}
