import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// From "restart orders-db" to a stored plan: resolve the name, learn where the resource
/// lives (its environment, from a tag or its account, never from what was typed), check the
/// policy for that place, fix whether a second person must approve, store, show.
extension Engine {
    func plan(_ intent: IntentKind, target: ResourceMention, scale: ScaleChange?, _ q: Qualifiers,
              message: InboundMessage, _ m: Messages) async throws -> [Reply] {
        // Planned from the inventory (a minute old at most; what we changed ourselves is read
        // again): fast. Nothing runs on it: every decision reads the resource from AWS again
        // (`RequestService.changeSincePlanned`) and refuses if it is gone or has moved to
        // another environment since, so a tag changed in that minute cannot skip an approval.
        let places = try places(for: intent, q, message: message)
        let outcome = try narrowed(await search(places).resolve(target), to: q.environment, mention: target, m)
        guard case .found(let resource) = outcome.resolution else {
            return [resolutionProblem(outcome, mention: target, places: places, m)]
        }
        remember(resource, for: message, mention: target)
        // A change is planned only when every place was searched, or the person said where:
        // a "web-1" in the place we could not read may be the one they meant.
        if !outcome.unsearched.isEmpty, q.account == nil, q.region == nil {
            return [Reply.refused(([m.text("resolve.unsearched_refused", ["name": target.text, "resource": resource.label,
                                                                          "where": SearchPlace.label(resource.account, resource.region)])]
                                   + outcome.unsearched.map { m.text("resolve.unsearched", ["place": $0.place, "error": $0.error.description]) })
                .joined(separator: "\n"))]
        }
        let environment = self.environment(of: resource)
        // The policy decides on where the resource is.
        if let denial = access.check(Attempt(.run(intent, account: resource.account, environment: environment),
                                             by: message.person, standing: message.standing, in: message.channel)) {
            await audit(refusal: intent.rawValue, target: resource.auditTarget, by: message.person, why: denial.auditReason, requestID: nil)
            return [Reply.refused(denialText(denial, m))]
        }
        let place = try workspace(resource.account, region: resource.region, for: message.person)
        let notes = unsearchedNote(outcome.unsearched, m)
        // What the intent means depends on what the name turned out to be.
        guard let action = PlannedAction.forIntent(intent, on: resource.kind) else {
            return [Reply.refused(m.text("intent.not_for_kind", ["intent": intent.rawValue, "kind": resource.kind.noun,
                                                                 "resource": resource.label]))]
        }
        var desired: Int?
        if let scale {
            switch try await scaleTarget(scale, resource, client: place.client, m) {
            case .success(let count): desired = count
            case .failure(let refusal): return [Reply.refused(m.text(refusal.key, refusal.arguments))]
            }
        }
        let plan = Plan(action: action, resource: resource, risk: action.intentKind.risk,
                        apiCalls: Executor.apiCalls(for: action, resource: resource, desiredCount: desired), desiredCount: desired,
                        environment: environment)
        let approvalRequired = access.requiresApproval(risk: plan.risk, environment: environment)
        var arguments = [
            "canonical": plan.canonicalText, "kind": resource.kind.noun, "resource": resource.label + recallNote(target, m),
            "region": SearchPlace.label(resource.account, resource.region), "what": m.text("action.\(action.rawValue)"),
            "calls": plan.apiCalls.map(\.description).joined(separator: "; "),
            "environment": environmentText(environment, m), "approval": approvalText(approvalRequired, m),
        ]
        if message.dryRun { return [Reply.answer(m.text("plan.dry_run", arguments))] + notes }
        let now = clock.now()
        var request = Request(id: Self.newRequestID(), plan: plan, requester: message.person, channel: message.channel,
                              createdAt: now, expiresAt: now.addingTimeInterval(access.expiry))
        request.environment = environment.name
        request.approvalRequired = approvalRequired
        try await requests.create(request)
        arguments["id"] = request.id
        arguments["name"] = resource.name ?? "-"
        arguments["instance"] = resource.id
        arguments["expiry"] = Self.duration(access.expiry, m)
        return [await update(.planned, request, m.text("plan.prompt", arguments))] + notes
    }

    /// Where a resource lives, for the policy: its environment tag, else its account's
    /// `environment`, else unknown. Tag values are read with the locale's words ("production"
    /// is prod), as a typed environment is.
    func environment(of resource: ResourceRef) -> ResourceEnvironment {
        // `roles.account(nil)` would be the first account: a resource whose account is not
        // known gets no account default rather than someone else's.
        let accountEnvironment: String? = if let roles {
            resource.account.flatMap { roles.account($0)?.environment }
        } else {
            ownEnvironment
        }
        let found = ResourceEnvironment.of(tags: resource.tags ?? [:], tagKey: environmentTag,
                                           account: resource.account ?? "",
                                           accountEnvironment: accountEnvironment)
        return found.canonical(grammar.environmentNames)
    }

    /// A typed environment narrows what a name finds; it is never the authority. "restart
    /// orders-db in staging" when orders-db lives in prod finds nothing to act on, and says why.
    func narrowed(_ outcome: SearchOutcome, to typed: String?, mention: ResourceMention,
                  _ m: Messages) throws(EngineError) -> SearchOutcome {
        guard let typed else { return outcome }
        let wanted = grammar.environmentNames[typed.lowercased()] ?? typed.lowercased()
        var narrowed = outcome
        switch outcome.resolution {
        case .found(let ref):
            let environment = environment(of: ref)
            guard environment.name == wanted else {
                throw EngineError(key: "resolve.other_environment", arguments: [
                    "resource": ref.label, "typed": wanted, "environment": environmentText(environment, m),
                ])
            }
        case .ambiguous(let refs):
            let there = refs.filter { environment(of: $0).name == wanted }
            switch there.count {
            case 0: throw EngineError(key: "resolve.none_in_environment", arguments: ["name": mention.text, "count": String(refs.count),
                                                                                      "typed": wanted])
            case 1: narrowed.resolution = .found(there[0])
            default: narrowed.resolution = .ambiguous(there)
            }
        case .notFound:
            break
        }
        return narrowed
    }

    /// "prod, from tag Environment", "staging, from account stg", or why it is unknown.
    func environmentText(_ environment: ResourceEnvironment, _ m: Messages) -> String {
        switch environment.source {
        case .tag(let key): m.text("plan.environment.tag", ["name": environment.name ?? "-", "key": key])
        case .account(let alias) where alias.isEmpty: m.text("plan.environment.own", ["name": environment.name ?? "-"])
        case .account(let alias): m.text("plan.environment.account", ["name": environment.name ?? "-", "account": alias])
        case .unknown: m.text("plan.environment.unknown", ["key": environmentTag])
        case .conflicting(let values): m.text("plan.environment.conflicting", ["values": values.joined(separator: ", ")])
        case .unreadable(let key): m.text("plan.environment.unreadable", ["key": key])
        }
    }

    func approvalText(_ required: Bool, _ m: Messages) -> String {
        required ? m.text("plan.approval.required") : m.text("plan.approval.none")
    }

    /// The count a scale asks for, from "to 4" or "+2" on what is desired now, checked against
    /// what the resource allows (an Auto Scaling group's MinSize and MaxSize).
    func scaleTarget(_ change: ScaleChange, _ resource: ResourceRef,
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
}
