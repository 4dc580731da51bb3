import Foundation

/// Who may do what, and what needs a second person. Pure: the engine asks it on every message
/// and every click, and it answers from the person, the channel and the command alone.
///
/// Rights are the union of the rules naming the person (directly or through a group); a
/// channel cap, when configured, narrows them further (the way AWS Chatbot intersects a
/// channel guardrail with the user's role).
public struct AccessPolicy: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, Codable {
        /// One person: confirming is enough.
        case solo
        /// Approvals as the policy says.
        case team
    }

    public struct Rule: Sendable, Hashable {
        /// Chat user ids and `group:NAME` entries; `*` is everyone.
        public var who: [String]
        public var intents: Set<IntentKind>
        /// Environments the rule covers; `*` (or empty) is any, including none named.
        public var environments: [String]
        /// Account aliases the rule covers; `*` (or empty) is any.
        public var accounts: [String]

        public init(who: [String], intents: Set<IntentKind>, environments: [String] = ["*"], accounts: [String] = ["*"]) {
            self.who = who
            self.intents = intents
            self.environments = environments
            self.accounts = accounts
        }
    }

    public struct Approval: Sendable, Hashable {
        /// Requests of these risks need a second person…
        public var risks: Set<Risk>
        /// …in these environments (`*` or empty: any).
        public var environments: [String]
        /// Who may approve: user ids and `group:NAME`.
        public var approvers: [String]

        public init(risks: Set<Risk>, environments: [String], approvers: [String]) {
            self.risks = risks
            self.environments = environments
            self.approvers = approvers
        }
    }

    public var mode: Mode
    public var groups: [String: [String]]
    public var rules: [Rule]
    /// Channel id → the intents anyone may run there.
    public var channelCaps: [String: Set<IntentKind>]
    public var approval: Approval?
    /// How long a request waits for confirmation, and again for approval.
    public var expiry: TimeInterval
    /// How long before expiry the requester is warned.
    public var warning: TimeInterval
    /// Channels where approvals are asked for besides the request's own (Slack's approval channel).
    public var approvalChannels: Set<String> = []

    public init(mode: Mode, groups: [String: [String]] = [:], rules: [Rule], channelCaps: [String: Set<IntentKind>] = [:],
                approval: Approval? = nil, expiry: TimeInterval = 600, warning: TimeInterval = 120) {
        self.mode = mode
        self.groups = groups
        self.rules = rules
        self.channelCaps = channelCaps
        self.approval = approval
        self.expiry = expiry
        self.warning = warning
    }

    /// The mutating intents a rule for everyone (`*`) grants with no approval to stand in the
    /// way: what `convops run` and `check` warn about, since it is "open" under another name.
    public var changesAnyoneMayMakeUnapproved: [IntentKind] {
        let everyone = rules.filter { $0.who.contains("*") }.flatMap(\.intents)
        let mutating = Set(everyone.filter { $0.risk == .mutating })
        guard mode == .solo || approval == nil || approval?.risks.contains(.mutating) != true else { return [] }
        return IntentKind.allCases.filter(mutating.contains)
    }

    /// With no policy configured: one person, everyone may do everything. For the embedded
    /// demo; a team deployment configures a policy file.
    public static let openSolo = AccessPolicy(mode: .solo, rules: [Rule(who: ["*"], intents: Set(IntentKind.allCases))])

    /// Whether `person` may run `kind` here: in this account, for a resource in this environment.
    /// Environment rules never match an unknown environment (fail closed); `.any` asks
    /// whether the person could run it somewhere, before anything is resolved.
    public func allows(_ person: String, _ kind: IntentKind, environment: EnvironmentScope, account: String?, channel: String,
                       standing: Standing = .member) -> Bool {
        if let cap = channelCaps[channel], !cap.contains(kind) { return false }
        return rules.contains { rule in
            rule.intents.contains(kind) && matches(rule.who, person, standing)
                && covers(rule.environments, environment) && covers(rule.accounts, account)
        }
    }

    /// The intents `person` may run in `channel` (for help).
    public func intents(for person: String, channel: String, standing: Standing = .member) -> Set<IntentKind> {
        Set(IntentKind.allCases.filter { allows(person, $0, environment: .any, account: nil, channel: channel, standing: standing) })
    }

    /// Whether a request needs a second person before it runs. An approval rule that names
    /// environments requires approval for a resource whose environment is unknown.
    /// A tag that names another environment than the account's adds approvals, never removes one.
    public func requiresApproval(risk: Risk, environment: ResourceEnvironment) -> Bool {
        guard mode == .team, let approval, approval.risks.contains(risk) else { return false }
        if approval.environments.isEmpty || approval.environments.contains("*") { return true }
        guard let name = environment.name else { return true }
        let named = Set(approval.environments.map(ResourceEnvironment.normalized))
        return named.contains(name) || environment.accountDefault.map(named.contains) == true
    }

    /// The policy with every environment it names under the grammar's canonical name
    /// ("production" → "prod"), the names resources' environments are read under.
    public func canonicalizingEnvironments(_ names: [String: String]) -> AccessPolicy {
        func canonical(_ list: [String]) -> [String] {
            list.map { $0 == "*" ? $0 : names[ResourceEnvironment.normalized($0)] ?? ResourceEnvironment.normalized($0) }
        }
        var out = self
        out.rules = rules.map { var r = $0; r.environments = canonical(r.environments); return r }
        if var a = approval { a.environments = canonical(a.environments); out.approval = a }
        return out
    }

    /// Whether `person` is an approver (never of their own requests: the machine checks that).
    public func mayApprove(_ person: String, standing: Standing = .member) -> Bool {
        guard let approval else { return false }
        return matches(approval.approvers, person, standing)
    }

    /// Everyone (`*`) means the workspace's own full members: guests and people from other
    /// organisations count only where the policy names them, directly or in a group.
    func matches(_ who: [String], _ person: String, _ standing: Standing) -> Bool {
        who.contains { entry in
            if entry == "*" { return standing == .member }
            if entry == person { return true }
            if entry.hasPrefix("group:") { return groups[String(entry.dropFirst(6))]?.contains(person) ?? false }
            return false
        }
    }

    func covers(_ list: [String], _ value: String?) -> Bool {
        if list.isEmpty || list.contains("*") { return true }
        guard let value else { return false }
        return list.contains(value)
    }

    func covers(_ list: [String], _ scope: EnvironmentScope) -> Bool {
        if list.isEmpty || list.contains("*") { return true }
        switch scope {
        case .any: return true
        case .unknown: return false
        case .known(let name): return list.contains { ResourceEnvironment.normalized($0) == ResourceEnvironment.normalized(name) }
        }
    }
}

/// The environment a policy question is about.
public enum EnvironmentScope: Sendable, Hashable {
    /// Before a resource is resolved: could the person do this in some environment?
    case any
    case known(String)
    /// The resource's environment could not be told: only rules for every environment match.
    case unknown

    public init(_ environment: ResourceEnvironment) {
        self = environment.name.map { .known($0) } ?? .unknown
    }
}

/// How a person belongs to the chat workspace. Only full members are "everyone".
public enum Standing: String, Sendable, Hashable, Codable, CaseIterable {
    case member
    /// A guest or restricted account of the workspace.
    case guest
    /// Someone from another organisation (a Slack Connect channel).
    case external
}
