import ConvOpsCore
import Foundation

/// Snoozes: stored with their audit entry; alerts they hold back point at them.
extension Store {
    /// Stores a snooze asked for by `person`, with its audit entry.
    public func add(_ snooze: Snooze, by person: Person) throws {
        try write { db in
            let who = try self.pseudonym(db, person)
            try db.prepare("""
                INSERT INTO snoozes (id, scope, target, label, until_at, created_at, created_by, channel, ended_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                """).bind([.text(snooze.id), .text(snooze.scope.rawValue), .text(snooze.target), .text(snooze.label),
                           .real(snooze.until.timeIntervalSince1970), .real(snooze.createdAt.timeIntervalSince1970), .text(who),
                           .text(snooze.channel)]).run()
            try self.appendAudit(db, at: snooze.createdAt, actor: who, action: "alert.snooze", target: "\(snooze.scope.rawValue) \(snooze.label)",
                                 decision: .snoozed, principal: nil, outcome: "until \(Timestamp.format(snooze.until))", requestID: nil)
            try Self.count(db, "snoozes.\(snooze.scope.rawValue)")
        }
    }

    /// Snoozes not yet ended (those past their time included, until `endDueSnoozes` ends them).
    public func activeSnoozes() throws -> [Snooze] {
        try read { db in
            let s = try db.prepare("SELECT * FROM snoozes WHERE ended_at IS NULL ORDER BY until_at, id")
            var out: [Snooze] = []
            while try s.step() { if let snooze = try Self.snooze(s) { out.append(snooze) } }
            return out
        }
    }

    /// Marks the snoozes whose time has come as ended and returns them, each with the alerts it
    /// held back (oldest first), for the summary.
    public func endDueSnoozes(now: Date) throws -> [(Snooze, [StoredAlert])] {
        try write { db in
            let s = try db.prepare("SELECT * FROM snoozes WHERE ended_at IS NULL AND until_at <= ? ORDER BY until_at, id")
                .bind([.real(now.timeIntervalSince1970)])
            var due: [Snooze] = []
            while try s.step() { if let snooze = try Self.snooze(s) { due.append(snooze) } }
            var out: [(Snooze, [StoredAlert])] = []
            for var snooze in due {
                try db.prepare("UPDATE snoozes SET ended_at = ? WHERE id = ?").bind([.real(now.timeIntervalSince1970), .text(snooze.id)]).run()
                snooze.endedAt = now
                let held = try db.prepare("""
                    SELECT id, alarm, disposition, episode_id, received_at FROM alerts WHERE snooze_id = ? ORDER BY received_at, id
                    """).bind([.text(snooze.id)])
                var alerts: [StoredAlert] = []
                while try held.step() { alerts.append(try self.storedAlert(held)) }
                out.append((snooze, alerts))
            }
            return out
        }
    }

    /// Ends a snooze now (its summary follows with the next sweep), with its audit entry.
    public func endEarly(_ snooze: Snooze, by person: Person, at: Date) throws {
        try write { db in
            let who = try self.pseudonym(db, person)
            try db.prepare("UPDATE snoozes SET until_at = ? WHERE id = ? AND ended_at IS NULL")
                .bind([.real(at.timeIntervalSince1970), .text(snooze.id)]).run()
            try self.appendAudit(db, at: at, actor: who, action: "alert.unsnooze", target: "\(snooze.scope.rawValue) \(snooze.label)",
                                 decision: .cancelled, principal: nil, outcome: "ended early", requestID: nil)
        }
    }

    /// Snoozes not yet told to the alert channels.
    public func unannouncedSnoozes() throws -> [Snooze] {
        try read { db in
            let s = try db.prepare("SELECT * FROM snoozes WHERE announced = 0 AND ended_at IS NULL ORDER BY created_at")
            var out: [Snooze] = []
            while try s.step() { if let snooze = try Self.snooze(s) { out.append(snooze) } }
            return out
        }
    }

    public func announced(snoozeID: String) throws {
        try write { db in try db.prepare("UPDATE snoozes SET announced = 1 WHERE id = ?").bind([.text(snoozeID)]).run() }
    }

    /// How many alerts a snooze has held back so far.
    public func suppressedCount(snoozeID: String) throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT COUNT(*) FROM alerts WHERE snooze_id = ?").bind([.text(snoozeID)])
            return try s.step() ? Int(s.integer(0)) : 0
        }
    }

    /// Marks an alert held back by a snooze.
    public func suppress(alert id: String, by snoozeID: String) throws {
        try write { db in
            try db.prepare("UPDATE alerts SET disposition = 'suppressed', snooze_id = ? WHERE id = ?").bind([.text(snoozeID), .text(id)]).run()
            try Self.count(db, "alerts.suppressed")
        }
    }

    /// A held episode a snooze now covers (it began during the hold): its alerts become the
    /// snooze's, as if they had arrived after it, and the episode that was never shown goes.
    public func suppressHeld(episodeID: String, by snoozeID: String) throws {
        try write { db in
            let s = try db.prepare("SELECT id FROM alerts WHERE episode_id = ? AND disposition = 'held'").bind([.text(episodeID)])
            var ids: [String] = []
            while try s.step() { ids.append(try s.text("id") ?? "") }
            for id in ids {
                try db.prepare("UPDATE alerts SET disposition = 'suppressed', snooze_id = ?, episode_id = NULL WHERE id = ?")
                    .bind([.text(snoozeID), .text(id)]).run()
                try Self.count(db, "alerts.suppressed")
            }
            try db.prepare("DELETE FROM alert_episodes WHERE id = ? AND closed_at IS NULL AND hold_until IS NOT NULL").bind([.text(episodeID)]).run()
        }
    }

    /// A suppressed alert to be shown after all (its alarm still fires when the snooze ends):
    /// pending again, still naming the snooze that held it back.
    public func resume(alert id: String) throws -> StoredAlert? {
        try write { db in
            try db.prepare("UPDATE alerts SET disposition = 'pending' WHERE id = ? AND disposition = 'suppressed'").bind([.text(id)]).run()
        }
        return try alert(id: id)
    }

    static func snooze(_ s: Statement) throws -> Snooze? {
        guard let scope = Snooze.Scope(rawValue: try s.text("scope") ?? "") else { return nil }
        var snooze = Snooze(id: try s.text("id") ?? "", scope: scope, target: try s.text("target") ?? "", label: try s.text("label") ?? "",
                            until: Date(timeIntervalSince1970: try s.real("until_at")),
                            createdAt: Date(timeIntervalSince1970: try s.real("created_at")), channel: try s.text("channel") ?? "")
        snooze.createdBy = try s.text("created_by")
        let ended = try s.column("ended_at")
        snooze.endedAt = s.isNull(ended) ? nil : Date(timeIntervalSince1970: s.real(ended))
        return snooze
    }
}
