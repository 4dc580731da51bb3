import ConvOpsCore
import Foundation
import Testing

/// Every cell of people × decisions × environments × states × channels, through the one check
/// the engine calls for buttons and typed commands alike (`AccessPolicy.check`, then the
/// request machine), compared with the README's policy written out by hand. The expected
/// answer of each cell is worked out here independently of the code under test.
@Suite struct AuthorizationMatrixTests {
    /// The README's team policy: on-call may restart in staging and prod, leads approve
    /// mutating changes in prod; everyone may read and decide.
    static let policy: AccessPolicy = {
        var p = AccessPolicy(
            mode: .team,
            groups: ["oncall": ["U-alice", "U-guest-named"], "leads": ["U-bob"]],
            rules: [
                .init(who: ["*"], intents: [.status, .alarms, .logs, .history, .help, .whoami, .cancel, .approve, .reject]),
                .init(who: ["group:oncall"], intents: [.restart, .stop, .start, .scale], environments: ["staging", "prod"]),
            ],
            approval: .init(risks: [.mutating], environments: ["prod"], approvers: ["group:leads"]))
        p.approvalChannels = ["C-approvals"]
        return p
    }()

    struct Who: Sendable, CustomStringConvertible {
        var person: Person
        var standing: Standing
        var description: String { "\(person.name)(\(standing.rawValue))" }
    }

    static let requester = Who(person: Person(id: "U-alice", name: "alice"), standing: .member)
    static let people: [Who] = [
        requester,
        Who(person: Person(id: "U-bob", name: "bob-approver"), standing: .member),
        Who(person: Person(id: "U-carol", name: "carol-member"), standing: .member),
        Who(person: Person(id: "U-gina", name: "gina-guest"), standing: .guest),
        Who(person: Person(id: "U-guest-named", name: "named-guest"), standing: .guest),
        // Someone from another organisation, even with an approver's id.
        Who(person: Person(id: "U-bob", name: "bob-elsewhere"), standing: .external),
        Who(person: Person(id: "U-xavier", name: "xavier-external"), standing: .external),
    ]

    static let environments: [ResourceEnvironment] = [
        ResourceEnvironment(name: "prod", source: .tag(key: "Environment")),
        ResourceEnvironment(name: "staging", source: .account(alias: "stg")),
        .unknown,
        ResourceEnvironment(name: nil, source: .conflicting(values: ["prod", "staging"])),
    ]

    static let channels = ["C-ops", "C-elsewhere", "C-approvals"]

