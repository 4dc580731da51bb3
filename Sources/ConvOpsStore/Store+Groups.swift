import ConvOpsCore
import Foundation

/// A storm's grouped message in one channel: the episodes it stands for, counted.
public struct AlertGroup: Sendable, Hashable {
    public var id: String
    public var channel: String
    /// Nil until it is posted.
    public var ts: String?
    public var openedAt: Date
    public var lastAt: Date
    public var dirty: Bool
    public var shownAt: Date?
}

/// What a grouped message says: how many, where, which alarms, how many are over.
public struct AlertGroupSummary: Sendable, Hashable {
    public var group: AlertGroup
    public var count: Int
    public var resolved: Int
    /// "eu-west-1" (or "prod/eu-west-1") → count, most first.
    public var places: [(String, Int)]
    /// "api-*" → count, most first.
    public var names: [(String, Int)]

    public static func == (a: Self, b: Self) -> Bool {
        a.group == b.group && a.count == b.count && a.resolved == b.resolved
            && a.places.map(\.0) == b.places.map(\.0) && a.places.map(\.1) == b.places.map(\.1)
            && a.names.map(\.0) == b.names.map(\.0) && a.names.map(\.1) == b.names.map(\.1)
    }

    public func hash(into h: inout Hasher) {
        h.combine(group)
        h.combine(count)
        h.combine(resolved)
    }
}

extension Store {
    /// Posts (own messages, not groups) in a channel since a time: past the storm threshold,
    /// new episodes are grouped.
    public func posts(channel: String, since: Date) throws -> Int {
        try read { db in
            let s = try db.prepare("SELECT COUNT(*) FROM alert_messages WHERE channel = ? AND posted_at >= ? AND group_id IS NULL")
                .bind([.text(channel), .real(since.timeIntervalSince1970)])
            return try s.step() ? Int(s.integer(0)) : 0
        }
    }

    /// The channel's group that is still taking episodes (its last one at or after `since`).
    public func currentGroup(channel: String, since: Date) throws -> AlertGroup? {
        try read { db in
            let s = try db.prepare("SELECT * FROM alert_groups WHERE channel = ? AND last_at >= ? ORDER BY last_at DESC LIMIT 1")
                .bind([.text(channel), .real(since.timeIntervalSince1970)])
            return try s.step() ? try Self.group(s) : nil
        }
    }

    /// Puts an episode in the channel's current group (made now if there is none), marking
    /// the group to be shown again.
    @discardableResult
    public func group(episodeID: String, channel: String, since: Date, now: Date, newID: String) throws -> AlertGroup {
        try write { db in
            var group: AlertGroup
            let s = try db.prepare("SELECT * FROM alert_groups WHERE channel = ? AND last_at >= ? ORDER BY last_at DESC LIMIT 1")
                .bind([.text(channel), .real(since.timeIntervalSince1970)])
            if try s.step() {
                group = try Self.group(s)
                try db.prepare("UPDATE alert_groups SET last_at = ?, dirty = 1 WHERE id = ?")
                    .bind([.real(now.timeIntervalSince1970), .text(group.id)]).run()
            } else {
                group = AlertGroup(id: newID, channel: channel, ts: nil, openedAt: now, lastAt: now, dirty: true, shownAt: nil)
                try db.prepare("INSERT INTO alert_groups (id, channel, ts, opened_at, last_at, dirty, shown_at) VALUES (?, ?, NULL, ?, ?, 1, NULL)")
                    .bind([.text(group.id), .text(channel), .real(now.timeIntervalSince1970), .real(now.timeIntervalSince1970)]).run()
            }
            try db.prepare("""
                INSERT INTO alert_messages (episode_id, channel, ts, posted_at, group_id) VALUES (?, ?, '', ?, ?)
                ON CONFLICT(episode_id, channel) DO UPDATE SET group_id = excluded.group_id
                """).bind([.text(episodeID), .text(channel), .real(now.timeIntervalSince1970), .text(group.id)]).run()
            group.lastAt = now
            group.dirty = true
            return group
        }
    }

    /// Marks a group changed (an episode in it changed state).
    public func touch(groupID: String) throws {
        try write { db in try db.prepare("UPDATE alert_groups SET dirty = 1 WHERE id = ?").bind([.text(groupID)]).run() }
    }

