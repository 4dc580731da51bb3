import Foundation

/// One alarm's episode: from the state change to ALARM until it is OK again, keyed by the
/// alarm's ARN. It has one chat message per channel, updated in place as the state changes.
public struct AlertEpisode: Sendable, Hashable {
    public var id: String
    public var key: String
    /// The latest state change applied.
    public var alarm: Alarm
    public var openedAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    /// State changes applied, the first included.
    public var changes: Int
    /// How often it went to ALARM in this episode.
    public var alarms: Int
    /// Who acknowledged it (the pseudonym the store keeps) and when.
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    /// What the alarm is about, as the resolver found it.
    public var resource: ResourceRef?

    public init(id: String, alarm: Alarm, openedAt: Date) {
        self.id = id
        key = alarm.key
        self.alarm = alarm
        self.openedAt = openedAt
        updatedAt = openedAt
        changes = 1
        alarms = alarm.state == .alarm ? 1 : 0
    }

    public var state: Alarm.State { alarm.state }
    public var isOpen: Bool { closedAt == nil }

    /// What one state change does to the open episode of its alarm (or to none).
    public enum Step: Sendable, Hashable {
        /// A new episode: post its message.
        case open(AlertEpisode)
        /// The open episode changed (ALARM again, or INSUFFICIENT_DATA): update its message and
        /// say so in the thread.
        case changed(AlertEpisode)
        /// Back to OK: update the message to resolved and remove the fix button.
        case closed(AlertEpisode)
        /// A change older than the one shown (a late redelivery): stored, nothing said.
        case stale
        /// OK or INSUFFICIENT_DATA with no episode open: nothing to say.
        case quiet
    }

    /// Pure: the open episode (if any) and one state change in, what happens out.
    public static func step(_ open: AlertEpisode?, _ alarm: Alarm, newID: String, now: Date) -> Step {
        guard var episode = open, episode.isOpen else {
            guard alarm.state == .alarm else { return .quiet }
            return .open(AlertEpisode(id: newID, alarm: alarm, openedAt: now))
        }
        guard alarm.changedAt > episode.alarm.changedAt else { return .stale }
        let previous = episode.alarm
        episode.alarm = alarm
        if episode.alarm.description == nil { episode.alarm.description = previous.description }
        if episode.alarm.tags.isEmpty { episode.alarm.tags = previous.tags }
        episode.updatedAt = now
        episode.changes += 1
        switch alarm.state {
        case .alarm:
            episode.alarms += 1
            return .changed(episode)
        case .insufficientData:
            return .changed(episode)
        case .ok:
            episode.closedAt = now
            return .closed(episode)
        }
    }

    /// How long it has been in this episode, in whole minutes (at least 1).
    public func minutes(until end: Date) -> Int { max(1, Int((end.timeIntervalSince(openedAt) / 60).rounded())) }
}
