import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import Foundation
import Logging

/// The channel-agnostic conversation loop: text in, replies out. Parsing, the policy check and
/// the request machine are pure; the engine stores every transition before it acts on it.
///
/// Where things are: this file reads a message and answers it; `Engine+Plan.swift` turns a
/// request for a change into a stored plan; `Engine+Decide.swift` applies clicks and typed
/// decisions (the policy check, the machine, the store, then the AWS calls);
/// `Engine+Places.swift` says where a request may look; `Engine+Observe.swift` answers
/// status, alarms and logs.
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
    /// What each person last asked about, per channel: "restart it" (memory only, minutes).
    var conversations = Conversations()
    let defaultLocale: String
    /// How often a running plan looks at its effect (an instance reaching "stopped").
    let waitPollInterval: Duration
    let waitTimeout: Duration
    /// What a running plan's waiters sleep on (a manual clock in tests).
    let delays: any Clock<Duration>
    /// Log groups by resource name or id (config `log_groups`), for "logs web-1".
    let logGroups: [String: String]
    /// The tag that names a resource's environment (config `environment_tag`).
    let environmentTag: String
    /// Tag keys the alert routes match on (`resource_tags`), kept on resources found.
    let routingTagKeys: Set<String>
    /// The bot's own account's environment, when no `accounts` are configured.
    let ownEnvironment: String?
    /// Per-person and global bounds on what is being worked on.
    var admission: Admission
    /// Where "until 18:00" is read (config `alerts.time_zone`).
    let timeZone: TimeZone
    /// The bot's own account id and when it was asked (single-account alarms are checked against it).
    var ownAccount: (id: String?, at: Date)?
    /// Anonymous counts of what was asked and how it ended.
    let metrics: UsageMetrics?
    /// Test fakes for the request service's AWS reads and calls; nil: the real ones.
    let hooks: RequestService.Hooks?
    /// The only code that moves requests: policy check, machine, store, then effects.
    lazy var requests = RequestService(
        store: store, access: access, clock: clock,
        hooks: hooks ?? RequestService.Hooks(locate: { [unowned self] in try await self.locate($0) },
                                             execute: { [unowned self] in await self.run($0, progress: $1) }),
        logger: logger)

    public init(grammar: Grammar, store: Store, aws: AWSClient, clock: any WallClock = SystemClock(),
                access: AccessPolicy = .openSolo, locale: String = "en", roles: AssumedRoles? = nil,
                waitPollInterval: Duration = .seconds(5), waitTimeout: Duration = .seconds(600), delays: any Clock<Duration> = ContinuousClock(),
                logGroups: [String: String] = [:], environmentTag: String = ResourceEnvironment.defaultTagKey, routingTagKeys: Set<String> = [],
                ownEnvironment: String? = nil, limits: Admission.Limits = Admission.Limits(),
                timeZone: TimeZone = TimeZone(identifier: "UTC")!, metrics: UsageMetrics? = nil,
                hooks: RequestService.Hooks? = nil, logger: Logger) {
        self.hooks = hooks
        self.routingTagKeys = routingTagKeys
        self.timeZone = timeZone
        self.metrics = metrics
        self.delays = delays
        self.admission = Admission(limits: limits)
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
        // The policy's environments under the names tags and typed words are read as.
        self.access = access.canonicalizingEnvironments(grammar.environmentNames)
        self.logger = logger
        self.defaultLocale = locale
        self.environmentTag = environmentTag
        self.ownEnvironment = ownEnvironment
    }

    public static var requiredMessageKeys: Set<String> { MessageKey.all }

    func messages(_ locale: String?) -> Messages { grammar.messages(for: locale ?? defaultLocale) }

    /// Handles one message and returns what to say, in order.
    public func handle(_ message: InboundMessage) async -> [Reply] {
        // Bytes, not characters: one character may carry any number of combining marks.
        guard message.text.utf8.count <= admission.limits.messageLength else {
            return [Reply.refused(messages(message.locale).text("limits.too_long", ["n": String(message.text.utf8.count),
                                                                                   "max": String(admission.limits.messageLength)]))]
        }
        let started = ContinuousClock.now
        let replies = await admitted(message.person, locale: message.locale) { await self.answer(message) }
        if let metrics {
            let outcome = if replies.contains(where: { if case .request(let u) = $0 { u.step == .planned } else { false } }) {
                "planned"
            } else if replies.first?.isRefusal == true {
                "refused"
            } else {
                "answered"
            }
            let intent = try? grammar.parse(message.text, locale: message.locale).get().intent
            metrics.request(intent, outcome: outcome, took: ContinuousClock.now - started)
        }
        return replies
    }

    /// Runs `body` if the person (and everyone together) is within the limits, else says why not.
    func admitted(_ person: Person, locale: String?, _ body: () async -> [Reply]) async -> [Reply] {
        if let refusal = admission.enter(person.id, now: clock.now()) {
            logger.notice("engine.limited", metadata: ["engine.limit": "\(refusal)"])
            let m = messages(locale)
            let text = switch refusal {
            case .busy(let n): m.text("limits.busy", ["n": String(n)])
            case .rate(let n, let seconds): m.text("limits.rate", ["n": String(n), "seconds": String(seconds)])
            case .full(let n): m.text("limits.full", ["n": String(n)])
            }
            return [Reply.refused(text)]
        }
        defer { admission.leave(person.id) }
        return await body()
    }

    private func answer(_ message: InboundMessage) async -> [Reply] {
        let key = Conversations.Key(message)
        let now = clock.now()
        let understood: (command: Command, typed: Qualifiers, locale: String)
        switch grammar.parse(message.text, locale: message.locale) {
        case .failure(let failure):
            if case .followUp(let followUp) = failure.reason {
                // "same for web-2", "the one in prod": the last request, changed.
                guard let (command, typed) = Conversations.repeated(followUp, from: conversations.last(key, now: now)) else {
                    return [Reply.refused(failure.message)]
                }
                if command.intent.kind.changesSomething, let why = followUp.notARequest {
                    return [Reply.refused(messages(failure.locale).text("grammar.not_a_request.\(why.rawValue)", [
                        "intent": command.intent.kind.rawValue, "target": command.intent.target?.text ?? "", "canonical": grammar.spoken(command, locale: failure.locale)]))]
                }
                understood = (command, typed, failure.locale)
                break
            }
            let m = messages(failure.locale)
            var text = failure.message
            // A refusal already says what to type; other failures get "did you mean".
            var isRefusal = false
            if case .notARequest = failure.reason { isRefusal = true }
            if failure.reason != .empty, !isRefusal, !failure.suggestions.isEmpty {
                text += " " + m.text("grammar.suggestions", ["suggestions": failure.suggestions.map { "“\($0)”" }.joined(separator: ", ")])
            }
            return [Reply.refused(text)]
        case .success(let parsed):
            logger.debug("engine.parsed", metadata: ["request.intent": "\(parsed.intent.rawValue)", "grammar.rule": "\(parsed.rule)"])
            // "restart it", "und jetzt neu starten": the resource of the last message.
            guard let (command, typed) = Conversations.filled(parsed.command, from: conversations.last(key, now: now)) else {
                let example = Command(parsed.command.intent.with(target: ResourceMention("web-1")), qualifiers: parsed.command.qualifiers)
                return [Reply.refused(messages(parsed.locale).text("followup.which", ["intent": parsed.intent.rawValue, "example": grammar.spoken(example, locale: parsed.locale)]))]
            }
            understood = (command, typed, parsed.locale)
        }
        var message = message
        message.turn = conversations.nextTurn()
        for key in Conversations.Key.all(message) {
            conversations.note(understood.command, typed: understood.typed, key, now: now, seq: message.turn)
        }
        return await act(understood.command, locale: understood.locale, message)
    }

    /// Does what a command asks, once it is understood: the policy first, then the work.
    private func act(_ command: Command, locale: String, _ message: InboundMessage) async -> [Reply] {
        let intent = command.intent.kind
        // Answer in the language the person wrote in.
        let pm = messages(locale)
        let q = command.qualifiers
        // First: may the person do this anywhere here? Where the resource lives (its
        // environment) is checked again once it is found. No "on account X": every
        // configured account the person may use for it.
        let accounts: [String?] = q.account.map { [$0] } ?? roles.map { $0.accounts.map(\.alias) } ?? [nil]
        let denials = accounts.compactMap {
            access.check(Attempt(.ask(intent, account: $0), by: message.person, standing: message.standing, in: message.channel))
        }
        if denials.count == accounts.count, let denial = denials.first {
            if intent.changesSomething {
                await audit(refusal: intent.rawValue, target: command.intent.target?.text ?? "-", by: message.person,
                      why: denial.auditReason, requestID: nil)
            }
            return [Reply.refused(denialText(denial, pm))]
        }
        // A dry run decides nothing about stored requests.
        if message.dryRun, [.cancel, .approve, .reject].contains(intent) {
            return [Reply.answer(pm.text("dry_run.decision"))]
        }
        do {
            return try await run(command, message: message, messages: pm)
        } catch let error as AWSError {
            return [Reply.refused(pm.text("error.aws", ["error": error.description]))]
        } catch let error as EngineError {
            return [Reply.refused(pm.text(error.key, error.arguments))]
        } catch {
            let correlation = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            logger.error("engine.failure", metadata: ["error.message": "\(error)", "error.correlation_id": "\(correlation)"])
            return [Reply.refused(pm.text("error.internal", ["id": correlation]))]
        }
    }

    private func run(_ command: Command, message: InboundMessage, messages m: Messages) async throws -> [Reply] {
        switch command.intent {
        case .help:
            // At most three forms a command, so help stays readable; `commands/` has them all.
            let mine = access.intents(for: message.person.id, channel: message.channel, standing: message.standing)
            let lines = grammar.help(locale: m.locale).filter { mine.contains($0.intent) }.map {
                m.text("help.line", ["usage": $0.usage.prefix(3).joined(separator: " | "), "text": $0.text])
            }
            return [Reply.answer(([m.text("help.header")] + lines).joined(separator: "\n"))]
        case .status(let target?):
            let places = try places(for: .status, command.qualifiers, message: message)
            // A status answer may be a moment old (and shared with the same question in flight);
            // a change is planned on what AWS says now.
            let outcome = await search(places).resolve(target, recent: true)
            let found = try narrowed(outcome, to: command.qualifiers.environment, mention: target, m)
            guard case .found(let ref) = found.resolution else {
                return [resolutionProblem(found, mention: target, places: places, m)]
            }
            remember(ref, for: message, mention: target)
            if let refused = refusal(.status, on: ref, message, m) { return [refused] }
            let place = try workspace(ref.account, region: ref.region, for: message.person)
            let health = await ResourceHealth.read(ref, client: place.client, now: clock.now())
            return [Reply.answer(statusText(ref, health, m, recalled: recallNote(target, m)))] + unsearchedNote(found.unsearched, m)
        case .status(nil):
            let places = try places(for: .status, command.qualifiers, message: message, overview: true)
            let results = await inEachPlace(places) { (place) throws(AWSError) in
                try await EC2(client: place.client).describeInstances(filters: [("instance-state-name", ResourceResolver.liveStates)],
                                                                      region: place.region)
            }
            if let failed = Self.allFailed(results, m) { return [failed] }
            let typed = command.qualifiers.environment.map(canonicalEnvironment)
            var sections: [String] = []
            for (place, answer) in results {
                // "status in prod": the instances that live in prod, by the same rule plans use.
                let result = answer.map {
                    $0.filter { instance in
                        let environment = environment(of: instance, in: place)
                        return (typed == nil || environment.name == typed)
                            && access.check(Attempt(.run(.status, account: place.account, environment: environment), by: message.person,
                                                    standing: message.standing, in: message.channel)) == nil
                    }
                }
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
            return [Reply.answer(sections.joined(separator: "\n"))]
        case .restart(let target), .stop(let target), .start(let target):
            return try await plan(command.intent.kind, target: target, scale: nil, command.qualifiers, message: message, m)
        case .scale(let target, let change):
            return try await plan(.scale, target: target, scale: change, command.qualifiers, message: message, m)
        case .cancel:
            // Only this person's plans made in this channel: a bare "cancel" never reaches elsewhere.
            guard let request = try store.requests(in: [.awaitingConfirmation, .awaitingApproval])
                .last(where: { $0.requester.id == message.person.id && $0.channel == message.channel }) else {
                return [Reply.answer(m.text("request.none_pending"))]
            }
            return await decide(.cancel(by: message.person), on: request.id, from: message.origin, m)
        case .approve(let id), .reject(let id):
            let event: RequestEvent = command.intent.kind == .approve ? .approve(by: message.person) : .reject(by: message.person)
            // Typed where the request's approval message was sent (a WhatsApp approver's own
            // conversation), it counts as that message's button would.
            func card(_ id: String) -> MessageRef? { ((try? store.messages(for: id)) ?? []).first { $0.role == .approval && $0.channel == message.channel } }
            if let id { return await decide(event, on: id, from: message.origin, card: card(id), m) }
            // A bare "approve" means the one plan waiting for approval here, never a guess.
            let here = try store.requests(in: [.awaitingApproval]).filter {
                $0.channel == message.channel || access.approvalChannels.contains(message.channel) || card($0.id) != nil
            }
            guard let only = here.first else { return [Reply.answer(m.text("request.none_awaiting_approval"))] }
            guard here.count == 1 else {
                let list = here.map { "\($0.id) (\($0.plan.canonicalText), \($0.requester.name))" }.joined(separator: ", ")
                return [Reply.answer(m.text("request.which_approval", ["list": list, "word": command.intent.kind.rawValue]))]
            }
            return await decide(event, on: only.id, from: message.origin, card: card(only.id), m)
        case .whoami:
            return [Reply.answer(m.text("whoami", ["name": message.person.name, "id": message.person.id, "channel": message.channel]))]
        case .alarms(let state):
            return try await alarms(state, command.qualifiers, message: message, m)
        case .logs(let target, let since, let filter):
            return try await logs(target, since: since, filter: filter, command.qualifiers, message: message, m)
        case .history:
            return [Reply.answer(m.text("intent.not_available", ["intent": command.intent.kind.rawValue]))]
        case .snooze(let target, let length):
            return try await snooze(target, length, command.qualifiers, message: message, m)
        case .snoozes:
            return try snoozes(message: message, m)
        case .unsnooze(let target):
            return try await unsnooze(target, command.qualifiers, message: message, m)
        }
    }

    /// Notes what the person's last command turned out to be about, for "restart it".
    func remember(_ resource: ResourceRef, for message: InboundMessage, mention: ResourceMention) {
        for key in Conversations.Key.all(message) { conversations.found(resource, for: mention, key, seq: message.turn) }
    }

    /// " (from your last message)" after a resource filled in from the conversation.
    func recallNote(_ mention: ResourceMention, _ m: Messages) -> String {
        switch mention.recalled {
        case .earlier?: " " + m.text("followup.from_last")
        case .sameAgain?: " " + m.text("followup.same_as_last")
        case nil: ""
        }
    }

    /// The policy's answer for a read about a resolved resource, where it lives; nil: allowed.
    func refusal(_ intent: IntentKind, on ref: ResourceRef, _ message: InboundMessage, _ m: Messages) -> Reply? {
        guard let denial = access.check(Attempt(.run(intent, account: ref.account, environment: environment(of: ref)),
                                                by: message.person, standing: message.standing, in: message.channel)) else { return nil }
        return Reply.refused(denialText(denial, m))
    }

    /// What the person is told when the policy refuses them.
    func denialText(_ denial: Denial, _ m: Messages, requestID: String? = nil) -> String {
        switch denial {
        case .notAllowed(let kind, let environment):
            let place: String = switch environment {
            case nil: ""
            case let environment? where environment.name == nil: m.text("policy.where_unknown")
            case let environment?: " in \(environment.name ?? "")"
            }
            return m.text("policy.denied", ["intent": kind.rawValue, "where": place])
        case .notApprover:
            return m.text("policy.not_approver")
        case .otherChannel:
            return m.text("policy.other_channel", ["id": requestID ?? "-"])
        }
    }
}

/// A refusal the engine explains with a message of its own (a key in locales/).
struct EngineError: Error, CustomStringConvertible {
    var key: String
    var arguments: [String: String]
    var description: String { "\(key) \(arguments)" }
}
