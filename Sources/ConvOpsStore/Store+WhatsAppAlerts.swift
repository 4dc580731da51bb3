import ConvOpsCore
import Foundation

/// An alert waiting to go to a WhatsApp recipient.
public struct QueuedWhatsAppAlert: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// `flapping`: a recovered alarm came back too soon, too often (said once per episode).
        case opened, resolved, flapping
    }

    public var episodeID: String
    /// The conversation's opaque name.
    public var channel: String
    public var kind: Kind
    /// 0, or 1 for the recovery after a flapping notice.
    public var seq: Int
    public var queuedAt: Date

    public init(episodeID: String, channel: String, kind: Kind, seq: Int = 0, queuedAt: Date) {
        self.episodeID = episodeID
        self.channel = channel
        self.kind = kind
        self.seq = seq
        self.queuedAt = queuedAt
    }
}

extension Store {
    /// Queues an episode's news for WhatsApp recipients, once per recipient, kind and seq.
    public func queueWhatsAppAlert(episodeID: String, channels: [String], kind: QueuedWhatsAppAlert.Kind, seq: Int = 0, at: Date) throws {
        guard !channels.isEmpty else { return }
        try write { db in
            for channel in channels {
                try db.prepare("INSERT OR IGNORE INTO whatsapp_alerts (episode_id, channel, kind, seq, queued_at) VALUES (?, ?, ?, ?, ?)")
                    .bind([.text(episodeID), .text(channel), .text(kind.rawValue), .integer(Int64(seq)), .real(at.timeIntervalSince1970)]).run()
            }
        }
    }

    /// The WhatsApp conversations an episode's opening was queued for (its recovery goes there too).
    public func whatsAppRecipients(episodeID: String) throws -> [String] {
        try read { db in
            let s = try db.prepare("SELECT channel FROM whatsapp_alerts WHERE episode_id = ? AND kind = 'opened' ORDER BY channel")
                .bind([.text(episodeID)])
            var out: [String] = []
            while try s.step() { out.append(s.text(0) ?? "") }
            return out
        }
    }

    /// (episode, conversation) pairs told an episode was flapping, whose episode has stayed
    /// closed since before `closedBefore` (and for less than a day more: older ones were told,
    /// or the process was down, and a day-old "it settled" is no news) and who were not told so yet.
    public func settledFlaps(closedBefore: Date) throws -> [(episodeID: String, channel: String)] {
        try read { db in
            let s = try db.prepare("""
                SELECT w.episode_id, w.channel FROM whatsapp_alerts w JOIN alert_episodes e ON e.id = w.episode_id
                WHERE w.kind = 'flapping' AND e.closed_at IS NOT NULL AND e.closed_at <= ? AND e.closed_at > ?
                  AND NOT EXISTS (SELECT 1 FROM whatsapp_alerts r WHERE r.episode_id = w.episode_id AND r.channel = w.channel
                                  AND r.kind = 'resolved' AND r.seq = 1)
                LIMIT 500
                """).bind([.real(closedBefore.timeIntervalSince1970), .real(closedBefore.timeIntervalSince1970 - 86_400)])
            var out: [(String, String)] = []
            while try s.step() { out.append((s.text(0) ?? "", s.text(1) ?? "")) }
            return out
        }
    }

    /// A message sent again (as its template) takes the place of the one Meta failed: taps on
    /// the new one count for the same alert news.
    public func replacedWhatsAppAlertMessage(episodeID: String, channel: String, old: String, new: String) throws {
        try write { db in
            try db.prepare("UPDATE whatsapp_alerts SET message_ref = ? WHERE episode_id = ? AND channel = ? AND message_ref = ?")
                .bind([.text(new), .text(episodeID), .text(channel), .text(old)]).run()
        }
    }

    /// What waits to be sent, oldest first.
    public func pendingWhatsAppAlerts(limit: Int = 5000) throws -> [QueuedWhatsAppAlert] {
        try read { db in
            let s = try db.prepare("""
                SELECT episode_id, channel, kind, queued_at, seq FROM whatsapp_alerts WHERE sent_at IS NULL ORDER BY queued_at, rowid LIMIT ?
                """).bind([.integer(Int64(limit))])
            var out: [QueuedWhatsAppAlert] = []
            while try s.step() {
                guard let kind = QueuedWhatsAppAlert.Kind(rawValue: s.text(2) ?? "") else { continue }
                out.append(QueuedWhatsAppAlert(episodeID: s.text(0) ?? "", channel: s.text(1) ?? "", kind: kind, seq: Int(s.integer(4)),
                                               queuedAt: Date(timeIntervalSince1970: s.real(3))))
            }
            return out
        }
    }

    /// These went out in one message (`messageRef`: its keyed id; nil when given up).
    public func sentWhatsAppAlerts(_ alerts: [QueuedWhatsAppAlert], messageRef: String?, at: Date) throws {
        try write { db in
            for a in alerts {
                try db.prepare("UPDATE whatsapp_alerts SET sent_at = ?, message_ref = ? WHERE episode_id = ? AND channel = ? AND kind = ? AND seq = ?")
                    .bind([.real(at.timeIntervalSince1970), .text(messageRef), .text(a.episodeID), .text(a.channel), .text(a.kind.rawValue),
                           .integer(Int64(a.seq))]).run()
            }
            try Self.count(db, "whatsapp.alert_messages")
        }
    }

    /// How many are queued, sent, and given up (for tests, `check` and the benchmark).
    public func whatsAppAlertCounts() throws -> (queued: Int, sent: Int, givenUp: Int) {
        try read { db in
            let s = try db.prepare("""
                SELECT COUNT(*), SUM(sent_at IS NOT NULL AND message_ref IS NOT NULL), SUM(sent_at IS NOT NULL AND message_ref IS NULL) FROM whatsapp_alerts
                """)
            guard try s.step() else { return (0, 0, 0) }
            return (Int(s.integer(0)), Int(s.integer(1)), Int(s.integer(2)))
        }
    }
}
