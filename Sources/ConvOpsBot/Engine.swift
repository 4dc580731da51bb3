import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import Foundation
import Logging

/// The channel-agnostic conversation loop: text in, replies out. Parsing, planning and the
/// request machine are pure; the engine stores every transition before it acts on it.
public actor Engine {
    let grammar: Grammar
    let store: Store
    let aws: AWSClient
    /// The accounts to act in through an assumed role; nil: the bot's own credentials.
    let roles: AssumedRoles?
    /// What the resolver learned, per account alias ("" for the bot's own account).
    let inventories: [String: InventoryCache]
    let clock: any WallClock
    let access: AccessPolicy
    let logger: Logger
    /// Requests already warned about their coming expiry (warned once each).
    var warned: Set<String> = []
    let defaultLocale: String
    /// How often a running plan looks at its effect (an instance reaching "stopped").
    let waitPollInterval: Duration
    let waitTimeout: Duration
    /// Log groups by resource name or id (config `log_groups`), for "logs web-1".
    let logGroups: [String: String]

    public init(grammar: Grammar, store: Store, aws: AWSClient, clock: any WallClock = SystemClock(),
                access: AccessPolicy = .openSolo, locale: String = "en", roles: AssumedRoles? = nil,
                waitPollInterval: Duration = .seconds(5), waitTimeout: Duration = .seconds(600),
                logGroups: [String: String] = [:], logger: Logger = Logger(label: "convops.engine")) {
        self.logGroups = logGroups
        self.waitPollInterval = waitPollInterval
        self.waitTimeout = waitTimeout
        self.grammar = grammar
        self.store = store
        self.aws = aws
        self.roles = roles
        var inventories = ["": InventoryCache(clock: clock)]
        for account in roles?.accounts ?? [] { inventories[account.alias] = InventoryCache(clock: clock) }
        self.inventories = inventories
        self.clock = clock
        self.access = access
        self.logger = logger
        self.defaultLocale = locale
    }

    public static var requiredMessageKeys: Set<String> { MessageKey.all }

    func messages(_ locale: String?) -> Messages { grammar.messages(for: locale ?? defaultLocale) }

    /// Handles one message and returns what to say, in order.
    public func handle(_ message: InboundMessage) async -> [Reply] {
        switch grammar.parse(message.text, locale: message.locale) {
        case .failure(let failure):
            let m = messages(failure.locale)
            var text = failure.message
            // A refusal already says what to type; other failures get "did you mean".
            var isRefusal = false
            if case .notARequest = failure.reason { isRefusal = true }
            if failure.reason != .empty, !isRefusal, !failure.suggestions.isEmpty {
                text += " " + m.text("grammar.suggestions", ["suggestions": failure.suggestions.map { "“\($0)”" }.joined(separator: ", ")])
            }
            return [Reply(.error, text)]
        case .success(let parsed):
            logger.debug("engine.parsed", metadata: ["intent": "\(parsed.intent.rawValue)", "rule": "\(parsed.rule)"])
            // Answer in the language the person wrote in.
            let pm = messages(parsed.locale)
            let q = parsed.command.qualifiers
            // No "on account X": the request may look in every configured account the person may use for it.
            let accounts: [String?] = q.account.map { [$0] } ?? roles.map { $0.accounts.map(\.alias) } ?? [nil]
            guard accounts.contains(where: {
                access.allows(message.person.id, parsed.intent, environment: q.environment, account: $0, channel: message.channel)
            }) else {
                if parsed.intent.risk == .mutating {
                    audit(refusal: parsed.intent.rawValue, target: parsed.command.intent.target?.text ?? "-", by: message.person,
                          why: "not allowed by the policy", requestID: nil)
                }
                return [Reply(.error, pm.text("policy.denied", ["intent": parsed.intent.rawValue,
                                                                "where": q.environment.map { " in \($0)" } ?? ""]))]
            }
            // A dry run decides nothing about stored requests.
            if message.dryRun, [.cancel, .approve, .reject].contains(parsed.intent) {
                return [Reply(.info, pm.text("dry_run.decision"))]
            }
            do {
                return try await run(parsed.command, message: message, messages: pm)
            } catch let error as AWSError {
                return [Reply(.error, pm.text("error.aws", ["error": error.description]))]
            } catch let error as EngineError {
                return [Reply(.error, pm.text(error.key, error.arguments))]
            } catch {
                let correlation = String(UInt32.random(in: 0...UInt32.max), radix: 36)
                logger.error("engine.failure", metadata: ["error": "\(error)", "correlation_id": "\(correlation)"])
                return [Reply(.error, pm.text("error.internal", ["id": correlation]))]
            }
        }
    }

    private func run(_ command: Command, message: InboundMessage, messages m: Messages) async throws -> [Reply] {
        switch command.intent {
        case .help:
            // At most three forms a command, so help stays readable; `commands/` has them all.
            let mine = access.intents(for: message.person.id, channel: message.channel)
            let lines = grammar.help(locale: m.locale).filter { mine.contains($0.intent) }.map {
                m.text("help.line", ["usage": $0.usage.prefix(3).joined(separator: " | "), "text": $0.text])
            }
            return [Reply(.info, ([m.text("help.header")] + lines).joined(separator: "\n"))]
        case .status(let target?):
            let places = try places(for: .status, command.qualifiers, person: message.person, channel: message.channel)
            let outcome = await search(places).resolve(target, fresh: true)
            guard case .found(let ref) = outcome.resolution else {
                return [resolutionProblem(outcome, mention: target, places: places, m)]
            }
            let place = try workspace(ref.account, region: ref.region, for: message.person)
            let health = await ResourceHealth.read(ref, client: place.client, now: clock.now())
            return [Reply(.info, statusText(ref, health, m))] + unsearchedNote(outcome.unsearched, m)
        case .status(nil):
            let places = try places(for: .status, command.qualifiers, person: message.person, channel: message.channel)
            let results = await inEachPlace(places) { (place) throws(AWSError) in
                try await EC2(client: place.client).describeInstances(filters: [("instance-state-name", ResourceResolver.liveStates)],
                                                                      region: place.region)
            }
            if let failed = Self.allFailed(results, m) { return [failed] }
            var sections: [String] = []
            for (place, result) in results {
                switch result {
                case .success(let instances) where instances.isEmpty:
                    sections.append(m.text("status.none", ["region": place.label]))
                case .success(let instances):
                    let lines = instances.sorted { ($0.name ?? $0.id) < ($1.name ?? $1.id) }.map { (i: EC2Instance) -> String in
                        m.text("status.overview_line", ["name": i.name ?? "-", "id": i.id, "state": i.state, "type": i.type])
                    }
                    sections.append(([m.text("status.overview", ["region": place.label])] + lines).joined(separator: "\n"))
                case .failure(let error):
                    sections.append(m.text("resolve.unsearched", ["place": place.label, "error": error.description]))
                }
            }
            return [Reply(.info, sections.joined(separator: "\n"))]
        case .restart(let target), .stop(let target), .start(let target):
            return try await plan(command.intent.kind, target: target, scale: nil, command.qualifiers, message: message, m)
        case .scale(let target, let change):
            return try await plan(.scale, target: target, scale: change, command.qualifiers, message: message, m)
        case .cancel:
            guard let request = try latestPending(for: message.person, states: [.awaitingConfirmation, .awaitingApproval]) else {
                return [Reply(.info, m.text("request.none_pending"))]
            }
            return await decide(.cancel(by: message.person), on: request.id, m)
        case .approve(let id), .reject(let id):
            let event: RequestEvent = command.intent.kind == .approve ? .approve(by: message.person) : .reject(by: message.person)
            // Authorized on every approval, typed or clicked, against the person giving it.
            guard access.mayApprove(message.person.id) else {
                audit(refusal: command.intent.kind.rawValue, target: id ?? "-", by: message.person, why: "not an approver", requestID: id)
                return [Reply(.error, m.text("policy.not_approver"))]
            }
            if let id { return await decide(event, on: id, m) }
            let pending = try store.requests(in: [.awaitingApproval])
            guard pending.count == 1 else { return [Reply(.info, m.text("request.none_pending"))] }
            return await decide(event, on: pending[0].id, m)
        case .whoami:
            return [Reply(.info, m.text("whoami", ["name": message.person.name, "id": message.person.id, "channel": message.channel]))]
        case .alarms(let state):
            return try await alarms(state, command.qualifiers, message: message, m)
        case .logs(let target, let since, let filter):
            return try await logs(target, since: since, filter: filter, command.qualifiers, message: message, m)
        case .history:
            return [Reply(.info, m.text("intent.not_available", ["intent": command.intent.kind.rawValue]))]
        }
    }

    /// Resolves the target, builds the plan and stores the request before showing it.
    private func plan(_ intent: IntentKind, target: ResourceMention, scale: ScaleChange?, _ q: Qualifiers,
                      message: InboundMessage, _ m: Messages) async throws -> [Reply] {
        let environment = q.environment
        let places = try places(for: intent, q, person: message.person, channel: message.channel)
        let outcome = await search(places).resolve(target)
        guard case .found(let resource) = outcome.resolution else {
            return [resolutionProblem(outcome, mention: target, places: places, m)]
        }
        // A change is planned only when every place was searched, or the person said where:
        // a "web-1" in the place we could not read may be the one they meant.
        if !outcome.unsearched.isEmpty, q.account == nil, q.region == nil {
            return [Reply(.error, ([m.text("resolve.unsearched_refused", ["name": target.text, "resource": resource.label,
                                                                          "where": Workspace.label(resource.account, resource.region)])]
                                   + outcome.unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) })
                .joined(separator: "\n"))]
        }
        let place = try workspace(resource.account, region: resource.region, for: message.person)
        let notes = unsearchedNote(outcome.unsearched, m)
        // What the intent means depends on what the name turned out to be.
        guard let action = PlannedAction.forIntent(intent, on: resource.kind) else {
            return [Reply(.error, m.text("intent.not_for_kind", ["intent": intent.rawValue, "kind": resource.kind.noun,
                                                                 "resource": resource.label]))]
        }
        var desired: Int?
        if let scale {
            switch try await scaleTarget(scale, resource, client: place.client, m) {
            case .success(let count): desired = count
            case .failure(let refusal): return [Reply(.error, m.text(refusal.key, refusal.arguments))]
            }
        }
        let plan = Plan(action: action, resource: resource, risk: action.intentKind.risk,
                        apiCalls: Executor.apiCalls(for: action, resource: resource, desiredCount: desired), desiredCount: desired)
        if message.dryRun {
            return [Reply(.info, m.text("plan.dry_run", [
                "canonical": plan.canonicalText, "kind": resource.kind.noun, "resource": resource.label,
                "region": Workspace.label(resource.account, resource.region),
                "what": m.text("action.\(action.rawValue)"), "calls": plan.apiCalls.map(\.description).joined(separator: "; "),
            ]))] + notes
        }
        let now = clock.now()
        var request = Request(id: Self.newRequestID(), plan: plan, requester: message.person, channel: message.channel,
                              createdAt: now, expiresAt: now.addingTimeInterval(access.expiry))
        request.environment = environment
        request.approvalRequired = access.requiresApproval(risk: plan.risk, environment: environment)
        try store.insert(request)
        logger.info("request.created", metadata: ["request.id": "\(request.id)", "request.action": "\(action.rawValue)"])
        let expiry = Self.duration(access.expiry, m)
        let text = m.text("plan.prompt", [
            "id": request.id, "canonical": plan.canonicalText, "kind": resource.kind.noun, "name": resource.name ?? "-",
            "resource": resource.label, "instance": resource.id, "region": Workspace.label(resource.account, resource.region),
            "what": m.text("action.\(action.rawValue)"),
            "calls": plan.apiCalls.map(\.description).joined(separator: "; "), "expiry": expiry,
        ])
        return [Reply(.plan, text, requestID: request.id)] + notes
    }

    func resolutionProblem(_ outcome: SearchOutcome, mention: ResourceMention, places: [Workspace], _ m: Messages) -> Reply {
        let region = outcome.searched.joined(separator: ", ")
        let failures = outcome.unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) }
        if outcome.searched.isEmpty, places.count == 1, outcome.unsearched.count == 1 {
            return Reply(.error, m.text("error.aws", ["error": outcome.unsearched[0].error.description]))
        }
        if outcome.searched.isEmpty {
            // Nowhere to look: every place failed, or an ARN names an account or region that is
            // not one of this person's.
            let key = failures.isEmpty ? "resolve.no_place" : "resolve.none_searched"
            return Reply(.error, ([m.text(key, ["name": mention.text, "places": places.map(\.label).joined(separator: ", ")])] + failures)
                .joined(separator: "\n"))
        }
        var lines: [String]
        switch outcome.resolution {
        case .notFound(let near) where !near.isEmpty:
            lines = [m.text("resolve.not_found_suggest", ["name": mention.text, "region": region,
                                                          "suggestions": near.map { "“\($0)”" }.joined(separator: ", ")])]
        case .notFound:
            lines = [m.text("resolve.not_found", ["name": mention.text, "region": region])]
        case .ambiguous(let refs):
            lines = [m.text("resolve.ambiguous", ["name": mention.text, "count": String(refs.count), "region": region])]
            lines += refs.map {
                m.text("resolve.ambiguous_line", ["id": $0.id, "kind": $0.kind.noun, "state": $0.state ?? "unknown",
                                                  "where": Workspace.label($0.account, $0.region)])
            }
        case .found:
            return Reply(.error, m.text("error.internal", ["id": "resolution"]))
        }
        return Reply(.error, (lines + failures).joined(separator: "\n"))
    }

    /// Places a search could not look in: the person hears of them before confirming, since a
    /// resource of the same name may live there.
    func unsearchedNote(_ unsearched: [(place: String, error: AWSError)], _ m: Messages) -> [Reply] {
        guard !unsearched.isEmpty else { return [] }
        return [Reply(.info, unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) }
            .joined(separator: "\n"))]
    }

    /// Called with a request's progress while it runs (the "executing" step), before the
    /// outcome comes back: channels show it as it happens.
    public typealias Progress = @Sendable (Reply) async -> Void

    /// What a button on a request's message asks for.
    public enum Button: String, Sendable, CaseIterable {
        case confirm, cancel, approve, reject
    }

    /// A click on one of a request's buttons, authorized against the person clicking: the
    /// policy is checked again here, whoever posted the message.
    public func click(_ button: Button, requestID: String, by person: Person, locale: String? = nil,
                      progress: Progress? = nil) async -> [Reply] {
        let m = messages(locale)
        switch button {
        case .confirm:
            return await decide(.confirm(by: person), on: requestID, m, progress: progress)
        case .cancel:
            return await decide(.cancel(by: person), on: requestID, m, progress: progress)
        case .approve, .reject:
            guard access.mayApprove(person.id) else {
                audit(refusal: button.rawValue, target: requestID, by: person, why: "not an approver", requestID: requestID)
                return [Reply(.error, m.text("policy.not_approver"), requestID: requestID)]
            }
            let event: RequestEvent = button == .approve ? .approve(by: person) : .reject(by: person)
            return await decide(event, on: requestID, m, progress: progress)
        }
    }

    /// Records an attempt a channel refused before it reached a request (a forged or stale
    /// button), so the audit log shows who tried what.
    public func recordRefusal(action: String, target: String, by person: Person, why: String, requestID: String?) {
        audit(refusal: action, target: target, by: person, why: why, requestID: requestID)
    }

    /// A request as stored, for channels that render it (Block Kit cards).
    public func request(id: String) -> Request? { try? store.request(id: id) }

    /// A button click or typed confirmation: the person's newest request awaiting it, or the named one.
    public func confirm(by person: Person, requestID: String?, locale: String? = nil, progress: Progress? = nil) async -> [Reply] {
        let m = messages(locale)
        let id: String
        if let requestID {
            id = requestID
        } else {
            let waiting = ((try? store.requests(in: [.awaitingConfirmation])) ?? []).filter { $0.requester.id == person.id }
            guard let only = waiting.first else { return [Reply(.info, m.text("request.none_pending"))] }
            // With two plans waiting, a bare "confirm" would be a guess: ask which one.
            guard waiting.count == 1 else {
                let list = waiting.map { "\($0.id) (\($0.plan.canonicalText))" }.joined(separator: ", ")
                return [Reply(.info, m.text("request.which", ["list": list, "word": m.text("console.confirm_word")]))]
            }
            id = only.id
        }
        return await decide(.confirm(by: person), on: id, m, progress: progress)
    }

    /// Applies a person's event to a request: machine, then store, then the effect.
    func decide(_ event: RequestEvent, on id: String, _ m: Messages, progress: Progress? = nil) async -> [Reply] {
        do {
            guard let request = try store.request(id: id) else {
                return [Reply(.error, m.text("request.not_found", ["id": id]))]
            }
            // Every click is checked against the person clicking, not only the first message.
            if case .confirm(let who) = event,
               !access.allows(who.id, request.plan.action.intentKind, environment: request.environment, account: request.plan.resource.account, channel: request.channel) {
                audit(refusal: request.plan.action.rawValue, target: request.plan.resource.auditTarget, by: who,
                      why: "not allowed by the policy", requestID: id)
                return [Reply(.error, m.text("policy.denied", ["intent": request.plan.action.intentKind.rawValue,
                                                              "where": request.environment.map { " in \($0)" } ?? ""]), requestID: id)]
            }
            switch RequestMachine.apply(event, to: request, policy: requestPolicy(request), now: clock.now()) {
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
                let stepReply = stateReply(next, m)
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
            var result = await Executor(client: place.client, inventory: place.inventory, pollInterval: waitPollInterval,
                                  waitTimeout: waitTimeout)
                .execute(plan, progress: step)
            // CloudTrail names the person (the role session); our audit log keeps their
            // pseudonym in its place, so erasing the person leaves nothing behind here.
            if place.alias != nil, let principal = result.principal, let pseudonym = try? store.pseudonym(for: request.requester) {
                result.principal = principal.replacingOccurrences(of: "/" + AssumeRole.sessionName(for: request.requester.name, id: request.requester.id),
                                                                  with: "/convops-" + pseudonym)
            }
            outcome = result
        } catch {
            outcome = Outcome(succeeded: false, summary: "\(error)", principal: nil)
        }
        guard case .transition(let done, let decision, _) = RequestMachine.apply(.finished(outcome), to: request, policy: requestPolicy(request), now: clock.now()) else {
            return []
        }
        do {
            _ = try store.transition(done, from: .executing, decision: decision, actor: nil)
        } catch {
            logger.error("engine.outcome_not_stored", metadata: ["request.id": "\(request.id)", "error": "\(error)"])
        }
        return collected.all + [stateReply(done, m)]
    }

    /// Marks pending requests past their deadline as expired; returns what to announce.
    public func sweep() async -> [Reply] {
        let m = messages(nil)
        guard let due = try? store.requests(in: [.awaitingConfirmation, .awaitingApproval]) else { return [] }
        var replies: [Reply] = []
        let now = clock.now()
        for request in due {
            if request.expiresAt <= now {
                replies += await decide(.expire, on: request.id, m)
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
            replies += await decide(.interrupted, on: request.id, m)
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

    private func stateReply(_ r: Request, _ m: Messages) -> Reply {
        let args = ["id": r.id, "resource": r.plan.resource.label, "canonical": r.plan.canonicalText,
                    "region": r.plan.resource.region, "principal": r.outcome?.principal ?? "-",
                    "approver": r.approver?.name ?? "-", "error": r.outcome?.summary ?? "",
                    "done": m.text("outcome.\(r.plan.action.rawValue)")]
        let (kind, key): (Reply.Kind, String) = switch r.state {
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

    private func refusalText(_ refusal: Refusal, _ r: Request, _ m: Messages) -> String {
        switch refusal {
        case .notRequester: m.text("refusal.not_requester", ["id": r.id, "requester": r.requester.name])
        case .selfApproval: m.text("refusal.self_approval", ["id": r.id])
        case .invalidInState(let state, let event): m.text("refusal.invalid_state", ["id": r.id, "state": state.rawValue, "event": event])
        case .alreadyFinished(let state): m.text("refusal.finished", ["id": r.id, "state": state.rawValue])
        case .notYetExpired: m.text("refusal.invalid_state", ["id": r.id, "state": r.state.rawValue, "event": "expire"])
        }
    }

    /// The machine's policy for one request: its own approval flag, the configured expiry.
    private func requestPolicy(_ request: Request) -> RequestPolicy {
        RequestPolicy(approvalRequired: request.approvalRequired, expiry: access.expiry)
    }

    /// Records a refused attempt in the audit log (who tried what, and why it was refused).
    private func audit(refusal action: String, target: String, by person: Person, why: String, requestID: String?) {
        do {
            try store.append([Store.AuditEvent(at: clock.now(), actor: person, action: action, target: target,
                                               decision: .refused, outcome: why, requestID: requestID)])
        } catch {
            logger.error("audit.refusal_not_recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Who made a decision: the person, or nil for the bot's own (expiry, execution, recovery).
    private func actor(of event: RequestEvent) -> Person? {
        switch event {
        case .confirm(let p), .cancel(let p), .approve(let p), .reject(let p): p
        case .expire, .finished, .interrupted: nil
        }
    }

    private func latestPending(for person: Person, states: [RequestState]) throws -> Request? {
        try store.requests(in: states).last { $0.requester.id == person.id }
    }

    /// The count a scale asks for, from "to 4" or "+2" on what is desired now, checked against
    /// what the resource allows (an Auto Scaling group's MinSize and MaxSize).
    private func scaleTarget(_ change: ScaleChange, _ resource: ResourceRef,
                             client: AWSClient, _ m: Messages) async throws -> Result<Int, EngineError> {
        let label = resource.label
        let current: Int
        var bounds: ClosedRange<Int>?
        switch resource.kind {
        case .ecsService:
            current = try await ECS(client: client).describeServices(cluster: resource.container ?? "", services: [resource.id],
                                                                     region: resource.region).first?.desiredCount ?? 0
        case .autoScalingGroup:
            guard let group = try await AutoScaling(client: client).describeGroups(names: [resource.name ?? resource.id],
                                                                                   region: resource.region).first else {
                return .failure(EngineError(key: "resolve.not_found", arguments: ["name": label, "region": resource.region]))
            }
            current = group.desiredCapacity
            bounds = group.minSize...max(group.minSize, group.maxSize)
        default:
            current = 0
        }
        // `current` is AWS's answer and `d` what was typed: add without trapping, and plan
        // nothing past the grammar's own limit, whatever the resource would allow.
        let (wanted, overflow): (Int, Bool) = switch change {
        case .absolute(let n): (n, false)
        case .delta(let d): current.addingReportingOverflow(d)
        }
        // A resource already past the limit may still be scaled down.
        guard !overflow, wanted <= GrammarLimits.count || wanted <= current else {
            return .failure(EngineError(key: "scale.above_limit", arguments: ["resource": label, "current": m.number(current),
                                                                              "max": m.number(GrammarLimits.count)]))
        }
        guard wanted >= 0 else {
            return .failure(EngineError(key: "scale.negative", arguments: ["resource": label, "count": String(wanted), "current": String(current)]))
        }
        if let bounds, !bounds.contains(wanted) {
            let key = wanted > bounds.upperBound ? "scale.above_max" : "scale.below_min"
            return .failure(EngineError(key: key, arguments: ["resource": label, "count": String(wanted),
                                                              "max": String(bounds.upperBound), "min": String(bounds.lowerBound)]))
        }
        return .success(wanted)
    }

    /// Where a request acts: the bot's own account, or a configured one through a role assumed
    /// for the person (so CloudTrail names them), with its region checked against the account's.
    struct Workspace: Sendable {
        var client: AWSClient
        var region: String
        var alias: String?
        var accountID: String?
        var inventory: InventoryCache
        var allowedRegions: [String]?
        var resolver: ResourceResolver {
            ResourceResolver(ec2: EC2(client: client), region: region, inventory: inventory, allowedRegions: allowedRegions)
        }
        var label: String { Self.label(alias, region) }
        /// `prod/eu-west-1`, or the region alone in the bot's own account.
        static func label(_ account: String?, _ region: String) -> String { account.map { "\($0)/\(region)" } ?? region }
    }

    /// Every place a request may look in: the named account, or each configured account the
    /// person may use for this intent; in the named region, or in each of the account's regions.
    func places(for intent: IntentKind, _ q: Qualifiers, person: Person, channel: String) throws -> [Workspace] {
        guard let roles else { return [try workspace(nil, region: q.region, for: person)] }
        if q.account != nil {
            guard q.region == nil, let account = roles.account(q.account), account.regions.count > 1 else {
                return [try workspace(q.account, region: q.region, for: person)]
            }
            return try account.regions.map { try workspace(account.alias, region: $0, for: person) }
        }
        var out: [Workspace] = []
        let usable = roles.accounts.filter { access.allows(person.id, intent, environment: q.environment, account: $0.alias, channel: channel) }
        for account in usable {
            let regions = q.region.map { [$0] } ?? (account.regions.isEmpty ? [aws.configuration.region] : account.regions)
            for region in regions where account.regions.isEmpty || account.regions.contains(region) {
                out.append(try workspace(account.alias, region: region, for: person))
            }
        }
        guard !out.isEmpty else {
            throw EngineError(key: "account.no_region", arguments: [
                "region": q.region ?? "-",
                "accounts": usable.map { "\($0.alias) (\($0.regions.joined(separator: ", ")))" }.joined(separator: "; "),
            ])
        }
        return out
    }

    func search(_ places: [Workspace]) -> ResourceSearch {
        ResourceSearch(places: places.map { SearchPlace(resolver: $0.resolver, account: $0.alias, accountID: $0.accountID) })
    }

    /// Runs `body` in every place at once; the results come back in the places' order.
    func inEachPlace<T: Sendable>(_ places: [Workspace],
                                  _ body: @escaping @Sendable (Workspace) async throws(AWSError) -> T) async -> [(Workspace, Result<T, AWSError>)] {
        let results = await withTaskGroup(of: (Int, Result<T, AWSError>).self) { group in
            for (index, place) in places.enumerated() {
                group.addTask {
                    // Await into a local, then build the tuple: see Result+Awaiting.swift.
                    let result = await Result { () async throws(AWSError) in try await body(place) }
                    return (index, result)
                }
            }
            return await group.reduce(into: [(Int, Result<T, AWSError>)]()) { $0.append($1) }
        }.sorted { $0.0 < $1.0 }
        // One answer per place, under its own index, or none is used (see ResourceSearch.resolve).
        guard results.map(\.0) == Array(places.indices) else {
            return places.map { ($0, .failure(AWSError.internalMismatch("each place"))) }
        }
        return results.map { (places[$0.0], $0.1) }
    }

    /// When no place answered: an error naming each place with its error; nil when one did.
    static func allFailed<T>(_ results: [(Workspace, Result<T, AWSError>)], _ m: Messages) -> Reply? {
        if results.count == 1, case .failure(let error) = results[0].1 {
            return Reply(.error, m.text("error.aws", ["error": error.description]))
        }
        var failures: [String] = []
        for (place, result) in results {
            guard case .failure(let error) = result else { return nil }
            failures.append(m.text("resolve.unsearched", ["place": place.label, "error": error.description]))
        }
        return Reply(.error, ([m.text("error.nowhere")] + failures).joined(separator: "\n"))
    }

    func workspace(_ alias: String?, region: String?, for person: Person) throws -> Workspace {
        guard let roles else {
            return Workspace(client: aws, region: region ?? aws.configuration.region, alias: nil, inventory: inventories[""]!)
        }
        guard let account = roles.account(alias) else {
            throw EngineError(key: "account.unknown", arguments: ["account": alias ?? "-",
                                                                  "known": roles.accounts.map(\.alias).joined(separator: ", ")])
        }
        let region = region ?? account.regions.first ?? aws.configuration.region
        guard account.regions.isEmpty || account.regions.contains(region) else {
            throw EngineError(key: "account.region", arguments: ["account": account.alias, "region": region,
                                                                 "regions": account.regions.joined(separator: ", ")])
        }
        return Workspace(client: roles.client(for: account, personID: person.id, handle: person.name), region: region, alias: account.alias,
                         accountID: account.accountID, inventory: inventories[account.alias] ?? inventories[""]!,
                         allowedRegions: account.regions.isEmpty ? nil : account.regions)
    }

    /// "90 seconds", "10 minutes", "1 minute", in the locale's words.
    static func duration(_ raw: TimeInterval, _ m: Messages) -> String {
        // Times read back from the database may be anything: keep them to what Int holds.
        let seconds = raw.isFinite ? min(max(raw, 0), 1e9) : 0
        if seconds < 120 {
            let n = Int(seconds.rounded())
            return m.text(n == 1 ? "duration.second" : "duration.seconds", ["n": String(n)])
        }
        let n = Int((seconds / 60).rounded())
        return m.text(n == 1 ? "duration.minute" : "duration.minutes", ["n": String(n)])
    }

    /// Short, unguessable, easy to type: `r` and 7 characters of base 32.
    static func newRequestID() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return "r" + String((0..<7).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

/// A refusal the engine explains with a message of its own (a key in locales/).
struct EngineError: Error, CustomStringConvertible {
    var key: String
    var arguments: [String: String]
    var description: String { "\(key) \(arguments)" }
}

/// Progress lines gathered while a plan runs, for channels without a progress callback.
final class ReplyLog: @unchecked Sendable {
    // Guarded by `lock`: appended from the executor's task, read after it finished.
    private let lock = NSLock()
    private var replies: [Reply] = []
    func append(_ r: Reply) { lock.withLock { replies.append(r) } }
    var all: [Reply] { lock.withLock { replies } }
}
