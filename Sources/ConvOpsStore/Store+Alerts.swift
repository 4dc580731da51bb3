import ConvOpsCore
import Foundation

/// What became of one message from the alarm queue.
public enum AlertDisposition: String, Sendable, Hashable, CaseIterable {
    /// Stored, not yet shown: a restart (or the queue's redelivery) carries on with it.
    case pending
    /// Posted as a new episode's message.
    case posted
    /// Shown as a change on an episode's message (and in its thread).
    case updated
    /// Nothing to show: an OK with no episode open, or older than what is shown.
    case quiet
    /// No route leads anywhere (no default channel).
    case unrouted
    /// Held back by a snooze; summed up when it ends.
    case suppressed
    /// Its episode waits out the hold; posted when it ends, or quiet if it recovered first.
    case held
    /// Shown in a channel's grouped message (a storm), not a message of its own.
    case grouped
    /// The chat refused it for good (the channel is gone, archived, or closed to the bot): logged
    /// with the reason, counted, never retried.
    case undeliverable
}

/// A message from the alarm queue as the store keeps it.
public struct StoredAlert: Sendable, Hashable {
    public var id: String
    public var alarm: Alarm
    public var disposition: AlertDisposition
    public var episodeID: String?
    public var receivedAt: Date
}

/// Where an episode's message is in one channel.
public struct AlertMessage: Sendable, Hashable {
    public var episodeID: String
    public var channel: String
    public var ts: String
    /// Set when the episode is shown in a storm's grouped message rather than its own.
    public var groupID: String?
    public init(episodeID: String, channel: String, ts: String, groupID: String? = nil) {
        self.episodeID = episodeID
        self.channel = channel
        self.ts = ts
        self.groupID = groupID
    }
}

extension Store {
    public enum AdmitResult: Sendable, Hashable {
        /// Stored now, pending.
        case new(StoredAlert)
        /// Seen before (the same SNS MessageId, or the same alarm, state and change time).
        case seen(StoredAlert)
    }

    /// Stores a state change unless it was seen before; a redelivery returns the first copy.
    public func admit(_ alarm: Alarm, id: String, receivedAt: Date) throws -> AdmitResult {
        try write { db in
            if let seen = try self.alert(db, deliveryID: alarm.deliveryID, key: alarm.key, state: alarm.state, changedAt: alarm.changedAt) {
                return .seen(seen)
            }
            try db.prepare("""
                INSERT INTO alerts (id, delivery_id, alarm_key, state, changed_at_ms, received_at, alarm, disposition, episode_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                """).bind([.text(id), .text(alarm.deliveryID), .text(alarm.key), .text(alarm.state.rawValue),
                           .integer(AuditChain.milliseconds(alarm.changedAt)), .real(receivedAt.timeIntervalSince1970),
                           try self.sealed(alarm, Self.alertContext(id)), .text(AlertDisposition.pending.rawValue)]).run()
            try Self.count(db, "alerts.received")
            return .new(StoredAlert(id: id, alarm: alarm, disposition: .pending, episodeID: nil, receivedAt: receivedAt))
        }
    }

    func alert(_ db: Database, deliveryID: String?, key: String, state: Alarm.State, changedAt: Date) throws -> StoredAlert? {
        let s = try db.prepare("""
            SELECT id, alarm, disposition, episode_id, received_at FROM alerts
            WHERE delivery_id = ? OR (alarm_key = ? AND state = ? AND changed_at_ms = ?) LIMIT 1
            """).bind([.text(deliveryID), .text(key), .text(state.rawValue), .integer(AuditChain.milliseconds(changedAt))])
        guard try s.step() else { return nil }
        return try self.storedAlert(s)
    }

    /// One stored alert by its id.
    public func alert(id: String) throws -> StoredAlert? {
        try read { db in
            let s = try db.prepare("SELECT id, alarm, disposition, episode_id, received_at FROM alerts WHERE id = ?").bind([.text(id)])
            return try s.step() ? try self.storedAlert(s) : nil
        }
    }

