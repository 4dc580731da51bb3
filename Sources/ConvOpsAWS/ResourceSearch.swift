import ConvOpsCore

/// One place a resource may live and a request acts: an account (through the client acting
/// there, for the person), a region, and what is known of it.
public struct SearchPlace: Sendable {
    public var client: AWSClient
    public var region: String
    /// The account's alias; nil for the bot's own account.
    public var account: String?
    /// The account's id, when the configuration tells it, to match ARNs against.
    public var accountID: String?
    /// What the resolver learned in this account.
    public var inventory: InventoryCache?
    /// The account's regions (nil: any well-formed region).
    public var allowedRegions: [String]?
    /// The tag that names a resource's environment.
    public var environmentTag: String
    /// Tag keys alert routes match on, kept on the resources found.
    public var routingTagKeys: Set<String> = []

    public init(client: AWSClient, region: String, account: String? = nil, accountID: String? = nil, inventory: InventoryCache? = nil,
                allowedRegions: [String]? = nil, environmentTag: String = ResourceEnvironment.defaultTagKey) {
        self.client = client
        self.region = region
        self.account = account
        self.accountID = accountID
        self.inventory = inventory
        self.allowedRegions = allowedRegions
        self.environmentTag = environmentTag
    }

    public var resolver: ResourceResolver {
        ResourceResolver(ec2: EC2(client: client), region: region, inventory: inventory, allowedRegions: allowedRegions,
                         environmentTagKey: environmentTag, routingTagKeys: routingTagKeys, logger: client.logger)
    }

    public var label: String { Self.label(account, region) }

    /// `prod/eu-west-1`, or the region alone for the bot's own account.
    public static func label(_ account: String?, _ region: String) -> String { account.map { "\($0)/\(region)" } ?? region }
}

/// What a search across places found, and where it could not look.
public struct SearchOutcome: Sendable {
    public var resolution: Resolution
    /// The places that were searched (labels such as `prod/eu-west-1`).
    public var searched: [String]
    /// Places that could not be searched, and why. A name found elsewhere may also live there,
    /// so the person is told before they confirm.
    public var unsearched: [(place: String, error: AWSError)]
}

/// Resolves a mention in every configured account and region at once: one resolver per place,
/// concurrently, each with its own inventory cache. Exactly one match is found; several are
/// returned as candidates, never guessed between; none gets the closest names of all places.
public struct ResourceSearch: Sendable {
    public let places: [SearchPlace]

    public init(places: [SearchPlace]) {
        self.places = places
    }

    /// `fresh`: ask AWS now rather than the inventory caches (a change); `recent`: an answer a
    /// few seconds old will do (status questions). When no place
    /// could be searched, or none may hold the mention (an ARN of another account), `searched`
    /// is empty and the resolution is `notFound` with no suggestions.
    public func resolve(_ mention: ResourceMention, fresh: Bool = false, recent: Bool = false) async -> SearchOutcome {
        let targets = places(for: mention)
        let results = await withTaskGroup(of: (Int, Result<[ResourceRef], AWSError>).self) { group in
            for (index, place) in targets.enumerated() {
                group.addTask {
                    // Await into a local, then build the tuple: see Result+Awaiting.swift for
                    // the release-build miscompile the other shape hits.
                    let result = await Result { () async throws(AWSError) in try await place.resolver.candidates(mention, fresh: fresh, recent: recent) }
                    return (index, result)
                }
            }
            return await group.reduce(into: [(Int, Result<[ResourceRef], AWSError>)]()) { $0.append($1) }
        }.sorted { $0.0 < $1.0 }
        // Each place answers once, under its own index. Were that ever not so (the miscompile
        // in Result+Awaiting.swift made every index 0), a result would be credited to the
        // wrong account: search nowhere rather than there.
        guard results.map(\.0) == Array(targets.indices) else {
            let error = AWSError.internalMismatch("search")
            return SearchOutcome(resolution: .notFound(nearMisses: []), searched: [], unsearched: targets.map { ($0.label, error) })
        }

        var found: [ResourceRef] = []
        var seen = Set<String>()
        var unsearched: [(place: String, error: AWSError)] = []
        var searched: [SearchPlace] = []
        for (index, result) in results {
            let place = targets[index]
            switch result {
            case .success(let refs):
                searched.append(place)
                for var ref in refs {
                    ref.account = place.account
                    // Two aliases may name one AWS account: the account id tells, when configured.
                    let owner = place.accountID ?? place.account ?? ""
                    if seen.insert("\(owner)\u{0}\(ref.region)\u{0}\(ref.kind.rawValue)\u{0}\(ref.id)").inserted { found.append(ref) }
                }
            case .failure(let error):
                unsearched.append((place.label, error))
            }
        }
        let labels = searched.map(\.label)
        switch found.count {
        case 1:
            return SearchOutcome(resolution: .found(found[0]), searched: labels, unsearched: unsearched)
        case 0:
            // From the inventory cache even for a fresh lookup: misspelt names must not rescan everything.
            let near = searched.isEmpty ? [] : await nearMisses(mention.text, in: searched, fresh: false)
            return SearchOutcome(resolution: .notFound(nearMisses: near), searched: labels, unsearched: unsearched)
        default:
            let sorted = found.sorted {
                ($0.account ?? "", $0.region, $0.kind.rawValue, $0.id) < ($1.account ?? "", $1.region, $1.kind.rawValue, $1.id)
            }
            return SearchOutcome(resolution: .ambiguous(sorted), searched: labels, unsearched: unsearched)
        }
    }

    /// Where to look. An ARN names its account and region: only places of that account and
    /// region. A place whose account may act in any region (the bot's own, with no list) looks
    /// in the ARN's region itself. Names and instance ids: everywhere.
    func places(for mention: ResourceMention) -> [SearchPlace] {
        guard mention.form == .arn else { return places }
        let parts = mention.text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 6 else { return places }
        let ofAccount = places.filter { $0.accountID == nil || parts[4].isEmpty || $0.accountID == parts[4] }
        let inRegion = ofAccount.filter { parts[3].isEmpty || $0.region == parts[3] }
        if !inRegion.isEmpty { return inRegion }
        var oneEach: [SearchPlace] = []
        for place in ofAccount where place.resolver.allowedRegions == nil && !oneEach.contains(where: { $0.account == place.account }) {
            oneEach.append(place)
        }
        return oneEach
    }

    /// The closest names across the places searched, closest first, at most three.
    func nearMisses(_ text: String, in searched: [SearchPlace], fresh: Bool) async -> [String] {
        let scored = await withTaskGroup(of: [(String, Int)].self) { group in
            for place in searched {
                group.addTask { ((try? await place.resolver.scoredNearMisses(text, fresh: fresh)) ?? []).map { ($0.name, $0.distance) } }
            }
            return await group.reduce(into: [(String, Int)]()) { $0 += $1 }
        }
        var best: [String: Int] = [:]
        for (name, d) in scored { best[name] = min(best[name] ?? .max, d) }
        return best.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value < $1.value }.prefix(3).map(\.key)
    }
}
