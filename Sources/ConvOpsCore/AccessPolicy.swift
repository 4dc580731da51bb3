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

    /// Whether `person` may run `kind` here, with these qualifiers.
    public func allows(_ person: String, _ kind: IntentKind, environment: String?, account: String?, channel: String) -> Bool {
        if let cap = channelCaps[channel], !cap.contains(kind) { return false }
        return rules.contains { rule in
            rule.intents.contains(kind) && matches(rule.who, person)
                && covers(rule.environments, environment) && covers(rule.accounts, account)
        }
    }

    /// The intents `person` may run in `channel` (for help).
    public func intents(for person: String, channel: String) -> Set<IntentKind> {
        Set(IntentKind.allCases.filter { kind in
            if let cap = channelCaps[channel], !cap.contains(kind) { return false }
            return rules.contains { $0.intents.contains(kind) && matches($0.who, person) }
        })
    }

    /// Whether a request needs a second person before it runs.
    public func requiresApproval(risk: Risk, environment: String?) -> Bool {
        guard mode == .team, let approval else { return false }
        return approval.risks.contains(risk) && covers(approval.environments, environment)
    }

    /// Whether `person` may approve or reject requests (never their own: the machine checks that).
    public func mayApprove(_ person: String) -> Bool {
        guard let approval else { return false }
        return matches(approval.approvers, person)
    }

    func matches(_ who: [String], _ person: String) -> Bool {
        who.contains { entry in
            if entry == "*" || entry == person { return true }
            if entry.hasPrefix("group:") { return groups[String(entry.dropFirst(6))]?.contains(person) ?? false }
            return false
        }
    }

    func covers(_ list: [String], _ value: String?) -> Bool {
        if list.isEmpty || list.contains("*") { return true }
        guard let value else { return false }
        return list.contains(value)
    }
}
