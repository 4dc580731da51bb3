import ConvOpsCore
import Foundation

/// The config's `alerts` section: where alarms are read from and where they go.
///
/// ```json
/// "alerts": {
///   "queue_urls": ["https://sqs.eu-west-1.amazonaws.com/123456789012/convops-alarms"],
///   "routes": [
///     {"match": {"alarm": "api-*", "environment": "prod"}, "channels": ["C0PAGER"], "people": ["U0ONCALL"]},
///     {"match": {"namespace": "AWS/RDS"}, "channels": ["C0DBA"], "continue": true}
///   ],
///   "default_channels": ["C0OPS"]
/// }
/// ```
/// Routes are tried in order; the first that matches decides, unless it says `continue`.
public struct AlertSettings: Sendable, Hashable {
    public var queueURLs: [String] = []
    public var routes: [AlertRoute] = []
    public var defaultChannels: [String] = []
    /// Who gets an alarm on WhatsApp when no route names anyone (`default_people`): what a
    /// process without Slack has instead of default channels.
    public var defaultPeople: [String] = []
    /// SQS long-poll wait (1–20 s).
    public var pollSeconds: Int = 20
    /// Where "snooze … until 18:00" is read (`time_zone`, an IANA name; UTC by default).
    public var timeZone = TimeZone(identifier: "UTC")!
    /// The hold wait and the flapping rule (`hold_seconds`; `flapping.changes`, `flapping.window_seconds`).
    public var episodes = AlertEpisode.Rules(holdSeconds: 0, flapChanges: 4, flapWindow: 1800)
    /// A reminder in the thread while an alarm stays in ALARM unacknowledged (`reminder_minutes`; 0: none).
    public var reminderMinutes = 60
    /// Past `posts` new alert messages in one channel within `windowSeconds`, new episodes
    /// there join one grouped message (`storm.posts`, `storm.window_seconds`; posts 0: never).
    public var storm = Storm()

    public struct Storm: Sendable, Hashable {
        public var posts = 10
        public var windowSeconds: Double = 60
        public init() {}
    }

    public init() {}

    /// The resource tag keys the routes match on: the resolver keeps these (and no others
    /// besides the environment's) on the resources it finds.
    public var resourceTagKeys: Set<String> { Set(routes.flatMap { $0.match.resourceTags.keys.map { $0.lowercased() } }) }

    /// The channels (and people) an alarm goes to; empty when no route matches and there is no default.
    public func destinations(for alarm: Alarm, environment: String?, resource: ResourceRef? = nil) -> (channels: [String], people: [String]) {
        var channels: [String] = [], people: [String] = []
        var matched = false
        for route in routes where route.match.matches(alarm, environment: environment, resource: resource) {
            matched = true
            channels += route.channels.filter { !channels.contains($0) }
            people += route.people.filter { !people.contains($0) }
            if !route.continues { break }
        }
        // A route that names only people still shows the alert in the default channels too.
        if !matched || channels.isEmpty { channels = defaultChannels }
        if !matched || people.isEmpty { people = defaultPeople }
        return (channels, people)
    }
}

public struct AlertRoute: Sendable, Hashable {
    public struct Match: Sendable, Hashable {
        /// A glob on the alarm name: `*` any run, `?` one character.
        public var alarm: String?
        public var namespace: String?
        public var account: String?
        /// The environment of the resource the alarm is about (its tag, or its account's).
        public var environment: String?
        /// Tags the alarm must carry, value for value.
        public var tags: [String: String] = [:]
        /// Tags the alarm's resource must carry (keys as AWS spells them, any case), value for value.
        public var resourceTags: [String: String] = [:]

        func matches(_ a: Alarm, environment env: String?, resource: ResourceRef? = nil) -> Bool {
            if let alarm, !AlertRoute.glob(alarm, a.name) { return false }
            if let namespace, !a.watched.contains(where: { $0.namespace == namespace }) { return false }
            if let account, a.account != account { return false }
            if let environment, env?.lowercased() != environment.lowercased() { return false }
            for (k, v) in tags where a.tags[k] != v { return false }
            if !resourceTags.isEmpty {
                // An alarm whose resource was not found (or is in another account) matches no tag.
                let found = resource?.tags ?? [:]
                for (k, v) in resourceTags where !found.contains(where: { $0.key.lowercased() == k.lowercased() && $0.value == v }) { return false }
            }
            return true
        }
    }

    public var match: Match
    public var channels: [String]
    /// People to tell directly (WhatsApp, once it is there).
    public var people: [String]
    public var continues: Bool

