import Foundation

/// A person in a chat: the id the chat gives them and the name to show.
public struct Person: Sendable, Hashable, Codable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

public enum RequestState: String, Sendable, Hashable, Codable, CaseIterable {
    case awaitingConfirmation = "awaiting_confirmation"
    case awaitingApproval = "awaiting_approval"
    case executing
    case succeeded
    case failed
    case cancelled
    case rejected
    case expired
    /// Execution started but the process stopped before it knew the result.
    case outcomeUnknown = "outcome_unknown"

    public var isTerminal: Bool {
        switch self {
        case .awaitingConfirmation, .awaitingApproval, .executing: false
        case .succeeded, .failed, .cancelled, .rejected, .expired, .outcomeUnknown: true
        }
    }

    /// Still waiting for a person; such requests can expire.
    public var isPending: Bool { self == .awaitingConfirmation || self == .awaitingApproval }
}

/// How an execution ended, as the executor reported it.
public struct Outcome: Sendable, Hashable, Codable {
    public var succeeded: Bool
    /// One line for people: "rebooted", or the error as a person should read it.
    public var summary: String
    /// The IAM principal the calls ran as (the assumed-role ARN), for the audit log.
    public var principal: String?

    public init(succeeded: Bool, summary: String, principal: String?) {
        self.succeeded = succeeded
        self.summary = summary
        self.principal = principal
    }
}

/// One request from plan to outcome. Values only: the store persists it, the machine moves it.
public struct Request: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var plan: Plan
    public var requester: Person
    public var channel: String
    public var state: RequestState
    public var createdAt: Date
    public var updatedAt: Date
    /// When a pending request expires. Meaningless once the request left the pending states.
    public var expiresAt: Date
    public var approver: Person?
    public var outcome: Outcome?
    /// Fixed when the request is made: a second person must approve it before it runs.
    public var approvalRequired = false
    /// The environment the resource lives in ("prod"), nil when unknown: the same as
    /// `plan.environment`, kept in its own column for queries.
    public var environment: String?

    public init(id: String, plan: Plan, requester: Person, channel: String, createdAt: Date,
                expiresAt: Date) {
        self.id = id
        self.plan = plan
        self.requester = requester
        self.channel = channel
        self.state = .awaitingConfirmation
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.expiresAt = expiresAt
    }
}