    /// Groups to show: never posted, or changed and last shown `interval` or more ago.
    public func groupsToShow(now: Date, interval: TimeInterval) throws -> [AlertGroup] {
        try read { db in
            let s = try db.prepare("""
                SELECT * FROM alert_groups WHERE ts IS NULL OR (dirty = 1 AND COALESCE(shown_at, 0) <= ?) ORDER BY opened_at
                """).bind([.real(now.timeIntervalSince1970 - interval)])
            var out: [AlertGroup] = []
            while try s.step() { out.append(try Self.group(s)) }
            return out
        }
    }

    /// What a group's message says now.
    public func summary(of group: AlertGroup) throws -> AlertGroupSummary {
        try read { db in
            let s = try db.prepare("""
                SELECT e.id, e.alarm, e.closed_at FROM alert_messages m JOIN alert_episodes e ON e.id = m.episode_id WHERE m.group_id = ?
                """).bind([.text(group.id)])
            var count = 0, resolved = 0
            var places: [String: Int] = [:], names: [String: Int] = [:]
            while try s.step() {
                count += 1
                if !s.isNull(2) { resolved += 1 }
                guard let alarm = try self.opened(s, "alarm", Self.episodeContext(s.text(0) ?? "")) else { continue }
                places[alarm.region ?? "-", default: 0] += 1
                names[Self.namePattern(alarm.name), default: 0] += 1
            }
            func ranked(_ d: [String: Int]) -> [(String, Int)] { d.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) } }
            return AlertGroupSummary(group: group, count: count, resolved: resolved, places: ranked(places), names: ranked(names))
        }
    }

    /// Records that a group's message is shown as it is now (posted: its ts).
    public func shown(groupID: String, ts: String, at: Date) throws {
        try write { db in
            try db.prepare("UPDATE alert_groups SET ts = ?, dirty = 0, shown_at = ? WHERE id = ?")
                .bind([.text(ts), .real(at.timeIntervalSince1970), .text(groupID)]).run()
            try db.prepare("UPDATE alert_messages SET ts = ? WHERE group_id = ?").bind([.text(ts), .text(groupID)]).run()
        }
    }

    /// Notes that a post for `ref` (an episode or a group) in `channel` is about to be made;
    /// returns when an earlier attempt was noted (a crash may have left its message unrecorded).
    public func attempt(_ ref: String, channel: String, at: Date) throws -> Date? {
        try write { db in
            let s = try db.prepare("SELECT at FROM alert_attempts WHERE ref = ? AND channel = ?").bind([.text(ref), .text(channel)])
            if try s.step() { return Date(timeIntervalSince1970: s.real(0)) }
            try db.prepare("INSERT INTO alert_attempts (ref, channel, at) VALUES (?, ?, ?)")
                .bind([.text(ref), .text(channel), .real(at.timeIntervalSince1970)]).run()
            return nil
        }
    }

    /// The post for `ref` in `channel` is recorded: its attempt is over.
    public func attempted(_ ref: String, channel: String) throws {
        try write { db in
            try db.prepare("DELETE FROM alert_attempts WHERE ref = ? AND channel = ?").bind([.text(ref), .text(channel)]).run()
        }
    }

    /// "api-5xx-high" → "api-*": the first part of a name, for "12 on api-*".
    static func namePattern(_ name: String) -> String {
        guard let cut = name.firstIndex(where: { $0 == "-" || $0 == "_" || $0 == "." || $0 == " " }), cut > name.startIndex else { return name }
        return String(name[..<cut]) + "-*"
    }

    static func group(_ s: Statement) throws -> AlertGroup {
        let shown = try s.column("shown_at")
        return AlertGroup(id: try s.text("id") ?? "", channel: try s.text("channel") ?? "", ts: try s.text("ts"),
                          openedAt: Date(timeIntervalSince1970: try s.real("opened_at")),
                          lastAt: Date(timeIntervalSince1970: try s.real("last_at")), dirty: try s.integer("dirty") != 0,
                          shownAt: s.isNull(shown) ? nil : Date(timeIntervalSince1970: s.real(shown)))
    }
}
