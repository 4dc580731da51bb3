import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import Foundation

/// Decisions on stored requests, typed or clicked: the one policy check, then the request
/// machine, then the store, then the AWS calls. Also the bot's own events: expiry, recovery.
extension Engine {
    /// Called with a request's progress while it runs (the "executing" step), before the
    /// outcome comes back: channels show it as it happens.
    public typealias Progress = @Sendable (Reply) async -> Void

    /// What a button on a request's message asks for.
    public enum Button: String, Sendable, CaseIterable {
        case confirm, cancel, approve, reject
    }

    /// A click on one of a request's buttons, checked like a typed decision: against the
    /// person clicking, the channel they clicked in, and where the request's resource lives.
    public func click(_ button: Button, requestID: String, by person: Person, from origin: Origin, locale: String? = nil,
                      progress: Progress? = nil) async -> [Reply] {
        let event: RequestEvent = switch button {
        case .confirm: .confirm(by: person)
        case .cancel: .cancel(by: person)
        case .approve: .approve(by: person)
        case .reject: .reject(by: person)
        }
        return await admitted(person, locale: locale) {
            await self.decide(event, on: requestID, from: origin, self.messages(locale), progress: progress)
        }
    }

    /// Records an attempt a channel refused before it reached a request (a forged or stale
    /// button), so the audit log shows who tried what.
    public func recordRefusal(action: String, target: String, by person: Person, why: String, requestID: String?) {
        audit(refusal: action, target: target, by: person, why: why, requestID: requestID)
    }

    /// A request as stored, for channels that render it (Block Kit cards).
    public func request(id: String) -> Request? { try? store.request(id: id) }

    /// A typed confirmation: the named request, or the person's only plan waiting in this channel.
    public func confirm(by person: Person, requestID: String?, from origin: Origin, locale: String? = nil,
                        progress: Progress? = nil) async -> [Reply] {
        let m = messages(locale)
        let id: String
        if let requestID {
            id = requestID
        } else {
            let waiting = ((try? store.requests(in: [.awaitingConfirmation])) ?? [])
                .filter { $0.requester.id == person.id && $0.channel == origin.channel }
            guard let only = waiting.first else { return [Reply(.info, m.text("request.none_pending"))] }
            // With two plans waiting, a bare "confirm" would be a guess: ask which one.
            guard waiting.count == 1 else {
                let list = waiting.map { "\($0.id) (\($0.plan.canonicalText))" }.joined(separator: ", ")
                return [Reply(.info, m.text("request.which", ["list": list, "word": m.text("console.confirm_word")]))]
            }
            id = only.id
        }
        return await admitted(person, locale: locale) {
            await self.decide(.confirm(by: person), on: id, from: origin, m, progress: progress)
        }
    }

