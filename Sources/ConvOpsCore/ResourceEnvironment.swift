import Foundation

/// The environment a resource is in, and how ConvOps knows it: from where the resource lives
/// (a tag on it, or the account it is in), never from what a person typed. The policy's
/// environment rules and approvals are decided on this.
public struct ResourceEnvironment: Sendable, Hashable, Codable {
    public enum Source: Sendable, Hashable, Codable {
        /// A tag on the resource (the key as AWS spells it).
        case tag(key: String)
        /// The `environment` of the account entry in the config.
        case account(alias: String)
        /// No environment tag, and the account names none.
        case unknown
        /// The resource's environment tags name different environments.
        case conflicting(values: [String])
    }

    /// Lowercased ("prod"); nil when unknown.
    public var name: String?
    public var source: Source

    public init(name: String?, source: Source) {
        self.name = name.map(Self.normalized)
        self.source = source
    }

    public static let unknown = ResourceEnvironment(name: nil, source: .unknown)

    /// The tag key read when the config names none.
    public static let defaultTagKey = "Environment"

    /// Tag keys that name an environment, lowercased: the configured one, `environment`, `env`.
    public static func tagKeys(configured: String) -> Set<String> {
        [configured.lowercased(), "environment", "env"]
    }

    /// "Prod " and "prod" are the same environment.
    public static func normalized(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Decides a resource's environment: its environment tags when they agree (a tag wins over
    /// the account's default), else the account's `environment`, else unknown. Tags that
    /// disagree make it unknown rather than picking one.
    public static func of(tags: [String: String], tagKey: String, account: String?, accountEnvironment: String?) -> ResourceEnvironment {
        let keys = tagKeys(configured: tagKey)
        let named = tags.filter { keys.contains($0.key.lowercased()) && !normalized($0.value).isEmpty }
        let values = Set(named.values.map(normalized))
        if values.count > 1 { return ResourceEnvironment(name: nil, source: .conflicting(values: values.sorted())) }
        if let value = values.first {
            // Name the configured key when it is one of those present, so the plan says what the config says.
            let key = named.keys.first { $0.lowercased() == tagKey.lowercased() } ?? named.keys.sorted()[0]
            return ResourceEnvironment(name: value, source: .tag(key: key))
        }
        if let accountEnvironment, !normalized(accountEnvironment).isEmpty, let account {
            return ResourceEnvironment(name: accountEnvironment, source: .account(alias: account))
        }
        return .unknown
    }
}
