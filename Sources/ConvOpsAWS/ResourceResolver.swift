import ConvOpsCore
import Logging

/// What a mention turned out to be.
public enum Resolution: Sendable, Hashable {
    case found(ResourceRef)
    /// Nothing by that name; `nearMisses` are names that are close (for "did you mean").
    case notFound(nearMisses: [String])
    /// More than one resource answers to the name: never guess, ask.
    case ambiguous([ResourceRef])
}

/// Finds the resource a person meant: an EC2 instance (Name tag, instance id or ARN), an ECS
/// service, an RDS instance or an Auto Scaling group (name or ARN), in one account and region.
/// A service the role may not read is skipped, not fatal: EC2 alone still resolves.
public struct ResourceResolver: Sendable {
    let ec2: EC2
    let region: String
    let inventory: InventoryCache?
    /// The regions this account may be looked at in (nil: any well-formed region).
    let allowedRegions: [String]?
    /// Tag keys (lowercased) that name an environment: kept on the resources found.
    let environmentTagKeys: Set<String>
    /// Tag keys (lowercased) alert routes match on (`resource_tags`): kept too.
    let routingTagKeys: Set<String>
    let logger: Logger

    public init(ec2: EC2, region: String, inventory: InventoryCache? = nil, allowedRegions: [String]? = nil,
                environmentTagKey: String = ResourceEnvironment.defaultTagKey, routingTagKeys: Set<String> = [], logger: Logger) {
        self.environmentTagKeys = ResourceEnvironment.tagKeys(configured: environmentTagKey)
        self.routingTagKeys = Set(routingTagKeys.map { $0.lowercased() })
        self.ec2 = ec2
        self.region = region
        self.inventory = inventory
        self.allowedRegions = allowedRegions
        self.logger = logger
    }