    /// Applies an event to a request: policy (for a person's decision), machine, store, effect.
    /// `origin` is where a person decided; nil for the bot's own events.
    func decide(_ event: RequestEvent, on id: String, from origin: Origin?, _ m: Messages, progress: Progress? = nil) async -> [Reply] {
        do {
            guard let request = try store.request(id: id) else {
                return [Reply(.error, m.text("request.not_found", ["id": id]))]
            }
            if let person = actor(of: event), let decision = Self.decision(of: event) {
                let attempt = Attempt(.decide(decision, on: request), by: person, standing: origin?.standing ?? .member,
                                      in: origin?.channel ?? request.channel)
                if let denial = access.check(attempt) {
                    audit(refusal: decision == .confirm ? request.plan.action.rawValue : decision.rawValue,
                          target: request.plan.resource.auditTarget, by: person, why: denial.auditReason, requestID: id)
                    return [Reply(.error, denialText(denial, m, requestID: id), requestID: id)]
                }
            }
            let result = RequestMachine.apply(event, to: request, policy: requestPolicy(request), now: clock.now())
            // Before a person's decision moves a plan on toward running: the resource must still be
            // where it was when planned (a tag changed, a resource recreated under the name).
            if case .transition(_, _, let effects) = result, !effects.isEmpty, let person = actor(of: event),
               let moved = await movedSincePlanned(request, m) {
                audit(refusal: request.plan.action.rawValue, target: request.plan.resource.auditTarget, by: person,
                      why: "the resource's environment changed since the plan", requestID: id)
                return [Reply(.error, moved, requestID: id)]
            }
            switch result {
            case .refused(let refusal):
                if let person = actor(of: event) {
                    audit(refusal: request.plan.action.rawValue, target: request.plan.resource.auditTarget, by: person,
                          why: "\(refusal)", requestID: id)
                }
                return [Reply(.error, refusalText(refusal, request, m), requestID: id)]
            case .duplicate:
                return [Reply(.info, m.text("request.duplicate", ["id": id, "state": request.state.rawValue]), requestID: id)]
            case .transition(let next, let decision, let effects):
                guard try store.transition(next, from: request.state, decision: decision, actor: actor(of: event)) else {
                    // Another event won the race; tell the person what the request is now.
                    let now = try store.request(id: id)
                    return [Reply(.info, m.text("refusal.race", ["id": id, "state": now?.state.rawValue ?? "unknown"]), requestID: id)]
                }
                var replies: [Reply] = []
                let stepReply = stateReply(next, m, decision: decision)
                let executes = effects.contains { if case .execute = $0 { true } else { false } }
                if executes, let progress { await progress(stepReply) } else { replies.append(stepReply) }
                for effect in effects {
                    if case .execute(let plan) = effect {
                        replies += await execute(plan, request: next, m, progress: progress)
                    }
                }
                return replies
            }
        } catch {
            let correlation = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            logger.error("engine.decide_failed", metadata: ["request.id": "\(id)", "error": "\(error)", "correlation_id": "\(correlation)"])
            return [Reply(.error, m.text("error.internal", ["id": correlation]), requestID: id)]
        }
    }

