import ConvOpsCore
import Foundation

/// Alert episodes and where their messages are.
extension Store {
    /// The open episode of an alarm, if any.
    public func openEpisode(key: String) throws -> AlertEpisode? {
        try read { db in
            let s = try db.prepare("SELECT * FROM alert_episodes WHERE alarm_key = ? AND closed_at IS NULL").bind([.text(key)])
            return try s.step() ? try self.episode(s) : nil
        }
    }

    public func episode(id: String) throws -> AlertEpisode? {
        try read { db in
            let s = try db.prepare("SELECT * FROM alert_episodes WHERE id = ?").bind([.text(id)])
            return try s.step() ? try self.episode(s) : nil
        }
    }

    /// Writes an episode as it is now and marks the alert that changed it, in one transaction.
    public func save(_ episode: AlertEpisode, settling alertID: String?, as disposition: AlertDisposition = .pending) throws {
        try write { db in
            try db.prepare("""
                INSERT INTO alert_episodes (id, alarm_key, alarm, state, opened_at, updated_at, last_change_ms, closed_at, changes, alarms,
                                            acked_by, acked_at, resource, hold_until, flapping, reminded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET alarm = excluded.alarm, state = excluded.state, updated_at = excluded.updated_at,
                    last_change_ms = excluded.last_change_ms, closed_at = excluded.closed_at, changes = excluded.changes,
                    alarms = excluded.alarms, resource = COALESCE(excluded.resource, alert_episodes.resource),
                    hold_until = excluded.hold_until, flapping = excluded.flapping, reminded_at = excluded.reminded_at
                """).bind(try self.episodeValues(episode)).run()
            if let alertID {
                try db.prepare("UPDATE alerts SET disposition = ?, episode_id = ? WHERE id = ?")
                    .bind([.text(disposition.rawValue), .text(episode.id), .text(alertID)]).run()
                try Self.count(db, "alerts.\(disposition.rawValue)")
            }
        }
    }

    func episodeValues(_ episode: AlertEpisode) throws -> [Statement.Value] {
        [.text(episode.id), .text(episode.key), try sealed(episode.alarm, Self.episodeContext(episode.id)), .text(episode.state.rawValue),
         .real(episode.openedAt.timeIntervalSince1970), .real(episode.updatedAt.timeIntervalSince1970),
         .integer(AuditChain.milliseconds(episode.alarm.changedAt)), .real(episode.closedAt?.timeIntervalSince1970),
         .integer(Int64(episode.changes)), .integer(Int64(episode.alarms)), .text(episode.acknowledgedBy),
         .real(episode.acknowledgedAt?.timeIntervalSince1970), .text(try episode.resource.map(Self.json)),
         .real(episode.holdUntil?.timeIntervalSince1970), .integer(episode.flapping ? 1 : 0), .real(episode.remindedAt?.timeIntervalSince1970)]
    }

    /// The alarm's most recently closed episode.
    public func lastClosedEpisode(key: String) throws -> AlertEpisode? {
        try read { db in
            let s = try db.prepare("SELECT * FROM alert_episodes WHERE alarm_key = ? AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT 1")
                .bind([.text(key)])
            return try s.step() ? try self.episode(s) : nil
        }
    }

