/// Schema versions, applied in order and recorded in `PRAGMA user_version`.
/// Never edit a shipped migration; add the next one.
enum Migrations {
    static let all: [String] = [
        // 1: requests and the append-only, hash-chained audit log.
        """
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            plan TEXT NOT NULL,
            requester_id TEXT NOT NULL,
            requester_name TEXT NOT NULL,
            channel TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            approver_id TEXT,
            approver_name TEXT,
            outcome TEXT
        );
        CREATE INDEX requests_by_state ON requests(state, expires_at);
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            decision TEXT NOT NULL,
            principal TEXT,
            outcome TEXT,
            request_id TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_by_request ON audit(request_id);
        CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """,
    ]
}