    /// `eu-west-1`, `us-gov-west-1`: the only shape a region may have before it goes into a
    /// host name (an ARN is typed by people, and "x@evil.example" must not become a host).
    public static func isRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy(\.isNumber) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= "a" && $0 <= "z" } }
    }

    var client: AWSClient { ec2.client }

    /// Instances that are gone don't answer to names any more.
    public static let liveStates = ["pending", "running", "stopping", "stopped", "shutting-down"]

    /// `fresh`: ask AWS now, not the inventory cache (what a change is planned or checked on).
    /// `recent`: an answer at most a few seconds old will do, shared with identical questions
    /// in flight (status questions: the state of now, give or take a moment).
    public func resolve(_ mention: ResourceMention, region: String? = nil, fresh: Bool = false, recent: Bool = false) async throws(AWSError) -> Resolution {
        let region = region ?? self.region
        let candidates = try await candidates(mention, region: region, fresh: fresh, recent: recent)
        switch candidates.count {
        case 1: return .found(candidates[0])
        // "Did you mean" comes from the inventory cache even for a fresh lookup: a stream of
        // misspelt names must not scan every kind of resource again each time.
        case 0: return .notFound(nearMisses: try await scoredNearMisses(mention.text, region: region, fresh: false).map(\.name))
        default: return .ambiguous(candidates.sorted { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) })
        }
    }

    /// Every resource here that answers to the mention: none, one, or (never guessed between) several.
    public func candidates(_ mention: ResourceMention, region: String? = nil, fresh: Bool = false,
                           recent: Bool = false) async throws(AWSError) -> [ResourceRef] {
        let region = region ?? self.region
        let cache = fresh ? nil : inventory
        let candidates: [ResourceRef]
        switch mention.form {
        case .instanceID:
            candidates = try await cached(cache, "ec2-id:\(region):\(mention.text)", recent: recent) { () throws(AWSError) in
                try await instances(ids: [mention.text], region: region)
            }
        case .arn:
            candidates = try await byARN(mention.text, region: region, cache: cache, recent: recent)
        case .name:
            let text = mention.text
            var found: [ResourceRef] = []
            // "the api service": only that kind is asked; an EC2 instance called api is not it.
            if mention.kind == nil || mention.kind == .ec2Instance {
                found = try await cached(cache, "ec2-name:\(region):\(text)", recent: recent) { () throws(AWSError) in
                    try await ec2.describeInstances(filters: [("tag:Name", [text]), ("instance-state-name", Self.liveStates)], region: region)
                        .map { ref($0, region) }
                }
            }
            for kind in [ResourceKind.ecsService, .rdsInstance, .autoScalingGroup] where mention.kind == nil || mention.kind == kind {
                found += try await all(kind, region: region, cache: cache, recent: recent).filter { $0.name == text }
            }
            candidates = found
        }
        // An id or ARN names its kind itself: "the i-0abc… service" names nothing.
        if let kind = mention.kind { return candidates.filter { $0.kind == kind } }
        return candidates
    }

    /// arn:aws:ec2:R:A:instance/i-…, arn:aws:ecs:R:A:service/CLUSTER/NAME, arn:aws:rds:R:A:db:ID,
    /// arn:aws:autoscaling:R:A:autoScalingGroup:UUID:autoScalingGroupName/NAME.
    private func byARN(_ arn: String, region: String, cache: InventoryCache?, recent: Bool) async throws(AWSError) -> [ResourceRef] {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 6 else { return [] }
        let arnRegion = parts[3].isEmpty ? region : parts[3]
        guard Self.isRegion(arnRegion), allowedRegions.map({ $0.contains(arnRegion) }) ?? true else { return [] }
        let resource = parts[5...].joined(separator: ":")
        switch parts[2] {
        case "ec2" where resource.hasPrefix("instance/"):
            let id = String(resource.dropFirst("instance/".count))
            return try await cached(cache, "ec2-id:\(arnRegion):\(id)", recent: recent) { () throws(AWSError) in
                try await instances(ids: [id], region: arnRegion)
            }
        case "ecs":
            return try await all(.ecsService, region: arnRegion, cache: cache, recent: recent).filter { $0.id == arn }
        case "rds":
            return try await all(.rdsInstance, region: arnRegion, cache: cache, recent: recent).filter { $0.id == String(resource.dropFirst("db:".count)) }
        case "autoscaling":
            let name = resource.components(separatedBy: "autoScalingGroupName/").last ?? ""
            return try await all(.autoScalingGroup, region: arnRegion, cache: cache, recent: recent).filter { $0.name == name }
        default:
            return []
        }
    }

    private func instances(ids: [String], region: String) async throws(AWSError) -> [ResourceRef] {
        do {
            return try await ec2.describeInstances(ids: ids, region: region).filter { $0.state != "terminated" }.map { ref($0, region) }
        } catch where error.kind == .notFound {
            return []
        }
    }

    /// Every resource of a kind in the region (cached): ECS services, RDS instances, groups.
    /// Access denied to a service means it cannot hold the resource for us: none, logged.
    func all(_ kind: ResourceKind, region: String, cache: InventoryCache?, recent: Bool = false) async throws(AWSError) -> [ResourceRef] {
        do {
            return try await cached(cache, "\(kind.rawValue):\(region)", recent: recent) { () throws(AWSError) in
                switch kind {
                case .ec2Instance:
                    return try await ec2.describeInstances(filters: [("instance-state-name", Self.liveStates)], region: region)
                        .map { ref($0, region) }
                case .ecsService:
                    let ecs = ECS(client: client)
                    var out: [ResourceRef] = []
                    for cluster in try await ecs.listClusters(region: region) {
                        let arns = try await ecs.listServices(cluster: cluster, region: region)
                        guard !arns.isEmpty else { continue }
                        for s in try await ecs.describeServices(cluster: cluster, services: arns, region: region) {
                            out.append(ResourceRef(kind: .ecsService, id: s.arn, name: s.name, region: region,
                                                   state: "\(s.runningCount)/\(s.desiredCount) tasks running", container: cluster,
                                                   tags: keptTags(s.tags)))
                        }
                    }
                    return out
                case .rdsInstance:
                    return try await RDS(client: client).describeDBInstances(region: region).map {
                        ResourceRef(kind: .rdsInstance, id: $0.id, name: $0.id, region: region, state: $0.status,
                                    tags: keptTags($0.tags))
                    }
                case .autoScalingGroup:
                    return try await AutoScaling(client: client).describeGroups(region: region).map {
                        ResourceRef(kind: .autoScalingGroup, id: $0.arn ?? $0.name, name: $0.name, region: region,
                                    state: "\($0.desiredCapacity) desired (\($0.minSize)–\($0.maxSize))",
                                    tags: keptTags($0.tags))
                    }
                }
            }
        } catch where kind != .ec2Instance && error.kind == .accessDenied {
            logger.notice("resolver.skipped", metadata: ["aws.operation": "\(error.operation)", "resolver.kind": "\(kind.rawValue)"])
            return []
        }
    }

    func ref(_ i: EC2Instance, _ region: String) -> ResourceRef {
        ResourceRef(kind: .ec2Instance, id: i.id, name: i.name, region: region, state: i.state, tags: keptTags(i.tags))
    }

    /// Only the tags that name an environment, and those alert routes name, travel on: the
    /// rest may name people ("Owner").
    func keptTags(_ tags: [String: String]) -> [String: String] {
        tags.filter { environmentTagKeys.contains($0.key.lowercased()) || routingTagKeys.contains($0.key.lowercased()) }
    }

    /// `recent`: a status question, which takes only an answer a few seconds old.
    private func cached(_ cache: InventoryCache?, _ key: String, recent: Bool = false,
                        _ fetch: @escaping @Sendable () async throws(AWSError) -> [ResourceRef]) async throws(AWSError) -> [ResourceRef] {
        guard let cache else { return try await fetch() }
        return try await cache.resources(key, recent: recent, fetch: fetch)
    }

    /// Names of live resources of every kind within a small edit distance, closest first
    /// ("web1" → "web-1"), at most three, with their distance (to merge several places').
    public func scoredNearMisses(_ text: String, region: String? = nil, fresh: Bool = false) async throws(AWSError) -> [(name: String, distance: Int)] {
        let region = region ?? self.region
        var names = Set<String>()
        for kind in ResourceKind.allCases {
            for ref in try await all(kind, region: region, cache: fresh ? nil : inventory) { if let name = ref.name { names.insert(name) } }
        }
        let wanted = Self.fold(text)
        let scored = names.compactMap { name -> (String, Int)? in
            let d = Self.distance(Self.fold(name), wanted)
            return d <= max(1, wanted.count / 3) ? (name, d) : nil
        }
        return scored.sorted { $0.1 == $1.1 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(3).map { (name: $0.0, distance: $0.1) }
    }

    /// Case and separators don't distinguish names people type ("Web_1", "web1", "web-1").
    static func fold(_ s: String) -> String {
        String(s.lowercased().filter { $0 != "-" && $0 != "_" && $0 != "." && $0 != " " })
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
