import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// The read-only answers: how a resource is doing, which alarms fire, what a resource logged.
/// They look in every account and region the person may use, and never store anything.
extension Engine {
    /// How many alarms or log lines one answer shows; the rest is counted.
    static let answerLines = 20
    /// Log lines longer than this are cut (a stack trace in one event).
    static let logLineCharacters = 300

    /// "web-1 (i-…) is running — EC2 instance in eu-west-1", then its status checks, CPU and
    /// firing alarms, each part saying so when it could not be read.
    func statusText(_ ref: ResourceRef, _ health: ResourceHealth, _ m: Messages, recalled: String = "") -> String {
        var lines = [m.text("status.one", ["resource": ref.label + recalled, "kind": ref.kind.noun, "state": ref.state ?? "unknown",
                                           "region": SearchPlace.label(ref.account, ref.region)])]
        if let checks = health.statusChecks {
            lines.append(m.text("status.checks", ["system": checks.system, "instance": checks.instance]))
        }
        let missing = Set(health.unavailable.map(\.part))
        if let cpu = health.cpu {
            lines.append(m.text("status.cpu", ["percent": String(format: "%.1f", cpu.percent),
                                               "ago": Self.duration(max(0, clock.now().timeIntervalSince(cpu.at)), m)]))
        } else if !missing.contains(.cpu) {
            lines.append(m.text("status.cpu_none"))
        }
        if !health.firingAlarms.isEmpty {
            lines.append(m.text("status.alarms", ["alarms": health.firingAlarms.map { "“\($0.name)”" }.joined(separator: ", ")]))
        } else if !missing.contains(.alarms) {
            lines.append(m.text("status.no_alarms"))
        }
        for (part, error) in health.unavailable {
            lines.append(m.text("status.unavailable", ["part": part.rawValue, "error": error.description]))
        }
        return lines.joined(separator: "\n")
    }

    /// Alarms in the asked-for state (ALARM unless said otherwise), in every place at once.
    func alarms(_ state: AlarmStateFilter, _ q: Qualifiers, message: InboundMessage, _ m: Messages) async throws -> [Reply] {
        let places = try places(for: .alarms, q, message: message, overview: true)
        let filter = state == .any ? nil : state.rawValue
        let results = await inEachPlace(places) { (place) throws(AWSError) in
            try await CloudWatch(client: place.client).describeAlarms(state: filter, region: place.region)
        }
        if let failed = Self.allFailed(results, m) { return [failed] }
        var found: [(String, CloudWatchAlarm)] = []
        var failed: [String] = []
        for (place, result) in results {
            switch result {
            case .success(let alarms): found += alarms.map { (place.label, $0) }
            case .failure(let error): failed.append(m.text("resolve.unsearched", ["place": place.label, "error": error.description]))
            }
        }
        let searched = results.filter { if case .success = $0.1 { true } else { false } }.map(\.0.label).joined(separator: ", ")
        let stateWord = state == .any ? m.text("alarms.any_state") : m.text("alarms.in_state", ["state": state.rawValue])
        guard !found.isEmpty else {
            return [Reply.answer(([m.text("alarms.none", ["state": stateWord, "where": searched])] + failed).joined(separator: "\n"))]
        }
        // Firing first, then by name: the ones to look at lead.
        found.sort { ($0.1.state == "ALARM" ? 0 : 1, $0.1.name, $0.0) < ($1.1.state == "ALARM" ? 0 : 1, $1.1.name, $1.0) }
        var lines = [m.text("alarms.header", ["count": String(found.count), "state": stateWord, "where": searched])]
        lines += found.prefix(Self.answerLines).map { place, alarm in
            m.text("alarms.line", ["name": alarm.name, "state": alarm.state, "where": place,
                                   "reason": alarm.reason.isEmpty ? "-" : alarm.reason])
        }
        if found.count > Self.answerLines { lines.append(m.text("alarms.more", ["n": String(found.count - Self.answerLines)])) }
        return [Reply.answer((lines + failed).joined(separator: "\n"))]
    }