    /// `*` and `?` globbing, whole-string, iterative (no backtracking blow-up).
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

extension AlertSettings {
    static func parse(_ object: Any, source: String) throws(ConfigurationError) -> AlertSettings {
        guard let map = object as? [String: Any] else {
            throw ConfigurationError("\(source): 'alerts' must be an object with queue_urls, routes and default_channels (see the README's “Alerts”)")
        }
        let known: Set<String> = ["queue_url", "queue_urls", "routes", "default_channels", "default_people", "poll_seconds", "time_zone",
                                  "hold_seconds", "flapping", "reminder_minutes", "storm"]
        if let unknown = map.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(source): alerts: unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        var settings = AlertSettings()
        var urls = (map["queue_urls"] as? [Any] ?? []).map { "\($0)" }
        if map["queue_urls"] != nil, !(map["queue_urls"] is [String]) {
            throw ConfigurationError("\(source): alerts.queue_urls must be a list of SQS queue URLs")
        }
        if let one = map["queue_url"] {
            guard let url = one as? String else { throw ConfigurationError("\(source): alerts.queue_url must be an SQS queue URL") }
            urls.insert(url, at: 0)
        }
        for url in urls {
            guard isQueueURL(url) else {
                throw ConfigurationError("\(source): alerts: '\(url)' is not an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/convops-alarms")
            }
            if !settings.queueURLs.contains(url) { settings.queueURLs.append(url) }
        }
        if let raw = map["poll_seconds"] {
            guard let n = (raw as? NSNumber)?.intValue, (1...20).contains(n) else {
                throw ConfigurationError("\(source): alerts.poll_seconds must be a whole number from 1 to 20 (SQS's longest wait)")
            }
            settings.pollSeconds = n
        }
        if let raw = map["hold_seconds"] {
            guard let n = (raw as? NSNumber)?.doubleValue, (0...600).contains(n) else {
                throw ConfigurationError("\(source): alerts.hold_seconds must be from 0 (post at once) to 600 seconds")
            }
            settings.episodes.holdSeconds = n
        }
        if let raw = map["flapping"] {
            guard let f = raw as? [String: Any], Set(f.keys).isSubset(of: ["changes", "window_seconds"]) else {
                throw ConfigurationError("\(source): alerts.flapping must be {\"changes\": 4, \"window_seconds\": 1800} (changes 0 turns it off)")
            }
            if let c = f["changes"] {
                guard let n = (c as? NSNumber)?.intValue, n == 0 || (3...100).contains(n) else {
                    throw ConfigurationError("\(source): alerts.flapping.changes must be 0 (off) or from 3 to 100")
                }
                settings.episodes.flapChanges = n
            }
            if let w = f["window_seconds"] {
                guard let n = (w as? NSNumber)?.doubleValue, (60...86_400).contains(n) else {
                    throw ConfigurationError("\(source): alerts.flapping.window_seconds must be from 60 to 86400")
                }
                settings.episodes.flapWindow = n
            }
        }
        if let raw = map["storm"] {
            guard let f = raw as? [String: Any], Set(f.keys).isSubset(of: ["posts", "window_seconds"]) else {
                throw ConfigurationError("\(source): alerts.storm must be {\"posts\": 10, \"window_seconds\": 60} (posts 0 never groups)")
            }
            if let p = f["posts"] {
                guard let n = (p as? NSNumber)?.intValue, (0...1000).contains(n) else {
                    throw ConfigurationError("\(source): alerts.storm.posts must be from 0 (never group) to 1000")
                }
                settings.storm.posts = n
            }
            if let w = f["window_seconds"] {
                guard let n = (w as? NSNumber)?.doubleValue, (10...3600).contains(n) else {
                    throw ConfigurationError("\(source): alerts.storm.window_seconds must be from 10 to 3600")
                }
                settings.storm.windowSeconds = n
            }
        }
        if let raw = map["reminder_minutes"] {
            guard let n = (raw as? NSNumber)?.intValue, n == 0 || (5...1440).contains(n) else {
                throw ConfigurationError("\(source): alerts.reminder_minutes must be 0 (no reminders) or from 5 to 1440")
            }
            settings.reminderMinutes = n
        }
        if let raw = map["time_zone"] {
            guard let name = raw as? String, let zone = TimeZone(identifier: name) else {
                throw ConfigurationError("\(source): alerts.time_zone must be a time zone name such as Europe/Berlin or UTC, not '\(raw)'")
            }
            settings.timeZone = zone
        }
        if let raw = map["default_channels"] {
            settings.defaultChannels = try channels(raw, at: "\(source): alerts.default_channels")
        }
        if let raw = map["default_people"] {
            settings.defaultPeople = try people(raw, at: "\(source): alerts.default_people")
        }
        if let raw = map["routes"] {
            guard let list = raw as? [[String: Any]] else {
                throw ConfigurationError("\(source): alerts.routes must be a list of {\"match\": {…}, \"channels\": [...]}")
            }
            for (i, entry) in list.enumerated() { settings.routes.append(try route(entry, at: "\(source): alerts.routes[\(i)]")) }
        }
        return settings
    }

