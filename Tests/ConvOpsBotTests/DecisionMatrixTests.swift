@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// The authorization matrix through the engine's own doors, once typed and once clicked:
/// people × decisions × environments × states × channels. A typed decision and a click on the
/// same request must end the same way; nothing runs in prod (or anywhere unknown) without a
/// lead's approval; and every refusal that reached a request is in the audit log.
@Suite struct DecisionMatrixTests {
    static let policy: AccessPolicy = {
        var p = AccessPolicy(mode: .team, groups: ["oncall": ["U-alice", "U-gwen"], "leads": ["U-bob"]],
                             rules: [.init(who: ["*"], intents: [.status, .help, .whoami, .cancel, .approve, .reject]),
                                     .init(who: ["group:oncall"], intents: [.restart, .stop, .start, .scale], environments: ["staging", "prod"])],
                             approval: .init(risks: [.mutating], environments: ["prod"], approvers: ["group:leads"]))
        p.approvalChannels = ["C-approvals"]
        return p
    }()

    static let requester = Person(id: "U-alice", name: "alice")
    static let people: [(Person, Standing)] = [
        (requester, .member), (Person(id: "U-bob", name: "bob"), .member), (Person(id: "U-carol", name: "carol"), .member),
        (Person(id: "U-gwen", name: "gwen"), .guest), (Person(id: "U-bob", name: "bob-elsewhere"), .external),
    ]
    static let environments: [ResourceEnvironment?] = [
        ResourceEnvironment(name: "prod", source: .tag(key: "Environment")), ResourceEnvironment(name: "staging", source: .account(alias: "stg")),
        .unknown, nil,
    ]

    enum Door: CaseIterable { case typed, clicked }

    func decide(_ engine: Engine, _ decision: Decision, _ id: String, by person: Person, _ origin: Origin, _ door: Door) async {
        switch (door, decision) {
        case (.clicked, _):
            let button: Engine.Button = switch decision {
            case .confirm: .confirm
            case .cancel: .cancel
            case .approve: .approve
            case .reject: .reject
            }
            // A genuine card where they click (the card check has tests of its own): what is left
            // to differ from typing is the policy.
            let role: MessageRef.Role = decision == .approve || decision == .reject ? .approval : .request
            let card = MessageRef(role: role, channel: origin.channel, ts: "1767225600.\(id)")
            try? await engine.record(card: card, for: id)
            _ = await engine.click(button, requestID: id, card: card, by: person, from: origin)
        case (.typed, .confirm):
            _ = await engine.confirm(by: person, requestID: id, from: origin)
        case (.typed, .cancel):
            _ = await engine.handle(InboundMessage(text: "cancel", person: person, channel: origin.channel, standing: origin.standing))
        case (.typed, .approve), (.typed, .reject):
            // The same world as the click's: the approval message sent where they type (a
            // WhatsApp approver's own conversation), so typing there counts as tapping it.
            try? await engine.record(card: MessageRef(role: .approval, channel: origin.channel, ts: "1767225600.\(id)"), for: id)
            _ = await engine.handle(InboundMessage(text: "\(decision.rawValue) \(id)", person: person, channel: origin.channel,
                                                   standing: origin.standing))
        }
    }

    /// CPU-bound (thousands of SQLite writes): on a thread of its own, not the cooperative
    /// pool the loopback servers of other suites need.
    @Test func typedAndClickedDecisionsEndAlikeAndNothingRunsUnapproved() async throws {
        try await onOwnThread { try await self.everyCell() }
    }

    func everyCell() async throws {
        let bot = try Bot(policy: Self.policy)
        defer { bot.remove() }
        var cells = 0
        var problems: [String] = []
        var n = 0
        for (person, standing) in Self.people {
            for decision in Decision.allCases {
                for environment in Self.environments {
                    for state in RequestState.allCases {
                        for place in ["own", "C-elsewhere", "C-approvals"] {
                            var ends: [Door: (RequestState?, Bool)] = [:]
                            for door in Door.allCases {
                                cells += 1
                                n += 1
                                let own = "C-\(n)"
                                let id = Engine.newRequestID()
                                try bot.request(id, state: state, environment: environment, by: Self.requester, in: own, policy: Self.policy)
                                let before = try bot.store.auditEntries(requestID: id).count
                                await decide(bot.engine, decision, id, by: person, Origin(channel: place == "own" ? own : place, standing: standing), door)
                                let after = try bot.store.request(id: id)
                                let ran = bot.aws.state.withLock { $0.executed.contains(id) }
                                ends[door] = (after?.state, ran)
                                let cell = "\(person.name) \(decision) \(environment?.name ?? "unknown") \(state) \(place) \(door)"
                                if ran, environment?.name != "staging", !(decision == .approve && person.id == "U-bob" && standing == .member) {
                                    problems.append("ran without a lead's approval: \(cell)")
                                }
                                if ran, standing != .member { problems.append("a \(standing) made it run: \(cell)") }
                                // Reached the request but changed nothing: a refusal is on record, or it was a repeat.
                                let audit = try bot.store.auditEntries(requestID: id)
                                if after?.state == state, audit.count == before, door == .clicked, !Self.isRepeat(decision, state, person) {
                                    problems.append("refused without an audit entry: \(cell)")
                                }
                            }
                            if ends[.typed]?.0 != ends[.clicked]?.0 || ends[.typed]?.1 != ends[.clicked]?.1 {
                                problems.append("typed \(String(describing: ends[.typed])) ≠ clicked \(String(describing: ends[.clicked])): "
                                                + "\(person.name)/\(standing) \(decision) \(environment?.name ?? "unknown") \(state) \(place)")
                            }
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(25).joined(separator: "\n"))")
        #expect(cells == 5 * 4 * 4 * 9 * 3 * 2)
    }

    /// The machine's duplicates: the same decision delivered again changes nothing and says so.
    static func isRepeat(_ decision: Decision, _ state: RequestState, _ person: Person) -> Bool {
        switch (decision, state) {
        case (.confirm, .awaitingApproval), (.confirm, .executing), (.confirm, .succeeded), (.confirm, .failed): person.id == requester.id
        case (.cancel, .cancelled): person.id == requester.id
        case (.approve, .executing): person.id == "U-bob"
        default: false
        }
    }
}