    /// The id of an alarm's latest state change stored (by its change time, then arrival).
    public func latestAlertID(key: String) throws -> String? {
        try read { db in
            let s = try db.prepare("SELECT id FROM alerts WHERE alarm_key = ? ORDER BY changed_at_ms DESC, received_at DESC, id DESC LIMIT 1")
                .bind([.text(key)])
            return try s.step() ? try s.text("id") : nil
        }
    }

    /// Alerts stored but not yet shown, oldest first (what a restart carries on with).
    public func pendingAlerts(limit: Int = 1000) throws -> [StoredAlert] {
        try read { db in
            let s = try db.prepare("""
                SELECT id, alarm, disposition, episode_id, received_at FROM alerts WHERE disposition = 'pending'
                ORDER BY received_at, id LIMIT ?
                """).bind([.integer(Int64(limit))])
            var out: [StoredAlert] = []
            while try s.step() { out.append(try self.storedAlert(s)) }
            return out
        }
    }

    /// How many alerts ended each way (and how many wait): for `check`, tests and the benchmark.
    public func alertDispositions() throws -> [AlertDisposition: Int] {
        try read { db in
            let s = try db.prepare("SELECT disposition, COUNT(*) FROM alerts GROUP BY disposition")
            var out: [AlertDisposition: Int] = [:]
            while try s.step() {
                if let d = AlertDisposition(rawValue: s.text(0) ?? "") { out[d] = Int(s.integer(1)) }
            }
            return out
        }
    }

    /// Marks an alert done: shown (or not) as `disposition`, in `episode`.
    public func settle(alert id: String, _ disposition: AlertDisposition, episodeID: String?) throws {
        try write { db in
            // Its thread lines' notes are over with it (they keep a restart from saying one twice).
            try db.prepare("DELETE FROM alert_attempts WHERE ref = ?").bind([.text("reply:" + id)]).run()
            try db.prepare("UPDATE alerts SET disposition = ?, episode_id = ? WHERE id = ?")
                .bind([.text(disposition.rawValue), .text(episodeID), .text(id)]).run()
            try Self.count(db, "alerts.\(disposition.rawValue)")
        }
    }

    /// An alarm as stored: encrypted (AES-256-GCM, bound to its row), since a description or a
    /// custom notification may name people.
    func sealed(_ alarm: Alarm, _ context: String) throws -> Statement.Value {
        .blob(try keys.seal(try Self.json(alarm), context: context))
    }

    /// An alarm column: sealed, or plain JSON as the first alert builds wrote it.
    func opened(_ s: Statement, _ column: String, _ context: String) throws -> Alarm? {
        let index = try s.column(column)
        let json: String?
        if s.isBlob(index) {
            json = s.blob(index).flatMap { try? keys.open($0, context: context) }
        } else {
            json = s.text(index)
        }
        return json.flatMap { try? JSONDecoder().decode(Alarm.self, from: Data($0.utf8)) }
    }

    static func alertContext(_ id: String) -> String { "alerts.alarm:\(id)" }
    static func episodeContext(_ id: String) -> String { "alert_episodes.alarm:\(id)" }

    func storedAlert(_ s: Statement) throws -> StoredAlert {
        let id = try s.text("id") ?? ""
        guard let alarm = try opened(s, "alarm", Self.alertContext(id)) else {
            throw StoreError(code: 0, operation: "read alert \(id)", message: "its stored alarm is not readable: the file was edited; `convops alerts failed` lists what can be retried")
        }
        let disposition = AlertDisposition(rawValue: try s.text("disposition") ?? "") ?? .pending
        return StoredAlert(id: id, alarm: alarm, disposition: disposition, episodeID: try s.text("episode_id"),
                           receivedAt: Date(timeIntervalSince1970: try s.real("received_at")))
    }
}
