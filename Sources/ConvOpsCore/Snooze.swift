import Foundation

/// Alerts held back until a time: for one resource, one alarm, or a whole environment
/// (maintenance). New alert posts it covers are stored as suppressed, and summed up when it ends.
public struct Snooze: Sendable, Hashable {
    public enum Scope: String, Sendable, Hashable, CaseIterable {
        case resource, alarm, environment
    }

    public var id: String
    public var scope: Scope
    /// A resource as `Snooze.key(of:)` writes it (its region, account and id: an RDS name is only
    /// unique within one account and region), an alarm's name, an environment's name.
    public var target: String
    /// How it reads: the resource's name ("web-1"), the alarm, the environment.
    public var label: String
    public var until: Date
    public var createdAt: Date
    /// Where it was asked for: its end is told there.
    public var channel: String
    /// Who asked (the store's pseudonym for them).
    public var createdBy: String?
    public var endedAt: Date?

    public init(id: String, scope: Scope, target: String, label: String, until: Date, createdAt: Date, channel: String) {
        self.id = id
        self.scope = scope
        self.target = target
        self.label = label
        self.until = until
        self.createdAt = createdAt
        self.channel = channel
    }

    /// Whether a new alert of `alarm`, about `resource` in `environment`, is held back by this.
    public func covers(_ alarm: Alarm, resource: ResourceRef?, environment: String?, at now: Date) -> Bool {
        guard endedAt == nil, now < until else { return false }
        switch scope {
        case .resource:
            if let resource { return Snooze.key(of: resource) == target }
            // Not found by the resolver: its dimension and region must still both match.
            guard let subject = alarm.subject, let region = alarm.region else { return false }
            let parts = target.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && parts[0] == region && parts[2] == subject.id
        case .alarm: return alarm.name == target
        case .environment: return environment?.lowercased() == target.lowercased()
        }
    }

    /// "eu-west-1|prod|i-0abc…": where a resource is, and which.
    public static func key(of resource: ResourceRef) -> String { "\(resource.region)|\(resource.account ?? "")|\(resource.id)" }

    /// The end of a snooze of `length` from `now`: a span, or the next time that time of day
    /// comes in `zone` (today if still ahead, else tomorrow).
    public static func end(of length: SnoozeLength, from now: Date, in zone: TimeZone) -> Date {
        switch length {
        case .seconds(let s):
            return now.addingTimeInterval(TimeInterval(s))
        case .until(let minute):
            let offset = zone.secondsFromGMT(for: now)
            let local = now.timeIntervalSince1970 + Double(offset)
            let midnight = (local / 86_400).rounded(.down) * 86_400
            var target = midnight + Double(minute * 60)
            if target <= local { target += 86_400 }
            // The offset at the target (a daylight-saving change in between moves it).
            let guess = Date(timeIntervalSince1970: target - Double(offset))
            return Date(timeIntervalSince1970: target - Double(zone.secondsFromGMT(for: guess)))
        }
    }
}