    /// The newest log lines of a resource's log group since `since` seconds ago, matching
    /// `filter` (a CloudWatch Logs filter pattern) when given.
    func logs(_ target: ResourceMention, since: Int, filter: String?, _ q: Qualifiers,
              message: InboundMessage, _ m: Messages) async throws -> [Reply] {
        let places = try places(for: .logs, q, message: message)
        let outcome = await search(places).resolve(target)
        guard case .found(let ref) = outcome.resolution else {
            return [resolutionProblem(outcome, mention: target, places: places, m)]
        }
        remember(ref, for: message, mention: target)
        if let refused = refusal(.logs, on: ref, message, m) { return [refused] }
        guard let group = logGroup(for: ref) else {
            return [Reply.refused(m.text("logs.no_group", ["resource": ref.label, "name": ref.name ?? ref.id]))]
        }
        let place = try workspace(ref.account, region: ref.region, for: message.person)
        let now = clock.now()
        let matching = filter.map { m.text("logs.matching", ["filter": $0]) } ?? ""
        // FilterLogEvents answers oldest first. When the window holds more than we read, the
        // newest lines are not among them: narrow the window toward now and read again.
        var seconds = TimeInterval(since)
        var events: [LogEvent]
        while true {
            let read = await Result { () async throws(AWSError) in
                try await Logs(client: place.client).filterLogEvents(group: group, since: now.addingTimeInterval(-seconds),
                                                                     pattern: filter, limit: Self.logEventsRead, region: ref.region)
            }
            switch read {
            case .success(let all): events = all
            case .failure(let error) where error.kind == .notFound:
                return [Reply.refused(m.text("logs.group_missing", ["group": group, "where": place.label, "name": ref.name ?? ref.id]))]
            case .failure(let error): throw error
            }
            // Full (by count or by bytes): the newest lines may be past what was read.
            guard Self.isFull(events), seconds > 60 else { break }
            seconds = max(60, seconds / 10)
        }
        // Streams interleave: order the lines by time before taking the newest.
        events.sort { $0.timestamp < $1.timestamp }
        let window = Self.duration(seconds, m)
        guard !events.isEmpty else {
            return [Reply.answer(m.text("logs.none", ["resource": ref.label, "group": group, "since": window, "matching": matching]))]
                + unsearchedNote(outcome.unsearched, m)
        }
        let shown = events.suffix(Self.answerLines)
        let count = Self.isFull(events) ? m.text("logs.at_least", ["n": String(events.count)]) : String(events.count)
        var lines = [m.text("logs.header", ["resource": ref.label + recallNote(target, m), "group": group, "since": window, "matching": matching,
                                            "shown": String(shown.count), "count": count])]
        lines += shown.map { event in
            m.text("logs.line", ["time": Self.clockTime(event.timestamp), "message": Self.oneLine(event.message)])
        }
        return [.detail(lines.joined(separator: "\n"))] + unsearchedNote(outcome.unsearched, m)
    }

    /// How many events a logs answer reads at most, to show the newest of them.
    static let logEventsRead = 1_000

    static func isFull(_ events: [LogEvent]) -> Bool {
        events.count >= logEventsRead || events.reduce(0) { $0 + $1.message.utf8.count } >= Logs.bytesKept
    }

    /// The configured log group (by name, then id), or the ECS console's default, /ecs/NAME.
    func logGroup(for ref: ResourceRef) -> String? {
        if let name = ref.name, let group = logGroups[name] { return group }
        if let group = logGroups[ref.id] { return group }
        if ref.kind == .ecsService, let name = ref.name { return "/ecs/\(name)" }
        return nil
    }

    /// `14:03:07` in UTC: log lines are read by people comparing them with other UTC logs.
    static func clockTime(_ date: Date) -> String {
        var t = time_t(exactly: date.timeIntervalSince1970.rounded(.down)) ?? 0
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// One log event on one line, cut to a readable length.
    static func oneLine(_ message: String) -> String {
        let flat = message.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\r\n", with: " ⏎ ").replacingOccurrences(of: "\n", with: " ⏎ ")
        return flat.count > logLineCharacters ? String(flat.prefix(logLineCharacters)) + "…" : flat
    }
}
