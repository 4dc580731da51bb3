@testable import ConvOpsBot
import ConvOpsAWS
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Logging
import Testing

/// The request service alone: a real SQLite file, fake AWS, a manual clock. Every refusal is
/// recorded, every effect comes back to be run, and nothing runs before it is stored.
@Suite struct RequestServiceTests {
    static let policy: AccessPolicy = {
        var p = AccessPolicy(mode: .team, groups: ["oncall": ["U-alice"], "leads": ["U-bob"]],
                             rules: [.init(who: ["*"], intents: [.status, .cancel, .approve, .reject]),
                                     .init(who: ["group:oncall"], intents: [.restart], environments: ["staging", "prod"])],
                             approval: .init(risks: [.mutating], environments: ["prod"], approvers: ["group:leads"]),
                             expiry: 600, warning: 120)
        p.approvalChannels = ["C-approvals"]
        return p
    }()
    static let alice = Person(id: "U-alice", name: "alice")
    static let bob = Person(id: "U-bob", name: "bob")
    static let carol = Person(id: "U-carol", name: "carol")
    static let prod = ResourceEnvironment(name: "prod", source: .tag(key: "Environment"))
    static let staging = ResourceEnvironment(name: "staging", source: .account(alias: "stg"))

    func service(_ bot: Bot) -> RequestService {
        RequestService(store: bot.store, access: Self.policy, clock: bot.clock, hooks: bot.aws.hooks, logger: Logger(label: "test"))
    }

    @Test func aConfirmedStagingPlanIsStoredAsExecutingThenRuns() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let r = try bot.request("rstage01", state: .awaitingConfirmation, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        let requests = service(bot)
        guard case .moved(let next, .confirmed, let effects) = await requests.decide(.confirm(by: Self.alice), on: r.id,
                                                                                     from: Origin(channel: "C-ops")) else {
            Issue.record("not moved")
            return
        }
        #expect(effects == [.execute(r.plan)])
        // Stored before anything ran.
        #expect(try bot.store.request(id: r.id)?.state == .executing)
        #expect(bot.aws.state.withLock { $0.executed }.isEmpty)
        let done = await requests.execute(next, progress: { _ in })
        #expect(done.state == .succeeded)
        #expect(bot.aws.state.withLock { $0.executed } == [r.id])
        #expect(try bot.store.auditEntries(requestID: r.id).map(\.decision) == [.requested, .confirmed, .executed])
    }

