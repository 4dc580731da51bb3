/// One attempt to do something, as the policy sees it: who, from which channel, what.
public struct Attempt: Sendable, Hashable {
    public enum Act: Sendable, Hashable {
        /// Asking for an intent, before anything is resolved: may the person do it somewhere?
        case ask(IntentKind, account: String?)
        /// Running an intent on a resolved resource, in the environment it lives in.
        case run(IntentKind, account: String?, environment: ResourceEnvironment)
        /// A decision on a stored request, typed or clicked.
        case decide(Decision, on: Request)
    }

    public var person: Person
    public var standing: Standing
    /// Where the person typed or clicked.
    public var channel: String
    public var act: Act
    /// A click on the approval message recorded for this very request, in `channel` (WhatsApp
    /// sends each approver their own): a place to approve in, as the approval channel is.
    public var onApprovalCard = false

    public init(_ act: Act, by person: Person, standing: Standing = .member, in channel: String, onApprovalCard: Bool = false) {
        self.onApprovalCard = onApprovalCard
        self.act = act
        self.person = person
        self.standing = standing
        self.channel = channel
    }
}

/// What a person decides about a request.
public enum Decision: String, Sendable, Hashable, CaseIterable {
    case confirm, cancel, approve, reject
}

/// Why the policy refused an attempt. Shown to the person, and recorded in the audit log.
public enum Denial: Sendable, Hashable, Error {
    /// No rule gives this person this intent here (for a resource in this environment).
    case notAllowed(IntentKind, environment: ResourceEnvironment?)
    /// Only approvers named in the policy approve or reject.
    case notApprover
    /// A decision on a request, made somewhere else than where the request was made.
    case otherChannel(requestChannel: String)

    /// The reason as the audit log keeps it.
    public var auditReason: String {
        switch self {
        case .notAllowed(_, let environment?) where environment.name == nil: "not allowed by the policy (environment unknown)"
        case .notAllowed: "not allowed by the policy"
        case .notApprover: "not an approver"
        case .otherChannel: "decided outside the request's channel"
        }
    }
}

extension AccessPolicy {
    /// The one policy check, for every message and every click: nil when the attempt is
    /// allowed. The request machine then checks what only the request knows (the requester
    /// confirms, somebody else approves, the state allows it).
    public func check(_ attempt: Attempt) -> Denial? {
        let who = attempt.person.id
        let standing = attempt.standing
        func may(_ kind: IntentKind, _ environment: EnvironmentScope, _ account: String?, _ channel: String) -> Bool {
            allows(who, kind, environment: environment, account: account, channel: channel, standing: standing)
        }
        switch attempt.act {
        case .ask(.cancel, _):
            // Stopping one's own plan is never refused, typed or clicked (the machine checks it is theirs).
            return nil
        case .ask(let kind, let account):
            return may(kind, .any, account, attempt.channel) ? nil : .notAllowed(kind, environment: nil)
        case .run(let kind, let account, let environment):
            return may(kind, EnvironmentScope(environment), account, attempt.channel) ? nil : .notAllowed(kind, environment: environment)
        case .decide(let decision, let request):
            let isApproval = decision == .approve || decision == .reject
            guard attempt.channel == request.channel || (isApproval && (approvalChannels.contains(attempt.channel) || attempt.onApprovalCard)) else {
                return .otherChannel(requestChannel: request.channel)
            }
            // An old row without a recorded environment counts as unknown: fail closed.
            let environment = request.plan.environment ?? .unknown
            let account = request.plan.resource.account
            switch decision {
            case .confirm:
                let kind = request.plan.action.intentKind
                return may(kind, EnvironmentScope(environment), account, request.channel) ? nil : .notAllowed(kind, environment: environment)
            case .cancel:
                // Stopping a plan is never refused by the policy; only its requester may (the machine).
                return nil
            case .approve, .reject:
                guard mayApprove(who, standing: standing) else { return .notApprover }
                let kind: IntentKind = decision == .approve ? .approve : .reject
                return may(kind, EnvironmentScope(environment), account, attempt.channel) ? nil : .notAllowed(kind, environment: environment)
            }
        }
    }
}
