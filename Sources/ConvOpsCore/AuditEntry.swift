import Foundation

/// One line of the audit log: who decided what about which resource, as which IAM principal,
/// and how it ended.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var at: Date
    /// The chat user who made the decision, or `convops` for the bot's own (expiry, execution).
    public var actor: String
    /// The action type: the planned action (`reboot-instance`) or intent.
    public var action: String
    /// The resource: `ec2-instance i-0abc (web-1) eu-west-1`.
    public var target: String
    public var decision: AuditDecision
    /// The IAM principal the AWS calls ran as.
    public var principal: String?
    public var outcome: String?
    public var requestID: String?
    public var previousHash: String
    public var hash: String

    public init(seq: Int64, at: Date, actor: String, action: String, target: String, decision: AuditDecision,
                principal: String?, outcome: String?, requestID: String?, previousHash: String, hash: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.decision = decision
        self.principal = principal
        self.outcome = outcome
        self.requestID = requestID
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The bot itself, as an actor.
    public static let botActor = "convops"

    /// An entry before the store writes it: it names the person, whom the store records under
    /// their pseudonym, and it has no place in the chain yet (seq, hashes). Used for events
    /// that are not a request's transition: a refused click, a recovery report.
    public struct Draft: Sendable {
        public var at: Date
        /// The person, or nil for the bot.
        public var actor: Person?
        public var action: String
        public var target: String
        public var decision: AuditDecision
        public var principal: String?
        public var outcome: String?
        public var requestID: String?

        public init(at: Date, actor: Person?, action: String, target: String, decision: AuditDecision,
                    principal: String? = nil, outcome: String? = nil, requestID: String? = nil) {
            self.at = at
            self.actor = actor
            self.action = action
            self.target = target
            self.decision = decision
            self.principal = principal
            self.outcome = outcome
            self.requestID = requestID
        }
    }
}

extension ResourceRef {
    /// How a resource is named in the audit log.
    public var auditTarget: String {
        let name = self.name.map { " (\($0))" } ?? ""
        return "\(kind.rawValue) \(id)\(name) \(region)"
    }
}
