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
    /// Not shown yet: held for a short wait, in case it recovers at once (`hold_seconds`).
    public var holdUntil: Date?
    /// It keeps flipping: its message is updated in place, not posted again.
    public var flapping = false
    /// The last reminder that it is still in ALARM with nobody on it.
    public var remindedAt: Date?

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
        /// A new episode held back for the hold wait: posted when it ends, unless it recovered.
        case held(AlertEpisode)
        /// The open episode changed (ALARM again, or INSUFFICIENT_DATA): update its message and
        /// say so in the thread.
        case changed(AlertEpisode)
        /// A held episode changed before it was shown: stored, shown when released.
        case heldChanged(AlertEpisode)
        /// Back to OK: update the message to resolved and remove the fix button.
        case closed(AlertEpisode)
        /// Back to OK before its hold ended: never shown.
        case recoveredUnseen(AlertEpisode)
        /// ALARM again soon after it closed, too often: the last episode reopened as flapping,
        /// its message updated in place instead of a new post.
        case flapping(AlertEpisode)
        /// A change older than the one shown (a late redelivery): stored, nothing said.
        case stale
        /// OK or INSUFFICIENT_DATA with no episode open: nothing to say.
        case quiet
    }

    /// The hold wait and the flapping rule (config `alerts.hold_seconds`, `alerts.flapping`).
    public struct Rules: Sendable, Hashable {
        public var holdSeconds: Double
        /// This many state changes of one alarm within `flapWindow` make it flapping (0: never).
        public var flapChanges: Int
        public var flapWindow: Double

        public init(holdSeconds: Double = 0, flapChanges: Int = 0, flapWindow: Double = 1800) {
            self.holdSeconds = holdSeconds
            self.flapChanges = flapChanges
            self.flapWindow = flapWindow
        }
    }

    /// Pure: the open episode (if any), the last closed one and how many state changes the
    /// alarm had within the flapping window (this one not counted), and one state change in;
    /// what happens out.
    public static func step(_ open: AlertEpisode?, _ alarm: Alarm, newID: String, now: Date, rules: Rules = Rules(),
                            lastClosed: AlertEpisode? = nil, recentChanges: Int = 0) -> Step {
        guard var episode = open, episode.isOpen else {
            guard alarm.state == .alarm else { return .quiet }
            if rules.flapChanges > 0, var last = lastClosed, let closed = last.closedAt, alarm.changedAt > last.alarm.changedAt,
               now.timeIntervalSince(closed) <= rules.flapWindow, recentChanges + 1 >= rules.flapChanges {
                last.closedAt = nil
                last.flapping = true
                last.alarm = alarm.keeping(last.alarm)
                last.updatedAt = now
                last.changes += 1
                last.alarms += 1
                return .flapping(last)
            }
            var new = AlertEpisode(id: newID, alarm: alarm, openedAt: now)
            guard rules.holdSeconds > 0 else { return .open(new) }
            new.holdUntil = now.addingTimeInterval(rules.holdSeconds)
            return .held(new)
        }
        guard alarm.changedAt > episode.alarm.changedAt else { return .stale }
        episode.alarm = alarm.keeping(episode.alarm)
        episode.updatedAt = now
        episode.changes += 1
        let held = episode.holdUntil != nil
        switch alarm.state {
        case .alarm:
            episode.alarms += 1
            return held ? .heldChanged(episode) : .changed(episode)
        case .insufficientData:
            return held ? .heldChanged(episode) : .changed(episode)
        case .ok:
            episode.closedAt = now
            return held ? .recoveredUnseen(episode) : .closed(episode)
        }
    }

    /// How long it has been in this episode, in whole minutes (at least 1).
    public func minutes(until end: Date) -> Int { max(1, Int((end.timeIntervalSince(openedAt) / 60).rounded())) }
}