    @Test func aProdPlanAsksForApprovalAndRunsOnlyOnALeadsApproval() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let r = try bot.request("rprod001", state: .awaitingConfirmation, environment: Self.prod, by: Self.alice, in: "C-ops", policy: Self.policy)
        let requests = service(bot)
        guard case .moved(_, .confirmed, let effects) = await requests.decide(.confirm(by: Self.alice), on: r.id, from: Origin(channel: "C-ops")) else {
            Issue.record("not moved")
            return
        }
        #expect(effects == [.askForApproval])
        guard case .denied(_, .notApprover) = await requests.decide(.approve(by: Self.carol), on: r.id, from: Origin(channel: "C-approvals")) else {
            Issue.record("carol approved")
            return
        }
        guard case .denied(_, .otherChannel) = await requests.decide(.approve(by: Self.bob), on: r.id, from: Origin(channel: "C-elsewhere")) else {
            Issue.record("approved from elsewhere")
            return
        }
        // The requester is no approver here; the machine refuses a lead's own plan (selfApproval) too.
        guard case .denied(_, .notApprover) = await requests.decide(.approve(by: Self.alice), on: r.id, from: Origin(channel: "C-ops")) else {
            Issue.record("self-approved")
            return
        }
        let approved = await requests.decide(.approve(by: Self.bob), on: r.id, from: Origin(channel: "C-approvals"))
        guard case .moved(_, .approved, let run) = approved else {
            Issue.record("bob could not approve: \(approved)")
            return
        }
        #expect(run == [.execute(r.plan)])
        let audit = try bot.store.auditEntries(requestID: r.id)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .refused, .refused, .refused, .approved])
        #expect(audit.compactMap(\.outcome).contains("not an approver"))
        #expect(audit.compactMap(\.outcome).contains("decided outside the request's channel"))
    }

    @Test func aResourceThatMovedOrVanishedOrCannotBeReadIsNotRun() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let requests = service(bot)
        let moved = try bot.request("rmoved01", state: .awaitingConfirmation, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        bot.aws.state.withLock { $0.environments[moved.plan.resource.id] = .some(Self.prod) }
        guard case .changed(_, .moved(let now, let then)) = await requests.decide(.confirm(by: Self.alice), on: moved.id, from: Origin(channel: "C-ops")) else {
            Issue.record("ran after moving to prod")
            return
        }
        #expect(now.name == "prod" && then.name == "staging")
        bot.aws.state.withLock { $0.environments[moved.plan.resource.id] = .some(nil) }
        guard case .changed(_, .gone) = await requests.decide(.confirm(by: Self.alice), on: moved.id, from: Origin(channel: "C-ops")) else {
            Issue.record("ran after vanishing")
            return
        }
        bot.aws.state.withLock { $0.unreadable = true }
        guard case .changed(_, .unverified) = await requests.decide(.confirm(by: Self.alice), on: moved.id, from: Origin(channel: "C-ops")) else {
            Issue.record("ran unverified")
            return
        }
        #expect(try bot.store.request(id: moved.id)?.state == .awaitingConfirmation)
        #expect(try bot.store.auditEntries(requestID: moved.id).filter { $0.decision == .refused }.count == 3)
        #expect(bot.aws.state.withLock { $0.executed }.isEmpty)
    }

    @Test func aRowStoredWithoutItsEnvironmentNeedsApproval() async throws {
        let policy = AccessPolicy(mode: .team, groups: ["leads": ["U-bob"]], rules: [.init(who: ["*"], intents: Set(IntentKind.allCases))],
                                  approval: .init(risks: [.mutating], environments: ["prod"], approvers: ["group:leads"]))
        let bot = try Bot(policy: policy)
        defer { bot.remove() }
        // As rows were before environments were recorded: no environment, no approval flag.
        let r = try bot.request("rold0001", state: .awaitingConfirmation, environment: nil, by: Self.alice, in: "C-ops", policy: .openSolo)
        #expect(!r.approvalRequired)
        let requests = RequestService(store: bot.store, access: policy, clock: bot.clock, hooks: bot.aws.hooks, logger: Logger(label: "test"))
        guard case .moved(let next, _, let effects) = await requests.decide(.confirm(by: Self.alice), on: r.id, from: Origin(channel: "C-ops")) else {
            Issue.record("not moved")
            return
        }
        #expect(next.state == .awaitingApproval && effects == [.askForApproval])
    }

    @Test func expiryWarnsOnceThenExpiresOnTheManualClock() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let requests = service(bot)
        let r = try bot.request("rexpire1", state: .awaitingConfirmation, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        var sweep = await requests.sweep()
        #expect(sweep.expired.isEmpty && sweep.expiring.isEmpty)
        bot.clock.advance(by: 481)
        sweep = await requests.sweep()
        #expect(sweep.expiring.map(\.id) == [r.id] && sweep.expired.isEmpty)
        bot.clock.advance(by: 119)
        sweep = await requests.sweep()
        guard case .moved(let expired, .expired, _)? = sweep.expired.first else {
            Issue.record("not expired")
            return
        }
        #expect(expired.state == .expired)
        // A late click cannot run it.
        guard case .refused = await requests.decide(.confirm(by: Self.alice), on: r.id, from: Origin(channel: "C-ops")) else {
            Issue.record("a late confirm was taken")
            return
        }
        #expect(bot.aws.state.withLock { $0.executed }.isEmpty)
    }

    @Test func aRestartFindsExecutingRequestsAndNeverRunsThemAgain() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let r = try bot.request("rcrash01", state: .executing, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        let marked = await service(bot).interrupted()
        #expect(marked.count == 1)
        #expect(try bot.store.request(id: r.id)?.state == .outcomeUnknown)
        #expect(bot.aws.state.withLock { $0.executed }.isEmpty)
        #expect(try bot.store.auditEntries(requestID: r.id).last?.decision == .outcomeUnknown)
    }

    @Test func whatAWSSaysOfThePersonIsStoredUnderTheirPseudonym() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        bot.aws.state.withLock {
            $0.outcome = Outcome(succeeded: false, summary: "User: arn:aws:sts::1:assumed-role/convops/convops-U-alice-alice is not authorized",
                                 principal: "arn:aws:sts::1:assumed-role/convops/convops-U-alice-alice")
        }
        let r = try bot.request("rscrub01", state: .executing, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        let done = await service(bot).execute(r, progress: { _ in })
        let pseudonym = try bot.store.pseudonym(for: Self.alice)
        #expect(done.outcome?.summary == "User: arn:aws:sts::1:assumed-role/convops/convops-\(pseudonym) is not authorized")
        #expect(done.outcome?.principal == "arn:aws:sts::1:assumed-role/convops/convops-\(pseudonym)")
        #expect(try bot.store.auditEntries(requestID: r.id).last?.outcome?.contains("alice") == false)
    }

    @Test func aClickCountsOnlyFromTheCardRecordedForThatRequestAndRole() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        let r = try bot.request("rcard001", state: .awaitingConfirmation, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        let other = try bot.request("rcard002", state: .awaitingConfirmation, environment: Self.staging, by: Self.alice, in: "C-ops", policy: Self.policy)
        let requests = service(bot)
        let card = MessageRef(role: .request, channel: "C-ops", ts: "1.1")
        try await requests.record(card: card, for: r.id)
        try await requests.record(card: MessageRef(role: .request, channel: "C-ops", ts: "1.2"), for: other.id)
        let forged: [(String, MessageRef)] = [
            (r.id, MessageRef(role: .request, channel: "C-ops", ts: "1.2")),       // another request's card
            (r.id, MessageRef(role: .approval, channel: "C-ops", ts: "1.1")),      // its card, the other role
            (r.id, MessageRef(role: .request, channel: "C-other", ts: "1.1")),     // the same ts in another channel
            ("rnothere", card),                                                    // no such request
        ]
        for (id, ref) in forged {
            guard case .notOnItsCard = await requests.decide(.confirm(by: Self.alice), on: id, from: Origin(channel: ref.channel), card: ref) else {
                Issue.record("accepted \(id) from \(ref)")
                continue
            }
        }
        #expect(try bot.store.request(id: r.id)?.state == .awaitingConfirmation)
        let refused = try bot.store.auditEntries(limit: 50).filter { $0.decision == .refused }
        #expect(refused.count == forged.count)
        #expect(refused.allSatisfy { $0.outcome == "button not on that request's message" })
        guard case .moved(_, .confirmed, _) = await requests.decide(.confirm(by: Self.alice), on: r.id, from: Origin(channel: "C-ops"), card: card) else {
            Issue.record("its own card was refused")
            return
        }
    }

    @Test func aRowEditedToReadOnlyStillNeedsItsApproval() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        // What an edit of the file could say: a reboot in prod, read-only, no approval needed.
        let resource = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "orders-db", region: "eu-west-1")
        let plan = Plan(action: .rebootInstance, resource: resource, risk: .readOnly,
                        apiCalls: ConvOpsAWS.Executor.apiCalls(for: .rebootInstance, resource: resource), environment: Self.prod)
        var r = Request(id: "rrisk001", plan: plan, requester: Self.alice, channel: "C-ops", createdAt: bot.clock.now(),
                        expiresAt: bot.clock.now().addingTimeInterval(600))
        r.environment = "prod"
        r.approvalRequired = false
        try bot.store.insert(r)
        guard case .moved(_, .confirmed, let effects) = await service(bot).decide(.confirm(by: Self.alice), on: r.id, from: Origin(channel: "C-ops")) else {
            Issue.record("not moved")
            return
        }
        #expect(effects == [.askForApproval], "a reboot in prod waits for a lead, whatever the row says of its risk")
    }
}
