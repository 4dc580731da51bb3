import ConvOpsCore

/// What a mention turned out to be.
public enum Resolution: Sendable, Hashable {
    case found(ResourceRef)
    /// Nothing by that name; `nearMisses` are names that are close (for "did you mean").
    case notFound(nearMisses: [String])
    /// More than one resource answers to the name: never guess, ask.
    case ambiguous([ResourceRef])
}

/// Finds the resource a person meant. This slice looks at EC2 instances in the configured
/// region by Name tag, instance id or ARN; the AWS issue widens it to ECS, RDS and Auto Scaling.
public struct ResourceResolver: Sendable {
    let ec2: EC2
    let region: String
    let inventory: InventoryCache?

    public init(ec2: EC2, region: String, inventory: InventoryCache? = nil) {
        self.ec2 = ec2
        self.region = region
        self.inventory = inventory
    }

    /// Instances that are gone don't answer to names any more.
    public static let liveStates = ["pending", "running", "stopping", "stopped", "shutting-down"]

    /// `fresh`: ask AWS now, not the inventory cache (status questions want the state of now).
    public func resolve(_ mention: ResourceMention, region: String? = nil, fresh: Bool = false) async throws(AWSError) -> Resolution {
        let region = region ?? self.region
        let cache = fresh ? nil : inventory
        let instances: [EC2Instance]
        switch mention.form {
        case .instanceID:
            instances = try await cached(cache, "id:\(region):\(mention.text)") { () throws(AWSError) in
                try await describeByID(mention.text, region: region)
            }
        case .arn:
            // arn:aws:ec2:REGION:ACCOUNT:instance/i-…
            let parts = mention.text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[2] == "ec2", parts[5].hasPrefix("instance/") else { return .notFound(nearMisses: []) }
            let arnRegion = parts[3].isEmpty ? region : String(parts[3])
            let id = String(parts[5].dropFirst("instance/".count))
            instances = try await cached(cache, "id:\(arnRegion):\(id)") { () throws(AWSError) in
                try await describeByID(id, region: arnRegion)
            }
        case .name:
            instances = try await cached(cache, "name:\(region):\(mention.text)") { () throws(AWSError) in
                try await ec2.describeInstances(filters: [("tag:Name", [mention.text]), ("instance-state-name", Self.liveStates)],
                                                region: region)
            }
        }
        let refs = instances.map { ResourceRef(kind: .ec2Instance, id: $0.id, name: $0.name, region: region, state: $0.state) }
        switch refs.count {
        case 1: return .found(refs[0])
        case 0: return .notFound(nearMisses: try await nearMisses(mention.text, region: region, cache: cache))
        default: return .ambiguous(refs.sorted { $0.id < $1.id })
        }
    }

    private func cached(_ cache: InventoryCache?, _ key: String,
                        _ fetch: () async throws(AWSError) -> [EC2Instance]) async throws(AWSError) -> [EC2Instance] {
        guard let cache else { return try await fetch() }
        return try await cache.instances(key, fetch: fetch)
    }

    private func describeByID(_ id: String, region: String) async throws(AWSError) -> [EC2Instance] {
        do {
            return try await ec2.describeInstances(ids: [id], region: region).filter { $0.state != "terminated" }
        } catch where error.kind == .notFound {
            return []
        }
    }

    /// Names of live instances within a small edit distance, closest first ("web1" → "web-1").
    func nearMisses(_ text: String, region: String, cache: InventoryCache?) async throws(AWSError) -> [String] {
        let all = try await cached(cache, "all:\(region)") { () throws(AWSError) in
            try await ec2.describeInstances(filters: [("instance-state-name", Self.liveStates)], region: region)
        }
        let wanted = Self.fold(text)
        let scored = Set(all.compactMap(\.name)).compactMap { name -> (String, Int)? in
            let d = Self.distance(Self.fold(name), wanted)
            return d <= max(1, wanted.count / 3) ? (name, d) : nil
        }
        return scored.sorted { $0.1 == $1.1 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(3).map(\.0)
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