    func request(_ environment: ResourceEnvironment, state: RequestState, now: Date) -> Request {
        let resource = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "orders-db", region: "eu-west-1", account: "prod")
        let plan = Plan(action: .rebootInstance, resource: resource, risk: .mutating, apiCalls: [], environment: environment)
        var r = Request(id: "rmatrix1", plan: plan, requester: Self.requester.person, channel: "C-ops", createdAt: now,
                        expiresAt: now.addingTimeInterval(600))
        r.state = state
        r.environment = environment.name
        r.approvalRequired = Self.policy.requiresApproval(risk: .mutating, environment: environment)
        if state == .executing || state == .rejected { r.approver = Person(id: "U-bob", name: "bob") }
        return r
    }

    enum Cell: Equatable { case refusedByPolicy, refusedByMachine, duplicate, moved(RequestState) }

    /// The answer each cell must have, from the policy's words alone.
    func expected(_ who: Who, _ decision: Decision, _ environment: ResourceEnvironment, _ state: RequestState, _ channel: String) -> Cell {
        let isApproval = decision == .approve || decision == .reject
        let inChannel = channel == "C-ops" || (isApproval && channel == "C-approvals")
        guard inChannel else { return .refusedByPolicy }
        let member = who.standing == .member
        let oncall = ["U-alice", "U-guest-named"].contains(who.person.id)
        let lead = who.person.id == "U-bob"
        let isRequester = who.person.id == "U-alice"
        let needsApproval = environment.name != "staging"  // prod, unknown and conflicting all need a lead
        switch decision {
        case .confirm:
            // Restart is granted only for named environments: never for unknown ones.
            guard oncall, environment.name == "prod" || environment.name == "staging" else { return .refusedByPolicy }
            switch state {
            case .awaitingConfirmation: return isRequester ? .moved(needsApproval ? .awaitingApproval : .executing) : .refusedByMachine
            case .awaitingApproval, .executing, .succeeded, .failed: return isRequester ? .duplicate : .refusedByMachine
            default: return .refusedByMachine
            }
        case .cancel:
            switch state {
            case .awaitingConfirmation, .awaitingApproval: return isRequester ? .moved(.cancelled) : .refusedByMachine
            case .cancelled: return isRequester ? .duplicate : .refusedByMachine
            default: return .refusedByMachine
            }
        case .approve, .reject:
            // Approvers are named by id, and "*" (which grants approve/reject) covers members only.
            guard lead, member else { return .refusedByPolicy }
            switch state {
            case .awaitingApproval where isRequester: return .refusedByMachine
            case .awaitingApproval: return .moved(decision == .approve ? .executing : .rejected)
            case .executing where decision == .approve: return .duplicate
            default: return .refusedByMachine
            }
        }
    }

    @Test func everyCellIsAllowedByThePolicyOrRefused() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var cells = 0
        var executions = 0
        var wrong: [String] = []
        for who in Self.people {
            for decision in Decision.allCases {
                for environment in Self.environments {
                    for state in RequestState.allCases {
                        for channel in Self.channels {
                            cells += 1
                            let r = request(environment, state: state, now: now)
                            let event: RequestEvent = switch decision {
                            case .confirm: .confirm(by: who.person)
                            case .cancel: .cancel(by: who.person)
                            case .approve: .approve(by: who.person)
                            case .reject: .reject(by: who.person)
                            }
                            let actual: Cell
                            if Self.policy.check(Attempt(.decide(decision, on: r), by: who.person, standing: who.standing, in: channel)) != nil {
                                actual = .refusedByPolicy
                            } else {
                                switch RequestMachine.apply(event, to: r, policy: RequestPolicy(approvalRequired: r.approvalRequired, expiry: 600), now: now) {
                                case .refused: actual = .refusedByMachine
                                case .duplicate: actual = .duplicate
                                case .transition(let next, _, let effects):
                                    actual = .moved(next.state)
                                    if effects.contains(where: { if case .execute = $0 { true } else { false } }) {
                                        executions += 1
                                        // Nothing runs in prod or an unknown place without a lead's approval.
                                        if environment.name != "staging",
                                           !(decision == .approve && who.person.id == "U-bob" && who.standing == .member) {
                                            wrong.append("ran without a lead: \(who) \(decision) \(environment) \(state) \(channel)")
                                        }
                                    }
                                }
                            }
                            let want = expected(who, decision, environment, state, channel)
                            if actual != want {
                                wrong.append("\(who) \(decision) \(environment.name ?? "unknown") \(state) \(channel): \(actual), not \(want)")
                            }
                        }
                    }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(20).joined(separator: "\n"))")
        #expect(cells == 7 * 4 * 4 * 9 * 3)
        // alice confirms staging and it runs; bob approves whatever waits for approval (in two channels).
        #expect(executions == 1 + 4 * 2)
    }

    @Test func askingAndRunningFollowTheResourcesEnvironment() {
        for who in Self.people {
            for environment in Self.environments {
                for channel in Self.channels {
                    let ask = Self.policy.check(Attempt(.ask(.restart, account: "prod"), by: who.person, standing: who.standing, in: channel))
                    let run = Self.policy.check(Attempt(.run(.restart, account: "prod", environment: environment), by: who.person,
                                                        standing: who.standing, in: channel))
                    let oncall = ["U-alice", "U-guest-named"].contains(who.person.id)
                    #expect((ask == nil) == oncall, "\(who) ask")
                    let named = environment.name == "prod" || environment.name == "staging"
                    #expect((run == nil) == (oncall && named), "\(who) run \(environment)")
                    // Reading is for the workspace's members ("*"), not guests or outsiders.
                    let status = Self.policy.check(Attempt(.run(.status, account: "prod", environment: environment), by: who.person,
                                                           standing: who.standing, in: channel))
                    #expect((status == nil) == (who.standing == .member), "\(who) status")
                }
            }
        }
    }

    @Test func approvalFollowsWhereTheResourceIsAndFailsClosed() {
        let p = Self.policy
        #expect(p.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "Prod", source: .tag(key: "env"))))
        #expect(!p.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "staging", source: .tag(key: "Environment"))))
        #expect(p.requiresApproval(risk: .mutating, environment: .unknown))
        #expect(p.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: nil, source: .conflicting(values: ["a", "b"]))))
        #expect(!p.requiresApproval(risk: .readOnly, environment: .unknown))
    }

    @Test func aTagAddsApprovalsButNeverRemovesTheAccounts() {
        let downgraded = ResourceEnvironment.of(tags: ["Environment": "dev"], tagKey: "Environment", account: "prod", accountEnvironment: "prod")
        #expect(downgraded.name == "dev" && downgraded.accountDefault == "prod")
        #expect(Self.policy.requiresApproval(risk: .mutating, environment: downgraded))
        let upgraded = ResourceEnvironment.of(tags: ["env": "prod"], tagKey: "Environment", account: "stg", accountEnvironment: "staging")
        #expect(Self.policy.requiresApproval(risk: .mutating, environment: upgraded))
        // Values that only look like names are no environment at all.
        for value in ["prod.", "pr\u{043E}d", "prod\u{200B}x", "prod eu", String(repeating: "p", count: 65)] {
            let odd = ResourceEnvironment.of(tags: ["Environment": value], tagKey: "Environment", account: "stg", accountEnvironment: "staging")
            #expect(odd.name == nil && odd.source == .unreadable(key: "Environment"), "\(value)")
            #expect(Self.policy.requiresApproval(risk: .mutating, environment: odd))
        }
    }

    @Test func thePolicysEnvironmentsAreReadUnderTheGrammarsNames() {
        var p = Self.policy
        p.approval?.environments = ["Production"]
        p.rules[1].environments = ["live", "Stage"]
        let names = ["production": "prod", "live": "prod", "stage": "staging", "prod": "prod", "staging": "staging"]
        let canonical = p.canonicalizingEnvironments(names)
        #expect(canonical.approval?.environments == ["prod"])
        #expect(canonical.rules[1].environments == ["prod", "staging"])
        #expect(canonical.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "prod", source: .tag(key: "Environment"))))
        #expect(canonical.rules[0].environments == ["*"])
    }

    @Test func theEnvironmentComesFromTagsThenTheAccount() {
        let tag = ResourceEnvironment.of(tags: ["Name": "db", "Environment": "Prod"], tagKey: "Environment", account: "stg", accountEnvironment: "staging")
        #expect(tag == ResourceEnvironment(name: "prod", source: .tag(key: "Environment"), accountDefault: "staging"))
        let lower = ResourceEnvironment.of(tags: ["env": "staging"], tagKey: "Environment", account: "prod", accountEnvironment: "prod")
        #expect(lower == ResourceEnvironment(name: "staging", source: .tag(key: "env"), accountDefault: "prod"))
        let custom = ResourceEnvironment.of(tags: ["Stage": "dev"], tagKey: "stage", account: nil, accountEnvironment: nil)
        #expect(custom.name == "dev")
        let account = ResourceEnvironment.of(tags: ["Owner": "alice"], tagKey: "Environment", account: "prod", accountEnvironment: "prod")
        #expect(account == ResourceEnvironment(name: "prod", source: .account(alias: "prod")))
        #expect(ResourceEnvironment.of(tags: [:], tagKey: "Environment", account: "x", accountEnvironment: nil) == .unknown)
        let clash = ResourceEnvironment.of(tags: ["Environment": "prod", "env": "staging"], tagKey: "Environment", account: "x", accountEnvironment: "prod")
        #expect(clash.name == nil)
        #expect(clash.source == .conflicting(values: ["prod", "staging"]))
        #expect(ResourceEnvironment.of(tags: ["Environment": "  "], tagKey: "Environment", account: nil, accountEnvironment: nil) == .unknown)
    }
}
