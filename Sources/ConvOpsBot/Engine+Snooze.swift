import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import Foundation

/// "snooze web-1 2h", "snooze alarm api-5xx until 18:00", "maintenance prod until 18:00",
/// "snoozes": stored and audited, checked against the policy where the resource lives, ended by
/// the alert intake when their time comes.
extension Engine {
    /// The longest snooze: a week. Anything longer is a config change, not a snooze.
    static let longestSnooze = 7 * 86_400

    func snooze(_ target: SnoozeTarget, _ length: SnoozeLength, _ q: Qualifiers, message: InboundMessage,
                _ m: Messages) async throws -> [Reply] {
        let now = clock.now()
        if case .seconds(let s) = length, !(60...Self.longestSnooze).contains(s) {
            return [.refused(m.text("snooze.bounds"))]
        }
        let until = Snooze.end(of: length, from: now, in: timeZone)
        let scope: Snooze.Scope, key: String, label: String, place: ResourceEnvironment, account: String?
        var recalled = ""
        switch target {
        case .resource(let mention):
            let places = try places(for: .snooze, q, message: message)
            let found = try narrowed(await search(places).resolve(mention), to: q.environment, mention: mention, m)
            guard case .found(let ref) = found.resolution else { return [resolutionProblem(found, mention: mention, places: places, m)] }
            remember(ref, for: message, mention: mention)
            (scope, key, label, place, account) = (.resource, Snooze.key(of: ref), ref.name ?? ref.id, environment(of: ref), ref.account)
            recalled = recallNote(mention, m)
        case .alarm(let name):
            // An alarm is not resolved: who may snooze alarms everywhere may snooze this one.
            (scope, key, label, place, account) = (.alarm, name, name, .unknown, nil)
        case .environment(let name):
            let canonical = canonicalEnvironment(name)
            (scope, key, label, place, account) = (.environment, canonical, canonical,
                                                   ResourceEnvironment(name: canonical, source: .unknown), nil)
        }
        let kind: IntentKind = scope == .environment ? .maintenance : .snooze
        if let denial = access.check(Attempt(.run(kind, account: account, environment: place), by: message.person,
                                             standing: message.standing, in: message.channel)) {
            await audit(refusal: "alert.snooze", target: "\(scope.rawValue) \(label)", by: message.person, why: "policy", requestID: nil)
            return [.refused(denialText(denial, m))]
        }
        let snooze = Snooze(id: AlertDesk.newID("sz"), scope: scope, target: key, label: label, until: until, createdAt: now,
                            channel: message.channel)
        try store.add(snooze, by: message.person)
        let text = m.text(scope == .environment ? "snooze.maintenance" : "snooze.done",
                          ["what": label + recalled, "until": clockText(until), "left": Self.duration(until.timeIntervalSince(now), m)])
        return [.answer(text)]
    }

    /// Ends a snooze before its time: the sweep sums up what it held back within seconds.
    func unsnooze(_ target: SnoozeTarget, _ q: Qualifiers, message: InboundMessage, _ m: Messages) async throws -> [Reply] {
        let now = clock.now()
        let active = try store.activeSnoozes().filter { $0.until > now }
        let found: [Snooze]
        var place = ResourceEnvironment.unknown
        var account: String?
        switch target {
        case .resource(let mention):
            let places = try places(for: .snooze, q, message: message)
            let outcome = try narrowed(await search(places).resolve(mention), to: q.environment, mention: mention, m)
            guard case .found(let ref) = outcome.resolution else { return [resolutionProblem(outcome, mention: mention, places: places, m)] }
            found = active.filter { $0.scope == .resource && $0.target == Snooze.key(of: ref) }
            (place, account) = (environment(of: ref), ref.account)
        case .alarm(let name):
            found = active.filter { $0.scope == .alarm && $0.target == name }
        case .environment(let name):
            let canonical = canonicalEnvironment(name)
            found = active.filter { $0.scope == .environment && $0.target == canonical }
            place = ResourceEnvironment(name: canonical, source: .unknown)
        }
        guard !found.isEmpty else { return [.answer(m.text("unsnooze.none"))] }
        let kind: IntentKind = found.contains { $0.scope == .environment } ? .maintenance : .snooze
        if let denial = access.check(Attempt(.run(kind, account: account, environment: place), by: message.person,
                                             standing: message.standing, in: message.channel)) {
            await audit(refusal: "alert.unsnooze", target: found.map(\.label).joined(separator: ", "), by: message.person, why: "policy", requestID: nil)
            return [.refused(denialText(denial, m))]
        }
        for snooze in found { try store.endEarly(snooze, by: message.person, at: now) }
        return [.answer(m.text("unsnooze.done", ["what": found.map(\.label).joined(separator: ", ")]))]
    }

    func snoozes(message: InboundMessage, _ m: Messages) throws -> [Reply] {
        let now = clock.now()
        let active = try store.activeSnoozes().filter { $0.until > now }
        guard !active.isEmpty else { return [.answer(m.text("snoozes.none"))] }
        let lines = try active.map { s in
            m.text("snoozes.line", ["what": s.label, "scope": m.text("snooze.scope.\(s.scope.rawValue)"), "until": clockText(s.until),
                                    "by": s.createdBy.map(store.displayName(pseudonym:)) ?? "-",
                                    "held": String(try store.suppressedCount(snoozeID: s.id))])
        }
        return [.answer(([m.text("snoozes.header", ["count": String(active.count)])] + lines).joined(separator: "\n"))]
    }

    /// "18:00 UTC" (with the day when it is not today), in the configured time zone.
    nonisolated func clockText(_ date: Date) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let local = Int((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        let minutes = ((local % 86_400) + 86_400) % 86_400 / 60
        let time = String(format: "%02d:%02d", minutes / 60, minutes % 60)
        let zone = timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier
        let day = Timestamp.format(Date(timeIntervalSince1970: Double(local))).prefix(10)
        let today = Timestamp.format(Date(timeIntervalSince1970: clock.now().timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: clock.now())))).prefix(10)
        return day == today ? "\(time) \(zone)" : "\(day) \(time) \(zone)"
    }
}
