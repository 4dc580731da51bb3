import ConvOpsAWS
import ConvOpsCore
import ConvOpsStore
import Foundation
import Logging

/// The only code that moves a request. For a person's decision, typed or clicked, it asks the
/// one policy check, then the request machine; before a decision moves a plan toward running
/// it looks at the resource again; it stores the new state with its audit entry; and only then
/// runs the effect. It says what happened as a typed result; the engine puts that into words.
public actor RequestService {
    /// What the service needs from AWS, behind two functions (fakes in tests).
    public struct Hooks: Sendable {
        /// Where the request's resource lives now, read fresh; nil when it is gone.
        public var locate: @Sendable (Request) async throws -> ResourceEnvironment?
        /// Runs the plan's calls, telling each step; never throws (a failure is an outcome).
        public var execute: @Sendable (Request, @escaping Executor.Progress) async -> Outcome

        public init(locate: @escaping @Sendable (Request) async throws -> ResourceEnvironment?,
                    execute: @escaping @Sendable (Request, @escaping Executor.Progress) async -> Outcome) {
            self.locate = locate
            self.execute = execute
        }
    }

    /// Why a plan may no longer go on as planned.
    public enum Change: Sendable, Hashable {
        case gone
        case unverified(String)
        case moved(now: ResourceEnvironment, then: ResourceEnvironment)
    }

    /// What a decision did.
    public enum Decided: Sendable {
        case notFound(String)
        /// A click whose message is not the card recorded for that request in that role
        /// (recorded in the audit log): a copied or made-up button.
        case notOnItsCard(String)
        /// The policy refused the person (recorded in the audit log).
        case denied(Request, Denial)
        /// The request's state or its requester refused it (recorded).
        case refused(Request, Refusal)
        /// The resource is not where the plan found it (recorded).
        case changed(Request, Change)
        /// Already applied (a second click): nothing new.
        case duplicate(Request)
        /// Another event won the race; the request is now in this state.
        case raced(Request, now: RequestState?)
        /// Stored; the effects are the caller's to run (`execute`), in order.
        case moved(Request, AuditDecision, [RequestEffect])
        /// The store failed; the correlation id is in the log.
        case failed(correlation: String)
    }

    let store: Store
    let access: AccessPolicy
    let clock: any WallClock
    let hooks: Hooks
    let logger: Logger

    public init(store: Store, access: AccessPolicy, clock: any WallClock, hooks: Hooks, logger: Logger) {
        self.store = store
        self.access = access
        self.clock = clock
        self.hooks = hooks
        self.logger = logger
    }

    /// Stores a new request with its `requested` entry.
    public func create(_ request: Request) throws {
        try store.insert(request)
        logger.info("request.created", metadata: ["request.id": "\(request.id)", "request.action": "\(request.plan.action.rawValue)",
                                                  "request.environment": "\(request.environment ?? "unknown")"])
    }

    /// Where a request's card went, recorded before its buttons can be clicked.
    public func record(card: MessageRef, for id: String) throws {
        try store.recordMessage(card, for: id)
    }

    /// Where a request's cards are, the requester's first.
    public func cards(for id: String) -> [MessageRef] {
        (try? store.messages(for: id)) ?? []
    }

    /// Applies an event to a stored request. `origin` is where a person decided; nil for the
    /// bot's own events (expiry, recovery). `card`: the message a click came from, which must
    /// be the card recorded for that request in that role.
    public func decide(_ event: RequestEvent, on id: String, from origin: Origin?, card: MessageRef? = nil) async -> Decided {
        do {
            var onApprovalCard = false
            if let card {
                let decision = Self.decision(of: event)
                let recorded = try store.messages(for: id)
                let onItsCard = decision.map { card.role == Self.cardRole(for: $0) } == true && recorded.contains(card)
                onApprovalCard = onItsCard && card.role == .approval && card.channel == origin?.channel
                if !onItsCard {
                    if let person = Self.actor(of: event), let decision {
                        let known = try store.request(id: id)
                        refuse(action: decision.rawValue, target: known?.plan.resource.auditTarget ?? id, by: person,
                               why: "button not on that request's message", requestID: known?.id)
                    }
                    return .notOnItsCard(id)
                }
            }
            guard let request = try store.request(id: id) else { return .notFound(id) }
            if let person = Self.actor(of: event), let decision = Self.decision(of: event) {
                let attempt = Attempt(.decide(decision, on: request), by: person, standing: origin?.standing ?? .member,
                                      in: origin?.channel ?? request.channel, onApprovalCard: onApprovalCard)
                if let denial = access.check(attempt) {
                    refuse(decision == .confirm ? request.plan.action.rawValue : decision.rawValue, request, by: person, why: denial.auditReason)
                    return .denied(request, denial)
                }
            }
            let result = RequestMachine.apply(event, to: request, policy: policy(for: request), now: clock.now())
            // Before a person's decision moves a plan toward running: is the resource still the
            // one planned, where it was (a tag changed, a resource recreated under the name)?
            if case .transition(_, _, let effects) = result, !effects.isEmpty, let person = Self.actor(of: event),
               let change = await changeSincePlanned(request) {
                refuse(request.plan.action.rawValue, request, by: person, why: "the resource's environment changed since the plan")
                return .changed(request, change)
            }
            switch result {
            case .refused(let refusal):
                if let person = Self.actor(of: event) { refuse(request.plan.action.rawValue, request, by: person, why: "\(refusal)") }
                return .refused(request, refusal)
            case .duplicate:
                return .duplicate(request)
            case .transition(let next, let decision, let effects):
                guard try store.transition(next, from: request.state, decision: decision, actor: Self.actor(of: event)) else {
                    return .raced(request, now: try store.request(id: id)?.state)
                }
                return .moved(next, decision, effects)
            }
        } catch {
            let correlation = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            logger.error("requests.decide_failed", metadata: ["request.id": "\(id)", "error.message": "\(error)", "error.correlation_id": "\(correlation)"])
            return .failed(correlation: correlation)
        }
    }

    /// Runs an `.execute` effect of a request now `executing`, and stores how it ended.
    /// Returns the finished request (as stored, or as it would have been if storing failed).
    public func execute(_ request: Request, progress: @escaping Executor.Progress) async -> Request {
        let outcome = scrubbed(await hooks.execute(request, progress), of: request.requester)
        guard case .transition(let done, let decision, _) = RequestMachine.apply(.finished(outcome), to: request,
                                                                                  policy: policy(for: request), now: clock.now()) else {
            return request
        }
        do {
            _ = try store.transition(done, from: .executing, decision: decision, actor: nil)
        } catch {
            logger.error("requests.outcome_not_stored", metadata: ["request.id": "\(request.id)", "error.message": "\(error)"])
        }
        return done
    }

    /// Pending requests past their deadline, expired now; and those within the warning time.
    public func sweep() async -> (expired: [Decided], expiring: [Request]) {
        guard let due = try? store.requests(in: [.awaitingConfirmation, .awaitingApproval]) else { return ([], []) }
        let now = clock.now()
        var expired: [Decided] = []
        var expiring: [Request] = []
        for request in due {
            if request.expiresAt <= now {
                expired.append(await decide(.expire, on: request.id, from: nil))
            } else if request.expiresAt.timeIntervalSince(now) <= access.warning {
                expiring.append(request)
            }
        }
        return (expired, expiring)
    }

    /// At start: requests that were executing when the process stopped are marked outcome
    /// unknown, never run again.
    public func interrupted() async -> [(Request, Decided)] {
        guard let executing = try? store.requests(in: [.executing]) else { return [] }
        var out: [(Request, Decided)] = []
        for request in executing { out.append((request, await decide(.interrupted, on: request.id, from: nil))) }
        return out
    }

    /// Records a refused attempt in the audit log (who tried what, and why it was refused).
    public func refuse(action: String, target: String, by person: Person, why: String, requestID: String?) {
        do {
            try store.append([AuditEntry.Draft(at: clock.now(), actor: person, action: action, target: target,
                                               decision: .refused, outcome: why, requestID: requestID)])
        } catch {
            logger.error("audit.refusal_not_recorded", metadata: ["error.message": "\(error)"])
        }
    }

    private func refuse(_ action: String, _ request: Request, by person: Person, why: String) {
        refuse(action: action, target: request.plan.resource.auditTarget, by: person, why: why, requestID: request.id)
    }

    /// A row stored before environments were recorded (or under another policy) needs approval
    /// if either its flag or where its resource lives says so.
    func policy(for request: Request) -> RequestPolicy {
        // The risk of what it does, not the risk the row says: a row edited to "read-only"
        // still needs its approval.
        let now = access.requiresApproval(risk: request.plan.action.intentKind.risk, environment: request.plan.environment ?? .unknown)
        return RequestPolicy(approvalRequired: request.approvalRequired || now, expiry: access.expiry)
    }

    func changeSincePlanned(_ request: Request) async -> Change? {
        let then = request.plan.environment ?? .unknown
        let now: ResourceEnvironment?
        do {
            now = try await hooks.locate(request)
        } catch {
            return .unverified("\(error)")
        }
        guard let now else { return .gone }
        guard now.name == then.name, now.accountDefault == then.accountDefault else { return .moved(now: now, then: then) }
        return nil
    }

    /// An outcome with every session name of `person` replaced by their pseudonym's: AWS's
    /// errors and ARNs name the role session (`convops-U024BE7LH-alice`).
    func scrubbed(_ outcome: Outcome, of person: Person) -> Outcome {
        guard let pseudonym = try? store.pseudonym(for: person), let session = try? Self.sessionID(of: person, store: store) else {
            return Outcome(succeeded: outcome.succeeded, summary: "(not stored: the person's pseudonym could not be read)", principal: nil)
        }
        var out = outcome
        out.summary = AssumeRole.maskingSessions(in: outcome.summary, id: session, with: "convops-" + pseudonym)
        out.principal = outcome.principal.map { AssumeRole.maskingSessions(in: $0, id: session, with: "convops-" + pseudonym) }
        return out
    }

    /// The id an assumed-role session is named by: the person's chat id, or for someone only
    /// WhatsApp knows (whose id is their phone number) their pseudonym, so CloudTrail never
    /// holds a number. The scrubber above masks the same name.
    static func sessionID(of person: Person, store: Store) throws -> String {
        person.id.hasPrefix("+") ? try store.pseudonym(for: person) : person.id
    }

    /// The card a decision's button sits on: Approve and Reject on the approvers' card,
    /// Confirm and Cancel on the requester's.
    public static func cardRole(for decision: Decision) -> MessageRef.Role {
        decision == .approve || decision == .reject ? .approval : .request
    }

    static func decision(of event: RequestEvent) -> Decision? {
        switch event {
        case .confirm: .confirm
        case .cancel: .cancel
        case .approve: .approve
        case .reject: .reject
        case .expire, .finished, .interrupted: nil
        }
    }

    /// Who made a decision: the person, or nil for the bot's own (expiry, execution, recovery).
    static func actor(of event: RequestEvent) -> Person? {
        switch event {
        case .confirm(let p), .cancel(let p), .approve(let p), .reject(let p): p
        case .expire, .finished, .interrupted: nil
        }
    }
}