    /// Why the plan may no longer run as planned, or nil when its resource is still the one
    /// planned, in the same environment. Read fresh from AWS; a read that fails refuses.
    func movedSincePlanned(_ request: Request, _ m: Messages) async -> String? {
        let planned = request.plan.resource
        let then = request.plan.environment ?? .unknown
        let found: [ResourceRef]
        do {
            let place = try workspace(planned.account, region: planned.region, for: request.requester)
            found = try await place.resolver.candidates(ResourceMention(planned.id), region: planned.region, fresh: true)
                .filter { $0.id == planned.id && $0.kind == planned.kind }
        } catch {
            return m.text("request.unverified", ["id": request.id, "resource": planned.label, "error": "\(error)"])
        }
        guard var now = found.first else {
            return m.text("request.resource_gone", ["id": request.id, "resource": planned.label])
        }
        // The resolver of one place does not name its account; the plan does.
        now.account = planned.account
        let environment = self.environment(of: now)
        guard environment.name == then.name, environment.accountDefault == then.accountDefault else {
            return m.text("request.environment_changed", ["id": request.id, "resource": planned.label,
                                                          "now": environmentText(environment, m), "then": environmentText(then, m)])
        }
        return nil
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

    private func execute(_ plan: Plan, request: Request, _ m: Messages, progress: Progress?) async -> [Reply] {
        let outcome: Outcome
        // Steps as they happen: to the channel's progress callback, or (console) in order before the outcome.
        let collected = ReplyLog()
        let step: Executor.Progress = { text in
            let reply = Reply(.progress, m.text("request.progress", ["id": request.id, "canonical": plan.canonicalText, "step": text]),
                              requestID: request.id)
            if let progress { await progress(reply) } else { collected.append(reply) }
        }
        do {
            let place = try workspace(plan.resource.account, region: plan.resource.region, for: request.requester)
            let result = await Executor(client: place.client, inventory: place.inventory, pollInterval: waitPollInterval,
                                        waitTimeout: waitTimeout)
                .execute(plan, progress: step)
            outcome = result
        } catch {
            outcome = Outcome(succeeded: false, summary: "\(error)", principal: nil)
        }
        // CloudTrail names the person (the role session), and so do AWS's error messages
        // ("User: …/convops-U024BE7LH-alice is not authorized"): what we store keeps their
        // pseudonym in its place, so erasing the person leaves nothing behind here.
        let stored = scrubbed(outcome, of: request.requester)
        guard case .transition(let done, let decision, _) = RequestMachine.apply(.finished(stored), to: request, policy: requestPolicy(request), now: clock.now()) else {
            return []
        }
        do {
            _ = try store.transition(done, from: .executing, decision: decision, actor: nil)
        } catch {
            logger.error("engine.outcome_not_stored", metadata: ["request.id": "\(request.id)", "error": "\(error)"])
        }
        return collected.all + [stateReply(done, m)]
    }

    /// An outcome with every session name of `person` replaced by their pseudonym's.
    func scrubbed(_ outcome: Outcome, of person: Person) -> Outcome {
        guard let pseudonym = try? store.pseudonym(for: person) else {
            return Outcome(succeeded: outcome.succeeded, summary: "(not stored: the person's pseudonym could not be read)", principal: nil)
        }
        var out = outcome
        out.summary = AssumeRole.maskingSessions(in: outcome.summary, id: person.id, with: "convops-" + pseudonym)
        out.principal = outcome.principal.map { AssumeRole.maskingSessions(in: $0, id: person.id, with: "convops-" + pseudonym) }
        return out
    }

    /// Marks pending requests past their deadline as expired; returns what to announce.
    public func sweep() async -> [Reply] {
        let m = messages(nil)
        guard let due = try? store.requests(in: [.awaitingConfirmation, .awaitingApproval]) else { return [] }
        var replies: [Reply] = []
        let now = clock.now()
        for request in due {
            if request.expiresAt <= now {
                replies += await decide(.expire, on: request.id, from: nil, m)
                warned.remove(request.id)
            } else if request.expiresAt.timeIntervalSince(now) <= access.warning, warned.insert(request.id).inserted {
                let seconds = Int(request.expiresAt.timeIntervalSince(now).rounded())
                replies.append(Reply(.info, m.text("request.expiring", ["id": request.id, "canonical": request.plan.canonicalText,
                                                                        "seconds": String(seconds)]), requestID: request.id))
            }
        }
        return replies
    }

    /// Retention: audit entries and finished requests older than `days` go, behind a signed
    /// checkpoint. Returns how many audit entries were purged.
    @discardableResult
    public func purgeExpiredRecords(days: Int) -> Int {
        let cutoff = clock.now().addingTimeInterval(-Double(days) * 86_400)
        do {
            let removed = try store.purge(olderThan: cutoff)
            if removed > 0 { logger.info("retention.purged", metadata: ["audit.entries": "\(removed)", "retention.days": "\(days)"]) }
            return removed
        } catch {
            logger.error("retention.failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// At start: requests that were executing when the process stopped have an unknown
    /// outcome. They are marked so and reported, never re-run.
    public func recover() async -> [Reply] {
        let m = messages(nil)
        guard let executing = try? store.requests(in: [.executing]) else { return [] }
        var replies: [Reply] = []
        for request in executing {
            replies += await decide(.interrupted, on: request.id, from: nil, m)
            // Say what AWS shows now, so the requester can judge; never run it again.
            let resource = request.plan.resource
            let state: String
            do {
                let place = try workspace(resource.account, region: resource.region, for: request.requester)
                if resource.kind == .ec2Instance {
                    state = try await EC2(client: place.client).describeInstances(ids: [resource.id], region: resource.region).first?.state ?? "gone"
                } else if case .found(let now) = try await place.resolver.resolve(ResourceMention(resource.id), region: resource.region, fresh: true) {
                    state = now.state ?? m.text("request.state_unknown")
                } else {
                    state = "gone"
                }
            } catch {
                state = m.text("request.state_unknown")
            }
            replies.append(Reply(.info, m.text("request.reconciled", ["resource": resource.label, "state": state]), requestID: request.id))
        }
        return replies
    }

    func stateReply(_ r: Request, _ m: Messages, decision: AuditDecision? = nil) -> Reply {
        let args = ["id": r.id, "resource": r.plan.resource.label, "canonical": r.plan.canonicalText,
                    "region": r.plan.resource.region, "principal": r.outcome?.principal ?? "-",
                    "approver": r.approver?.name ?? "-", "error": r.outcome?.summary ?? "",
                    "done": m.text("outcome.\(r.plan.action.rawValue)")]
        let (kind, key): (Reply.Kind, String) = switch r.state {
        // An approval names the plan it let through.
        case .executing where decision == .approved: (.progress, "request.approved_running")
        case .executing: (.progress, "request.executing")
        case .succeeded: (.outcome, "request.succeeded")
        case .failed: (.outcome, "request.failed")
        case .cancelled: (.outcome, "request.cancelled")
        case .expired: (.outcome, "request.expired")
        case .outcomeUnknown: (.outcome, "request.outcome_unknown")
        case .awaitingApproval: (.progress, "request.awaiting_approval")
        case .rejected: (.outcome, "request.rejected")
        case .awaitingConfirmation: (.plan, "request.duplicate")
        }
        return Reply(kind, m.text(key, args), requestID: r.id)
    }

    func refusalText(_ refusal: Refusal, _ r: Request, _ m: Messages) -> String {
        switch refusal {
        case .notRequester: m.text("refusal.not_requester", ["id": r.id, "requester": r.requester.name])
        case .selfApproval: m.text("refusal.self_approval", ["id": r.id])
        case .invalidInState(let state, let event): m.text("refusal.invalid_state", ["id": r.id, "state": state.rawValue, "event": event])
        case .alreadyFinished(let state): m.text("refusal.finished", ["id": r.id, "state": state.rawValue])
        case .notYetExpired: m.text("refusal.invalid_state", ["id": r.id, "state": r.state.rawValue, "event": "expire"])
        }
    }

    /// The machine's policy for one request: its own approval flag, the configured expiry.
    /// A row stored before environments were recorded (or under another policy) needs approval
    /// if either its flag or where its resource lives says so.
    func requestPolicy(_ request: Request) -> RequestPolicy {
        let now = access.requiresApproval(risk: request.plan.risk, environment: request.plan.environment ?? .unknown)
        return RequestPolicy(approvalRequired: request.approvalRequired || now, expiry: access.expiry)
    }

    /// Records a refused attempt in the audit log (who tried what, and why it was refused).
    func audit(refusal action: String, target: String, by person: Person, why: String, requestID: String?) {
        do {
            try store.append([Store.AuditEvent(at: clock.now(), actor: person, action: action, target: target,
                                               decision: .refused, outcome: why, requestID: requestID)])
        } catch {
            logger.error("audit.refusal_not_recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Who made a decision: the person, or nil for the bot's own (expiry, execution, recovery).
    func actor(of event: RequestEvent) -> Person? {
        switch event {
        case .confirm(let p), .cancel(let p), .approve(let p), .reject(let p): p
        case .expire, .finished, .interrupted: nil
        }
    }
}

/// Progress lines gathered while a plan runs, for channels without a progress callback.
final class ReplyLog: @unchecked Sendable {
    // Guarded by `lock`: appended from the executor's task, read after it finished.
    private let lock = NSLock()
    private var replies: [Reply] = []
    func append(_ r: Reply) { lock.withLock { replies.append(r) } }
    var all: [Reply] { lock.withLock { replies } }
}