    /// State changes of one alarm at or after `since` (by their change time), leaving one alert out.
    public func stateChanges(key: String, since: Date, except alertID: String) throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT COUNT(*) FROM alerts WHERE alarm_key = ? AND changed_at_ms >= ? AND id != ?")
                .bind([.text(key), .integer(AuditChain.milliseconds(since)), .text(alertID)])
            return try s.step() ? Int(s.integer(0)) : 0
        }
    }

    /// Open episodes whose hold has ended.
    public func heldEpisodesDue(now: Date) throws -> [AlertEpisode] {
        try read { db in
            let s = try db.prepare("SELECT * FROM alert_episodes WHERE closed_at IS NULL AND hold_until IS NOT NULL AND hold_until <= ? ORDER BY hold_until")
                .bind([.real(now.timeIntervalSince1970)])
            var out: [AlertEpisode] = []
            while try s.step() { out.append(try self.episode(s)) }
            return out
        }
    }

    /// Open, shown, unacknowledged episodes in ALARM whose last reminder (or opening) is
    /// `interval` or more ago.
    public func episodesToRemind(now: Date, interval: TimeInterval) throws -> [AlertEpisode] {
        try read { db in
            let s = try db.prepare("""
                SELECT * FROM alert_episodes WHERE closed_at IS NULL AND hold_until IS NULL AND acked_by IS NULL AND state = 'ALARM'
                AND COALESCE(reminded_at, opened_at) <= ? ORDER BY opened_at
                """).bind([.real(now.timeIntervalSince1970 - interval)])
            var out: [AlertEpisode] = []
            while try s.step() { out.append(try self.episode(s)) }
            return out
        }
    }

    /// Notes a reminder, touching nothing else: a state change stored meanwhile stays. False
    /// when the episode closed or was acknowledged in between (no reminder then).
    public func reminded(episodeID: String, at: Date) throws -> Bool {
        try write { db in
            try db.prepare("UPDATE alert_episodes SET reminded_at = ? WHERE id = ? AND closed_at IS NULL AND acked_by IS NULL")
                .bind([.real(at.timeIntervalSince1970), .text(episodeID)]).run()
            return db.changes == 1
        }
    }

    /// Ends an episode's hold, touching nothing else.
    public func released(episodeID: String) throws {
        try write { db in
            try db.prepare("UPDATE alert_episodes SET hold_until = NULL WHERE id = ?").bind([.text(episodeID)]).run()
        }
    }

    /// Marks the alerts an episode held as `disposition` (posted once released, quiet if it recovered).
    public func settleHeld(episodeID: String, as disposition: AlertDisposition) throws {
        try write { db in
            try db.prepare("UPDATE alerts SET disposition = ? WHERE episode_id = ? AND disposition = 'held'")
                .bind([.text(disposition.rawValue), .text(episodeID)]).run()
        }
    }

    /// Remembers where an episode's message was posted in a channel (`at`: when, for the storm count).
    public func recordAlertMessage(_ message: AlertMessage, at: Date) throws {
        try write { db in
            try db.prepare("""
                INSERT INTO alert_messages (episode_id, channel, ts, posted_at, group_id) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(episode_id, channel) DO UPDATE SET ts = excluded.ts, group_id = excluded.group_id
                """).bind([.text(message.episodeID), .text(message.channel), .text(message.ts), .real(at.timeIntervalSince1970),
                           .text(message.groupID)]).run()
        }
    }

    public func alertMessages(episodeID: String) throws -> [AlertMessage] {
        try read { db in
            let s = try db.prepare("SELECT channel, ts, group_id FROM alert_messages WHERE episode_id = ? ORDER BY channel").bind([.text(episodeID)])
            var out: [AlertMessage] = []
            while try s.step() { out.append(AlertMessage(episodeID: episodeID, channel: s.text(0) ?? "", ts: s.text(1) ?? "", groupID: s.text(2))) }
            return out
        }
    }

    /// The episode whose message sits at (channel, ts): a click is checked against it.
    public func episode(channel: String, ts: String) throws -> AlertEpisode? {
        try read { db in
            // A WhatsApp alert message: the one alert it was sent for (a coalesced one has no buttons).
            if channel.hasPrefix("wa:") {
                let s = try db.prepare("""
                    SELECT e.* FROM alert_episodes e JOIN whatsapp_alerts w ON w.episode_id = e.id
                    WHERE w.channel = ? AND w.message_ref = ? AND w.kind IN ('opened', 'flapping')
                    """).bind([.text(channel), .text(ts)])
                return try s.step() ? try self.episode(s) : nil
            }
            let s = try db.prepare("""
                SELECT e.* FROM alert_episodes e JOIN alert_messages m ON m.episode_id = e.id
                WHERE m.channel = ? AND m.ts = ? AND m.group_id IS NULL
                """).bind([.text(channel), .text(ts)])
            return try s.step() ? try self.episode(s) : nil
        }
    }

    /// Records who acknowledged an open, not yet acknowledged episode, with its audit entry.
    /// False (nothing written) when it was acknowledged already or has closed.
    public func acknowledge(episodeID: String, by person: Person, at: Date, target: String) throws -> Bool {
        try write { db in
            let who = try self.pseudonym(db, person)
            try db.prepare("UPDATE alert_episodes SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL AND closed_at IS NULL")
                .bind([.text(who), .real(at.timeIntervalSince1970), .text(episodeID)]).run()
            guard db.changes == 1 else { return false }
            try self.appendAudit(db, at: at, actor: who, action: "alert.acknowledge", target: target, decision: .acknowledged,
                                 principal: nil, outcome: "alert episode \(episodeID)", requestID: nil)
            try Self.count(db, "alerts.acknowledged")
            return true
        }
    }

    func episode(_ s: Statement) throws -> AlertEpisode {
        let id = try s.text("id") ?? ""
        guard let alarm = try opened(s, "alarm", Self.episodeContext(id)) else {
            throw StoreError(code: 0, operation: "read alert episode \(id)", message: "its stored alarm is not readable: the file was edited")
        }
        var e = AlertEpisode(id: id, alarm: alarm, openedAt: Date(timeIntervalSince1970: try s.real("opened_at")))
        e.key = try s.text("alarm_key") ?? alarm.key
        e.updatedAt = Date(timeIntervalSince1970: try s.real("updated_at"))
        let closed = try s.column("closed_at")
        e.closedAt = s.isNull(closed) ? nil : Date(timeIntervalSince1970: s.real(closed))
        e.changes = Int(clamping: try s.integer("changes"))
        e.alarms = Int(clamping: try s.integer("alarms"))
        e.acknowledgedBy = try s.text("acked_by")
        let acked = try s.column("acked_at")
        e.acknowledgedAt = s.isNull(acked) ? nil : Date(timeIntervalSince1970: s.real(acked))
        if let r = try s.text("resource") { e.resource = try? JSONDecoder().decode(ResourceRef.self, from: Data(r.utf8)) }
        let hold = try s.column("hold_until")
        e.holdUntil = s.isNull(hold) ? nil : Date(timeIntervalSince1970: s.real(hold))
        e.flapping = try s.integer("flapping") != 0
        let reminded = try s.column("reminded_at")
        e.remindedAt = s.isNull(reminded) ? nil : Date(timeIntervalSince1970: s.real(reminded))
        return e
    }
}
