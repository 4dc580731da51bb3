/// Where a request's message sits in a chat: the card the requester sees, or the approval
/// request in the approvers' channel. Channel ids and message timestamps only.
public struct MessageRef: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case request
        case approval
    }

    public var role: Role
    public var channel: String
    public var ts: String

    public init(role: Role, channel: String, ts: String) {
        self.role = role
        self.channel = channel
        self.ts = ts
    }
}

extension Store {
    /// Remembers where a request's message was posted (replacing an older one of that role).
    public func recordMessage(_ ref: MessageRef, for requestID: String) throws {
        try write { db in
            // One requester's card; approval messages, one per place they were posted.
            if ref.role == .request {
                try db.prepare("DELETE FROM chat_messages WHERE request_id = ? AND role = 'request' AND channel != ?")
                    .bind([.text(requestID), .text(ref.channel)]).run()
            }
            try db.prepare("""
                INSERT INTO chat_messages (request_id, role, channel, ts) VALUES (?, ?, ?, ?)
                ON CONFLICT(request_id, role, channel) DO UPDATE SET ts = excluded.ts
                """).bind([.text(requestID), .text(ref.role.rawValue), .text(ref.channel), .text(ref.ts)]).run()
        }
    }

    /// A request's messages, the requester's card first.
    public func messages(for requestID: String) throws -> [MessageRef] {
        try read { db in
            let s = try db.prepare("SELECT role, channel, ts FROM chat_messages WHERE request_id = ? ORDER BY role DESC, rowid")
                .bind([.text(requestID)])
            var out: [MessageRef] = []
            while try s.step() {
                guard let role = MessageRef.Role(rawValue: s.text(0) ?? "") else { continue }
                out.append(MessageRef(role: role, channel: s.text(1) ?? "", ts: s.text(2) ?? ""))
            }
            return out
        }
    }
}
