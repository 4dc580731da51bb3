import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// Where a request may look and act: accounts, regions, the clients for them; and how a
/// search that found nothing, or too much, is explained.
extension Engine {
    func resolutionProblem(_ outcome: SearchOutcome, mention: ResourceMention, places: [SearchPlace], _ m: Messages) -> Reply {
        let region = outcome.searched.joined(separator: ", ")
        let failures = outcome.unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) }
        if outcome.searched.isEmpty, places.count == 1, outcome.unsearched.count == 1 {
            return Reply.refused(m.text("error.aws", ["error": outcome.unsearched[0].error.description]))
        }
        if outcome.searched.isEmpty {
            // Nowhere to look: every place failed, or an ARN names an account or region that is
            // not one of this person's.
            let key = failures.isEmpty ? "resolve.no_place" : "resolve.none_searched"
            return Reply.refused(([m.text(key, ["name": mention.text, "places": places.map(\.label).joined(separator: ", ")])] + failures)
                .joined(separator: "\n"))
        }
        var lines: [String]
        switch outcome.resolution {
        case .notFound where mention.kind != nil:
            // "the api service": only that kind was searched (the names near it may be of any
            // kind, the very name among them); say so, and how to search every kind.
            lines = [m.text("resolve.not_found_kind", ["name": mention.text, "region": region, "kind": mention.kind!.noun])]
        case .notFound(let near) where !near.isEmpty:
            lines = [m.text("resolve.not_found_suggest", ["name": mention.text, "region": region,
                                                          "suggestions": near.map { "“\($0)”" }.joined(separator: ", ")])]
        case .notFound:
            lines = [m.text("resolve.not_found", ["name": mention.text, "region": region])]
        case .ambiguous(let refs):
            lines = [m.text("resolve.ambiguous", ["name": mention.text, "count": String(refs.count), "region": region])]
            lines += refs.map {
                m.text("resolve.ambiguous_line", ["id": $0.id, "kind": $0.kind.noun, "state": $0.state ?? "unknown",
                                                  "where": SearchPlace.label($0.account, $0.region)])
            }
        case .found:
            return Reply.refused(m.text("error.internal", ["id": "resolution"]))
        }
        let text = (lines + failures).joined(separator: "\n")
        if case .ambiguous(let refs) = outcome.resolution, refs.count <= 10 {
            // Picked by its id, as "the one i-0abc…" would be typed: the request asked for, on it.
            return Reply.choose(text, refs.map {
                Reply.Choice(label: $0.name ?? $0.id, detail: "\($0.kind.noun), \(SearchPlace.label($0.account, $0.region))",
                             say: m.text("resolve.pick", ["id": $0.id]))
            })
        }
        return Reply.refused(text)
    }

    /// Places a search could not look in: the person hears of them before confirming, since a
    /// resource of the same name may live there.
    func unsearchedNote(_ unsearched: [(place: String, error: AWSError)], _ m: Messages) -> [Reply] {
        guard !unsearched.isEmpty else { return [] }
        // AWS's errors name roles and sessions: for the asker only.
        return [.detail(unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) }
            .joined(separator: "\n"))]
    }

    /// Every place a request may look in: the named account, or each configured account the
    /// person may use for this intent; in the named region, or in each of the account's regions.
    /// `overview` (status of everything, alarms): a typed environment keeps the accounts in it
    /// (and those that name none, whose resources may be tagged so).
    /// An overview reads a whole account: only accounts whose environment the person may read.
    func places(for intent: IntentKind, _ q: Qualifiers, message: InboundMessage, overview: Bool = false) throws -> [SearchPlace] {
        let person = message.person
        func mayRead(_ alias: String?, _ environment: String?) -> Bool {
            let place = environment.map { EnvironmentScope.known(canonicalEnvironment($0)) } ?? .unknown
            return access.allows(person.id, intent, environment: place, account: alias, channel: message.channel, standing: message.standing)
        }
        guard let roles else {
            // Instances of an overview are each checked where they live; alarms belong to the account.
            if overview, intent == .alarms, !mayRead(nil, ownEnvironment) {
                throw EngineError(key: "policy.denied", arguments: ["intent": intent.rawValue, "where": ""])
            }
            return [try workspace(nil, region: q.region, for: person)]
        }
        if q.account != nil {
            guard q.region == nil, let account = roles.account(q.account), account.regions.count > 1 else {
                return [try workspace(q.account, region: q.region, for: person)]
            }
            return try account.regions.map { try workspace(account.alias, region: $0, for: person) }
        }
        var out: [SearchPlace] = []
        var usable = roles.accounts.filter {
            access.allows(person.id, intent, environment: .any, account: $0.alias, channel: message.channel, standing: message.standing)
        }
        if overview, intent == .alarms {
            usable = usable.filter { mayRead($0.alias, $0.environment) }
            if usable.isEmpty { throw EngineError(key: "policy.denied", arguments: ["intent": intent.rawValue, "where": ""]) }
        }
        if overview, let typed = q.environment {
            let wanted = canonicalEnvironment(typed)
            let there = usable.filter { account in account.environment.map { canonicalEnvironment($0) == wanted } ?? true }
            guard !there.isEmpty else {
                throw EngineError(key: "account.no_environment", arguments: [
                    "environment": wanted, "accounts": usable.map { "\($0.alias) (\($0.environment ?? "-"))" }.joined(separator: "; "),
                ])
            }
            usable = there
        }
        for account in usable {
            let regions = q.region.map { [$0] } ?? (account.regions.isEmpty ? [aws.configuration.region] : account.regions)
            for region in regions where account.regions.isEmpty || account.regions.contains(region) {
                out.append(try workspace(account.alias, region: region, for: person))
            }
        }
        guard !out.isEmpty else {
            throw EngineError(key: "account.no_region", arguments: [
                "region": q.region ?? "-",
                "accounts": usable.map { "\($0.alias) (\($0.regions.joined(separator: ", ")))" }.joined(separator: "; "),
            ])
        }
        return out
    }

    /// An instance of an overview's answer, placed like a resolved resource.
    func environment(of instance: EC2Instance, in place: SearchPlace) -> ResourceEnvironment {
        let keys = ResourceEnvironment.tagKeys(configured: environmentTag)
        return environment(of: ResourceRef(kind: .ec2Instance, id: instance.id, name: instance.name, region: place.region,
                                           account: place.account, tags: instance.tags.filter { keys.contains($0.key.lowercased()) }))
    }

    /// "production" → "prod": the locale's words for an environment, as the grammar knows them.
    func canonicalEnvironment(_ name: String) -> String {
        let lowered = ResourceEnvironment.normalized(name)
        return grammar.environmentNames[lowered] ?? lowered
    }

    func search(_ places: [SearchPlace]) -> ResourceSearch {
        ResourceSearch(places: places)
    }

    /// Runs `body` in every place at once; the results come back in the places' order.
    func inEachPlace<T: Sendable>(_ places: [SearchPlace],
                                  _ body: @escaping @Sendable (SearchPlace) async throws(AWSError) -> T) async -> [(SearchPlace, Result<T, AWSError>)] {
        let results = await withTaskGroup(of: (Int, Result<T, AWSError>).self) { group in
            for (index, place) in places.enumerated() {
                group.addTask {
                    // Await into a local, then build the tuple: see Result+Awaiting.swift.
                    let result = await Result { () async throws(AWSError) in try await body(place) }
                    return (index, result)
                }
            }
            return await group.reduce(into: [(Int, Result<T, AWSError>)]()) { $0.append($1) }
        }.sorted { $0.0 < $1.0 }
        // One answer per place, under its own index, or none is used (see ResourceSearch.resolve).
        guard results.map(\.0) == Array(places.indices) else {
            return places.map { ($0, .failure(AWSError.internalMismatch("each place"))) }
        }
        return results.map { (places[$0.0], $0.1) }
    }

    /// When no place answered: an error naming each place with its error; nil when one did.
    static func allFailed<T>(_ results: [(SearchPlace, Result<T, AWSError>)], _ m: Messages) -> Reply? {
        if results.count == 1, case .failure(let error) = results[0].1 {
            return Reply.refused(m.text("error.aws", ["error": error.description]))
        }
        var failures: [String] = []
        for (place, result) in results {
            guard case .failure(let error) = result else { return nil }
            failures.append(m.text("resolve.unsearched", ["place": place.label, "error": error.description]))
        }
        return Reply.refused(([m.text("error.nowhere")] + failures).joined(separator: "\n"))
    }

    func workspace(_ alias: String?, region: String?, for person: Person) throws -> SearchPlace {
        guard let roles else {
            var place = SearchPlace(client: aws, region: region ?? aws.configuration.region, inventory: inventories[""]!,
                                    environmentTag: environmentTag)
            place.routingTagKeys = routingTagKeys
            return place
        }
        guard let account = roles.account(alias) else {
            throw EngineError(key: "account.unknown", arguments: ["account": alias ?? "-",
                                                                  "known": roles.accounts.map(\.alias).joined(separator: ", ")])
        }
        let region = region ?? account.regions.first ?? aws.configuration.region
        guard account.regions.isEmpty || account.regions.contains(region) else {
            throw EngineError(key: "account.region", arguments: ["account": account.alias, "region": region,
                                                                 "regions": account.regions.joined(separator: ", ")])
        }
        // A WhatsApp-only person's id is their phone number: CloudTrail gets their pseudonym instead.
        let sessionID = try RequestService.sessionID(of: person, store: store)
        var place = SearchPlace(client: roles.client(for: account, personID: sessionID, handle: person.name), region: region,
                                account: account.alias, accountID: account.accountID, inventory: inventories[account.alias] ?? inventories[""]!,
                                allowedRegions: account.regions.isEmpty ? nil : account.regions, environmentTag: environmentTag)
        place.routingTagKeys = routingTagKeys
        return place
    }

    /// "90 seconds", "10 minutes", "1 minute", in the locale's words.
    static func duration(_ raw: TimeInterval, _ m: Messages) -> String {
        // Times read back from the database may be anything: keep them to what Int holds.
        let seconds = raw.isFinite ? min(max(raw, 0), 1e9) : 0
        if seconds < 120 {
            let n = Int(seconds.rounded())
            return m.text(n == 1 ? "duration.second" : "duration.seconds", ["n": String(n)])
        }
        let n = Int((seconds / 60).rounded())
        return m.text(n == 1 ? "duration.minute" : "duration.minutes", ["n": String(n)])
    }

    static func newRequestID() -> String { RequestID.new() }
}
