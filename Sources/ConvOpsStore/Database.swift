import CSQLite
import Foundation

/// A SQLite failure: the result code, what we were doing, and SQLite's own message.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int32
    public var operation: String
    public var message: String

    public var description: String { "database error during \(operation): \(message) (sqlite \(code))" }
}

let sqliteTransient = convops_sqlite_transient()

/// Owns one `sqlite3*` connection. Not Sendable: `Store` lends it out under a lock.
final class Database {
    let handle: OpaquePointer
    /// Prepared statements by SQL text, reused (reset and rebound) instead of prepared again.
    private var statements: [String: Statement] = [:]

    /// `readOnly`: for an auditor's check, which must change nothing (and needs no key).
    init(path: String, readOnly: Bool = false) throws(StoreError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw StoreError(code: rc, operation: "open \(path)", message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        statements.removeAll()   // finalize them before closing
        sqlite3_close_v2(handle)
    }

    /// The one place a SQLite result code becomes an error.
    @discardableResult
    func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(StoreError) -> Int32 {
        switch rc & 0xFF {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return rc
        default: throw StoreError(code: rc, operation: operation(), message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    func execute(_ sql: String) throws(StoreError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), "exec \(sql.prefix(60))")
    }

    /// Resets every cached statement. A statement left mid-result (stepped once for a single
    /// row) keeps the connection's read transaction open: the connection would go on reading
    /// an old snapshot and the WAL could never be checkpointed. So each store operation ends
    /// with this.
    func resetStatements() {
        for statement in statements.values { sqlite3_reset(statement.handle) }
    }

    /// A prepared statement for `sql`, from the cache when it was prepared before.
    func prepare(_ sql: String) throws(StoreError) -> Statement {
        if let cached = statements[sql] {
            try check(sqlite3_reset(cached.handle), "reset")
            return cached
        }
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil), "prepare \(sql.prefix(60))")
        let statement = Statement(stmt!, database: self)
        statements[sql] = statement
        return statement
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try prepare("BEGIN IMMEDIATE").run()
        do {
            let result = try body()
            try prepare("COMMIT").run()
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// Owns one prepared statement.
final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    /// Column index by name, read once: rows are read by name, so a migration that adds or
    /// reorders columns cannot shift what a reader takes for what.
    private lazy var columns: [String: Int32] = {
        var out: [String: Int32] = [:]
        for i in 0..<sqlite3_column_count(handle) {
            if let name = sqlite3_column_name(handle, i) { out[String(cString: name)] = i }
        }
        return out
    }()

    init(_ handle: OpaquePointer, database: Database) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    enum Value {
        case text(String?)
        case real(Double?)
        case integer(Int64?)
        case blob(Data?)
    }

    @discardableResult
    func bind(_ values: [Value]) throws(StoreError) -> Statement {
        try database.check(sqlite3_reset(handle), "reset")
        try database.check(sqlite3_clear_bindings(handle), "clear bindings")
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .text(let s?): rc = sqlite3_bind_text(handle, index, s, -1, sqliteTransient)
            case .real(let d?): rc = sqlite3_bind_double(handle, index, d)
            case .integer(let n?): rc = sqlite3_bind_int64(handle, index, n)
            case .blob(let data?):
                rc = data.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
            default: rc = sqlite3_bind_null(handle, index)
            }
            try database.check(rc, "bind \(index)")
        }
        return self
    }

    /// Steps once; true while there is a row.
    func step() throws(StoreError) -> Bool {
        try database.check(sqlite3_step(handle), "step") == SQLITE_ROW
    }

    func run() throws(StoreError) {
        while try step() {}
    }

    /// The index of the column called `name` in this statement's result.
    func column(_ name: String) throws(StoreError) -> Int32 {
        guard let index = columns[name] else {
            throw StoreError(code: 0, operation: "read column \(name)", message: "the query has no column \(name): the database's schema is not the one this convops expects")
        }
        return index
    }

    func text(_ name: String) throws(StoreError) -> String? { text(try column(name)) }
    func real(_ name: String) throws(StoreError) -> Double { real(try column(name)) }
    func integer(_ name: String) throws(StoreError) -> Int64 { integer(try column(name)) }
    func blob(_ name: String) throws(StoreError) -> Data? { blob(try column(name)) }

    func text(_ column: Int32) -> String? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL, let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }

    func real(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    func blob(_ column: Int32) -> Data? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: p, count: count)
    }
    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func isBlob(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_BLOB }

    /// The bytes of a text column without making a String (nil for NULL). Valid inside `body`.
    func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL, let p = sqlite3_column_text(handle, column) else { return try body(nil) }
        return try body(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))))
    }
}
