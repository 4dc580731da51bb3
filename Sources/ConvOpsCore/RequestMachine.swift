import Foundation

/// Something that happened to a request: a person's decision, the clock, or the executor.
public enum RequestEvent: Sendable, Hashable {
    case confirm(by: Person)
    case cancel(by: Person)
    case approve(by: Person)
    case reject(by: Person)
    /// The sweeper noticed the expiry time passed.
    case expire
    case finished(Outcome)
    /// The process restarted and found the request executing: the result is not known.
    case interrupted

    public var name: String {
        switch self {
        case .confirm: "confirm"
        case .cancel: "cancel"
        case .approve: "approve"
        case .reject: "reject"
        case .expire: "expire"
        case .finished: "finished"
        case .interrupted: "interrupted"
        }
    }
}

/// What the shell must do after the new state has been stored.
public enum RequestEffect: Sendable, Hashable {
    case execute(Plan)
    case askForApproval
}

/// The decision recorded in the audit log for a transition.
public enum AuditDecision: String, Sendable, Hashable, Codable, CaseIterable {
    case requested, confirmed, approved, rejected, cancelled, expired, executed, failed
    case outcomeUnknown = "outcome_unknown"
    /// Someone tried something the policy or the request's state does not allow.
    case refused
    /// Someone took an alert on (its card shows who).
    case acknowledged
    /// Alerts for a resource, an alarm or an environment are held back until a time.
    case snoozed
}

/// Why an event was not applied. Each reason is shown to the person who caused it.
public enum Refusal: Sendable, Hashable, Error {
    /// Only the requester may confirm or cancel their own request.
    case notRequester
    /// The requester cannot approve or reject their own request.
    case selfApproval
    /// The event makes no sense in this state (approving a request nobody has confirmed…).
    case invalidInState(RequestState, event: String)
    /// The request already ended; nothing can change it.
    case alreadyFinished(RequestState)
    /// An expiry arrived before the deadline (a stale sweep).
    case notYetExpired
}

public struct RequestPolicy: Sendable, Hashable {
    /// Whether a second person must approve after the requester confirms.
    public var approvalRequired: Bool
    /// How long a request waits for confirmation, and again for approval.
    public var expiry: TimeInterval

    public init(approvalRequired: Bool = false, expiry: TimeInterval = 600) {
        self.approvalRequired = approvalRequired
        self.expiry = expiry
    }
}

/// The request state machine: a pure function of (request, event, policy, now).
/// It holds no I/O; the engine stores the result, then runs the effects.
public enum RequestMachine {
    public enum Result: Sendable, Hashable {
        /// A new state to store (with its audit decision) before running the effects.
        case transition(Request, AuditDecision, [RequestEffect])
        /// The event was already applied (a second click on Confirm): nothing to do.
        case duplicate
        case refused(Refusal)
    }

    public static func apply(_ event: RequestEvent, to request: Request, policy: RequestPolicy,
                             now: Date) -> Result {
        var next = request
        next.updatedAt = now
        let state = request.state

        // A pending request past its deadline expires whatever the event says, so a late
        // click can never execute it; the person is told it expired.
        if state.isPending, now >= request.expiresAt {
            switch event {
            case .confirm, .approve, .reject, .cancel, .expire:
                next.state = .expired
                return .transition(next, .expired, [])
            case .finished, .interrupted:
                return .refused(.invalidInState(state, event: event.name))
            }
        }

        switch (state, event) {
        case (.awaitingConfirmation, .confirm(let who)):
            guard who.id == request.requester.id else { return .refused(.notRequester) }
            if policy.approvalRequired {
                next.state = .awaitingApproval
                next.expiresAt = now.addingTimeInterval(policy.expiry)
                return .transition(next, .confirmed, [.askForApproval])
            }
            next.state = .executing
            return .transition(next, .confirmed, [.execute(request.plan)])

        case (.awaitingConfirmation, .cancel(let who)), (.awaitingApproval, .cancel(let who)):
            guard who.id == request.requester.id else { return .refused(.notRequester) }
            next.state = .cancelled
            return .transition(next, .cancelled, [])

        case (.awaitingApproval, .approve(let who)):
            guard who.id != request.requester.id else { return .refused(.selfApproval) }
            next.state = .executing
            next.approver = who
            return .transition(next, .approved, [.execute(request.plan)])

        case (.awaitingApproval, .reject(let who)):
            guard who.id != request.requester.id else { return .refused(.selfApproval) }
            next.state = .rejected
            next.approver = who
            return .transition(next, .rejected, [])

        case (.awaitingApproval, .confirm(let who)):
            // The requester clicking Confirm again while approval is pending changes nothing.
            return who.id == request.requester.id ? .duplicate : .refused(.notRequester)

        case (.awaitingConfirmation, .expire), (.awaitingApproval, .expire):
            return .refused(.notYetExpired)

        case (.executing, .finished(let outcome)):
            next.state = outcome.succeeded ? .succeeded : .failed
            next.outcome = outcome
            return .transition(next, outcome.succeeded ? .executed : .failed, [])

        case (.executing, .interrupted):
            next.state = .outcomeUnknown
            return .transition(next, .outcomeUnknown, [])

        case (.executing, .confirm(let who)):
            return who.id == request.requester.id ? .duplicate : .refused(.notRequester)
        case (.executing, .approve(let who)):
            return who.id == request.approver?.id ? .duplicate : .refused(.invalidInState(state, event: event.name))

        case (.succeeded, .confirm(let who)), (.failed, .confirm(let who)):
            // A confirm delivered again after the run finished: it ran once, say nothing new.
            return who.id == request.requester.id ? .duplicate : .refused(.alreadyFinished(state))
        case (.cancelled, .cancel(let who)):
            return who.id == request.requester.id ? .duplicate : .refused(.alreadyFinished(state))
        case (.expired, .expire):
            return .duplicate

        case (_, _) where state.isTerminal:
            return .refused(.alreadyFinished(state))
        default:
            return .refused(.invalidInState(state, event: event.name))
        }
    }
}