    static func route(_ entry: [String: Any], at: String) throws(ConfigurationError) -> AlertRoute {
        let known: Set<String> = ["match", "channels", "people", "continue"]
        if let unknown = entry.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(at): unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let m = entry["match"] as? [String: Any], !m.isEmpty else {
            throw ConfigurationError("\(at): 'match' must name at least one of alarm, namespace, account, environment, tags, resource_tags")
        }
        let matchKeys: Set<String> = ["alarm", "namespace", "account", "environment", "tags", "resource_tags"]
        if let unknown = m.keys.sorted().first(where: { !matchKeys.contains($0) }) {
            throw ConfigurationError("\(at).match: unknown key '\(unknown)' (known: \(matchKeys.sorted().joined(separator: ", ")))")
        }
        var match = AlertRoute.Match()
        for key in ["alarm", "namespace", "account", "environment"] where m[key] != nil {
            guard let v = m[key] as? String, !v.isEmpty, v.count <= 255 else { throw ConfigurationError("\(at).match.\(key) must be a non-empty string") }
            switch key {
            case "alarm": match.alarm = v
            case "namespace": match.namespace = v
            case "account":
                guard v.count == 12, v.allSatisfy(\.isNumber) else { throw ConfigurationError("\(at).match.account must be a 12-digit account id, not '\(v)'") }
                match.account = v
            default:
                guard Configuration.isEnvironmentName(v) else { throw ConfigurationError("\(at).match.environment must be an environment name such as prod") }
                match.environment = v
            }
        }
        if let t = m["tags"] {
            guard let tags = t as? [String: String], !tags.isEmpty else { throw ConfigurationError("\(at).match.tags must be an object of tag keys to values") }
            match.tags = tags
        }
        if let t = m["resource_tags"] {
            guard let tags = t as? [String: String], !tags.isEmpty, tags.keys.allSatisfy({ !$0.isEmpty && $0.count <= 128 }) else {
                throw ConfigurationError("\(at).match.resource_tags must be an object of tag keys to values, such as {\"team\": \"payments\"}")
            }
            match.resourceTags = tags
        }
        let channels = try entry["channels"].map { (raw) throws(ConfigurationError) in try Self.channels(raw, at: "\(at).channels") } ?? []
        let people = try entry["people"].map { (raw) throws(ConfigurationError) in try Self.people(raw, at: "\(at).people") } ?? []
        guard !channels.isEmpty || !people.isEmpty else { throw ConfigurationError("\(at): the route names no channels and no people") }
        if entry["continue"] != nil, !(entry["continue"] is Bool) { throw ConfigurationError("\(at).continue must be true or false") }
        return AlertRoute(match: match, channels: channels, people: people, continues: entry["continue"] as? Bool ?? false)
    }

    static func people(_ raw: Any, at: String) throws(ConfigurationError) -> [String] {
        guard let list = raw as? [String], list.allSatisfy({ isSlackUser($0) || isPhoneNumber($0) }) else {
            throw ConfigurationError("\(at) must be Slack user ids such as U0123ABCD or phone numbers such as +491701234567")
        }
        return list
    }

    static func channels(_ raw: Any, at: String) throws(ConfigurationError) -> [String] {
        guard let list = raw as? [String], !list.isEmpty, list.allSatisfy(isChannelID) else {
            throw ConfigurationError("\(at) must be a list of channel ids such as C0123ABCD (right-click the channel → Copy link)")
        }
        return list
    }

    static func isChannelID(_ s: String) -> Bool {
        s.count >= 9 && s.count <= 24 && "CGD".contains(s.first!) && s.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    static func isSlackUser(_ s: String) -> Bool {
        s.count >= 3 && s.count <= 24 && "UW".contains(s.first!) && s.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    static func isPhoneNumber(_ s: String) -> Bool {
        s.hasPrefix("+") && (8...16).contains(s.count) && s.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or a loopback endpoint's /ACCOUNT/NAME (moto).
    static func isQueueURL(_ url: String) -> Bool {
        guard let c = URLComponents(string: url), let scheme = c.scheme, let host = c.host else { return false }
        let parts = c.path.split(separator: "/")
        guard parts.count == 2, parts[0].count == 12, parts[0].allSatisfy(\.isNumber), (1...80).contains(parts[1].count),
              parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else { return false }
        if scheme == "https", host.hasPrefix("sqs."), host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") { return true }
        return scheme == "http" && (host == "127.0.0.1" || host == "localhost" || host == "::1")
    }

    /// The region of a queue: from its host (sqs.eu-west-1.amazonaws.com), else the default.
    static func region(of url: String, default fallback: String) -> String {
        guard let host = URLComponents(string: url)?.host, host.hasPrefix("sqs.") else { return fallback }
        let parts = host.split(separator: ".")
        return parts.count >= 3 ? String(parts[1]) : fallback
    }
}
