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
        /// A tag value that is not an environment name (`prod.`, a look-alike letter).
        case unreadable(key: String)
    }

    /// Lowercased ("prod"); nil when unknown.
    public var name: String?
    public var source: Source
    /// The account's own environment when a tag named another: approvals that the account's
    /// environment needs are still needed (a tag can add an approval, never remove one).
    public var accountDefault: String?

    public init(name: String?, source: Source, accountDefault: String? = nil) {
        self.name = name.map(Self.normalized)
        self.source = source
        self.accountDefault = accountDefault.map(Self.normalized)
    }

    /// "prod", "staging-eu": ASCII letters, digits, - and _, at most 64. Anything else a tag
    /// says is not read as an environment.
    public static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
        }
    }

    /// The same environment under the names the grammar knows ("production" → "prod").
    public func canonical(_ names: [String: String]) -> ResourceEnvironment {
        var out = self
        out.name = name.map { names[$0] ?? $0 }
        out.accountDefault = accountDefault.map { names[$0] ?? $0 }
        return out
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
        let fallback = accountEnvironment.map(normalized).flatMap { $0.isEmpty ? nil : $0 }
        if let bad = named.first(where: { !isName(normalized($0.value)) }) {
            return ResourceEnvironment(name: nil, source: .unreadable(key: bad.key), accountDefault: fallback)
        }
        let values = Set(named.values.map(normalized))
        if values.count > 1 {
            return ResourceEnvironment(name: nil, source: .conflicting(values: values.sorted()), accountDefault: fallback)
        }
        if let value = values.first {
            // Name the configured key when it is one of those present, so the plan says what the config says.
            let key = named.keys.first { $0.lowercased() == tagKey.lowercased() } ?? named.keys.sorted()[0]
            return ResourceEnvironment(name: value, source: .tag(key: key), accountDefault: fallback == value ? nil : fallback)
        }
        if let accountEnvironment, !normalized(accountEnvironment).isEmpty, let account {
            return ResourceEnvironment(name: accountEnvironment, source: .account(alias: account))
        }
        return .unknown
    }
}
