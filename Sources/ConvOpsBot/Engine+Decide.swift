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

        var decision: Decision {
            switch self {
            case .confirm: .confirm
            case .cancel: .cancel
            case .approve: .approve
            case .reject: .reject
            }
        }
    }

    /// The card a button sits on (Approve and Reject on the approvers' card).
    public static func cardRole(for button: Button) -> MessageRef.Role { RequestService.cardRole(for: button.decision) }

    /// A click on one of a request's buttons, checked like a typed decision: against the
    /// person clicking, the channel they clicked in, and where the request's resource lives.
    /// `card`: the message the button sat on; it must be the card recorded for that request.
    public func click(_ button: Button, requestID: String, card: MessageRef, by person: Person, from origin: Origin,
                      locale: String? = nil, progress: Progress? = nil) async -> [Reply] {
        let event: RequestEvent = switch button {
        case .confirm: .confirm(by: person)
        case .cancel: .cancel(by: person)
        case .approve: .approve(by: person)
        case .reject: .reject(by: person)
        }
        return await admitted(person, locale: locale) {
            await self.decide(event, on: requestID, from: origin, card: card, self.messages(locale), progress: progress)
        }
    }

    /// Records an attempt a channel refused before it reached a request (a button it does not
    /// know), so the audit log shows who tried what.
    public func recordRefusal(action: String, target: String, by person: Person, why: String, requestID: String?) async {
        await audit(refusal: action, target: target, by: person, why: why, requestID: requestID)
    }

    /// Records where a channel posted a request's card, before its buttons can be clicked.
    public func record(card: MessageRef, for requestID: String) async throws {
        try await requests.record(card: card, for: requestID)
    }

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
            guard let only = waiting.first else { return [.answer(m.text("request.none_pending"))] }
            // With two plans waiting, a bare "confirm" would be a guess: ask which one.
            guard waiting.count == 1 else {
                let list = waiting.map { "\($0.id) (\($0.plan.canonicalText))" }.joined(separator: ", ")
                return [.answer(m.text("request.which", ["list": list, "word": m.text("console.confirm_word")]))]
            }
            id = only.id
        }
        return await admitted(person, locale: locale) {
            await self.decide(.confirm(by: person), on: id, from: origin, self.messages(locale), progress: progress)
        }
    }

    /// Applies an event to a request through the request service (policy, machine, store),
    /// runs every effect it returns, and puts what happened into words.
    /// `origin` is where a person decided; nil for the bot's own events.
    func decide(_ event: RequestEvent, on id: String, from origin: Origin?, card: MessageRef? = nil, _ m: Messages,
                progress: Progress? = nil) async -> [Reply] {
        switch await requests.decide(event, on: id, from: origin, card: card) {
        case .notFound(let id):
            return [.refused(m.text("request.not_found", ["id": id]))]
        case .notOnItsCard:
            return [.refused(m.text("request.not_its_card"))]
        case .denied(let request, let denial):
            return [.refused(denialText(denial, m, requestID: request.id))]
        case .refused(let request, let refusal):
            return [.refused(refusalText(refusal, request, m))]
        case .changed(let request, let change):
            return [.refused(changeText(change, request, m))]
        case .duplicate(let request):
            return [.answer(m.text("request.duplicate", ["id": request.id, "state": request.state.rawValue]))]
        case .raced(let request, let state):
            return [.answer(m.text("refusal.race", ["id": request.id, "state": state?.rawValue ?? "unknown"]))]
        case .failed(let correlation):
            return [.refused(m.text("error.internal", ["id": correlation]))]
        case .moved(let next, let decision, let effects):
            // No effect: the request ended (cancelled, rejected, expired, outcome unknown).
            guard !effects.isEmpty else { return [await news(next, m)] }
            var replies: [Reply] = []
            for effect in effects {
                switch effect {
                case .askForApproval:
                    replies.append(await update(.awaitingApproval, next, m.text("request.awaiting_approval", arguments(next, m))))
                case .execute(let plan):
                    let running = await news(next, m, decision: decision)
                    if let progress { await progress(running) } else { replies.append(running) }
                    // Steps as they happen: to the channel's progress callback, or (console) in order before the outcome.
                    let collected = ReplyLog()
                    let cards = await requests.cards(for: next.id)
                    let step: Executor.Progress = { text in
                        let reply = Reply.request(RequestUpdate(.progress, next, cards: cards, text: m.text("request.progress", [
                            "id": next.id, "canonical": plan.canonicalText, "step": text])))
                        if let progress { await progress(reply) } else { collected.append(reply) }
                    }
                    let done = await requests.execute(next, progress: step)
                    replies += collected.all + [await news(done, m)]
                }
            }
            return replies
        }
    }

    func changeText(_ change: RequestService.Change, _ request: Request, _ m: Messages) -> String {
        let label = request.plan.resource.label
        return switch change {
        case .gone: m.text("request.resource_gone", ["id": request.id, "resource": label])
        case .unverified(let error): m.text("request.unverified", ["id": request.id, "resource": label, "error": error])
        case .moved(let now, let then):
            m.text("request.environment_changed", ["id": request.id, "resource": label, "now": environmentText(now, m),
                                                   "then": environmentText(then, m)])
        }
    }

    /// Where the request's resource lives now, read fresh from AWS (the service's `locate`).
    func locate(_ request: Request) async throws -> ResourceEnvironment? {
        let planned = request.plan.resource
        let place = try workspace(planned.account, region: planned.region, for: request.requester)
        let found = try await place.resolver.candidates(ResourceMention(planned.id, kind: planned.kind), region: planned.region, fresh: true)
            .filter { $0.id == planned.id && $0.kind == planned.kind }
        guard var now = found.first else { return nil }
        // The resolver of one place does not name its account; the plan does.
        now.account = planned.account
        return environment(of: now)
    }

    /// Runs a plan's AWS calls as the requester (the service's `execute`).
    func run(_ request: Request, progress: @escaping Executor.Progress) async -> Outcome {
        do {
            let place = try workspace(request.plan.resource.account, region: request.plan.resource.region, for: request.requester)
            return await Executor(client: place.client, inventory: place.inventory, pollInterval: waitPollInterval, waitTimeout: waitTimeout,
                                  clock: delays)
                .execute(request.plan, progress: progress)
        } catch {
            return Outcome(succeeded: false, summary: "\(error)", principal: nil)
        }
    }

    /// Marks pending requests past their deadline as expired; returns what to announce.
    public func sweep() async -> [Reply] {
        let m = messages(nil)
        let (expired, expiring) = await requests.sweep()
        var replies: [Reply] = []
        for result in expired {
            if case .moved(let request, _, _) = result {
                warned.remove(request.id)
                replies.append(await news(request, m))
            }
        }
        let now = clock.now()
        for request in expiring where warned.insert(request.id).inserted {
            let seconds = Int(request.expiresAt.timeIntervalSince(now).rounded())
            replies.append(await update(.note, request, m.text("request.expiring", [
                "id": request.id, "canonical": request.plan.canonicalText, "seconds": String(seconds)])))
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
            logger.error("retention.failed", metadata: ["error.message": "\(error)"])
            return 0
        }
    }

    /// At start: requests that were executing when the process stopped have an unknown
    /// outcome. They are marked so and reported, never re-run.
    public func recover() async -> [Reply] {
        let m = messages(nil)
        var replies: [Reply] = []
        for (request, result) in await requests.interrupted() {
            var current = request
            if case .moved(let marked, _, _) = result {
                current = marked
                replies.append(await news(marked, m))
            }
            // Say what AWS shows now, so the requester can judge; never run it again.
            let resource = request.plan.resource
            let state: String
            do {
                let place = try workspace(resource.account, region: resource.region, for: request.requester)
                if resource.kind == .ec2Instance {
                    state = try await EC2(client: place.client).describeInstances(ids: [resource.id], region: resource.region).first?.state ?? "gone"
                } else if case .found(let now) = try await place.resolver.resolve(ResourceMention(resource.id, kind: resource.kind), region: resource.region, fresh: true) {
                    state = now.state ?? m.text("request.state_unknown")
                } else {
                    state = "gone"
                }
            } catch {
                state = m.text("request.state_unknown")
            }
            replies.append(await update(.note, current, m.text("request.reconciled", ["resource": resource.label, "state": state])))
        }
        return replies
    }

    /// The request's news after a change: its step and the words for its state.
    func news(_ r: Request, _ m: Messages, decision: AuditDecision? = nil) async -> Reply {
        let (step, key): (RequestUpdate.Step, String) = switch r.state {
        // An approval names the plan it let through.
        case .executing where decision == .approved: (.progress, "request.approved_running")
        case .executing: (.progress, "request.executing")
        case .succeeded: (.finished, "request.succeeded")
        case .failed: (.finished, "request.failed")
        case .cancelled: (.finished, "request.cancelled")
        case .expired: (.finished, "request.expired")
        case .outcomeUnknown: (.finished, "request.outcome_unknown")
        case .awaitingApproval: (.awaitingApproval, "request.awaiting_approval")
        case .rejected: (.finished, "request.rejected")
        case .awaitingConfirmation: (.note, "request.duplicate")
        }
        return await update(step, r, m.text(key, arguments(r, m)))
    }

    func update(_ step: RequestUpdate.Step, _ r: Request, _ text: String) async -> Reply {
        .request(RequestUpdate(step, r, cards: step == .planned ? [] : await requests.cards(for: r.id), text: text))
    }

    func arguments(_ r: Request, _ m: Messages) -> [String: String] {
        ["id": r.id, "resource": r.plan.resource.label, "canonical": r.plan.canonicalText, "state": r.state.rawValue,
         "region": r.plan.resource.region, "principal": r.outcome?.principal ?? "-",
         "approver": r.approver?.name ?? "-", "error": r.outcome?.summary ?? "",
         "done": m.text("outcome.\(r.plan.action.rawValue)")]
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

    /// Records a refused attempt in the audit log (who tried what, and why it was refused).
    func audit(refusal action: String, target: String, by person: Person, why: String, requestID: String?) async {
        await requests.refuse(action: action, target: target, by: person, why: why, requestID: requestID)
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
