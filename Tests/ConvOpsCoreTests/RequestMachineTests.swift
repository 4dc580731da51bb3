import ConvOpsCore
import Foundation
import Testing

let alice = Person(id: "U1", name: "alice")
let bob = Person(id: "U2", name: "bob")
let t0 = Date(timeIntervalSince1970: 1_800_000_000)

func makeRequest(_ state: RequestState, approver: Person? = nil) -> Request {
    let resource = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-1", region: "eu-west-1")
    let plan = Plan(action: .rebootInstance, resource: resource, risk: .mutating,
                    apiCalls: [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": resource.id])])
    var r = Request(id: "r1", plan: plan, requester: alice, channel: "C1", createdAt: t0, expiresAt: t0.addingTimeInterval(600))
    r.state = state
    r.approver = approver
    return r
}

/// What applying an event should give.
enum Expected: Equatable, CustomStringConvertible {
    case to(RequestState, AuditDecision)
    case duplicate
    case refusedNotRequester, refusedSelfApproval, refusedInvalid, refusedFinished, refusedNotYetExpired

    var description: String {
        switch self {
        case .to(let s, let d): "→ \(s.rawValue) (\(d.rawValue))"
        case .duplicate: "duplicate"
        case .refusedNotRequester: "refused: not requester"
        case .refusedSelfApproval: "refused: self approval"
        case .refusedInvalid: "refused: invalid in state"
        case .refusedFinished: "refused: finished"
        case .refusedNotYetExpired: "refused: not yet expired"
        }
    }

    init(_ result: RequestMachine.Result) {
        switch result {
        case .transition(let r, let d, _): self = .to(r.state, d)
        case .duplicate: self = .duplicate
        case .refused(.notRequester): self = .refusedNotRequester
        case .refused(.selfApproval): self = .refusedSelfApproval
        case .refused(.invalidInState): self = .refusedInvalid
        case .refused(.alreadyFinished): self = .refusedFinished
        case .refused(.notYetExpired): self = .refusedNotYetExpired
        }
    }
}

let ok = Outcome(succeeded: true, summary: "rebooted", principal: "arn:aws:sts::1:assumed-role/r/alice")
let bad = Outcome(succeeded: false, summary: "denied", principal: nil)

/// Every event a test applies, by name.
let events: [(String, RequestEvent)] = [
    ("confirm by requester", .confirm(by: alice)), ("confirm by other", .confirm(by: bob)),
    ("cancel by requester", .cancel(by: alice)), ("cancel by other", .cancel(by: bob)),
    ("approve by other", .approve(by: bob)), ("approve by requester", .approve(by: alice)),
    ("reject by other", .reject(by: bob)), ("reject by requester", .reject(by: alice)),
    ("expire", .expire), ("finished ok", .finished(ok)), ("finished failed", .finished(bad)), ("interrupted", .interrupted),
]

/// The whole table, before the deadline, in team mode (approval required).
let table: [RequestState: [Expected]] = [
    .awaitingConfirmation: [.to(.awaitingApproval, .confirmed), .refusedNotRequester, .to(.cancelled, .cancelled), .refusedNotRequester,
                            .refusedInvalid, .refusedInvalid, .refusedInvalid, .refusedInvalid, .refusedNotYetExpired,
                            .refusedInvalid, .refusedInvalid, .refusedInvalid],
    .awaitingApproval: [.duplicate, .refusedNotRequester, .to(.cancelled, .cancelled), .refusedNotRequester,
                        .to(.executing, .approved), .refusedSelfApproval, .to(.rejected, .rejected), .refusedSelfApproval,
                        .refusedNotYetExpired, .refusedInvalid, .refusedInvalid, .refusedInvalid],
    .executing: [.duplicate, .refusedNotRequester, .refusedInvalid, .refusedInvalid,
                 .duplicate, .refusedInvalid, .refusedInvalid, .refusedInvalid,
                 .refusedInvalid, .to(.succeeded, .executed), .to(.failed, .failed), .to(.outcomeUnknown, .outcomeUnknown)],
    .succeeded: [.duplicate, .refusedFinished] + Array(repeating: .refusedFinished, count: 10),
    .failed: [.duplicate, .refusedFinished] + Array(repeating: .refusedFinished, count: 10),
    .cancelled: [.refusedFinished, .refusedFinished, .duplicate] + Array(repeating: .refusedFinished, count: 9),
    .rejected: Array(repeating: .refusedFinished, count: 12),
    .expired: Array(repeating: .refusedFinished, count: 8) + [.duplicate] + Array(repeating: .refusedFinished, count: 3),
    .outcomeUnknown: Array(repeating: .refusedFinished, count: 12),
]

struct Pair: CustomTestStringConvertible, Sendable {
    var state: RequestState
    var event: Int
    var testDescription: String { "\(state.rawValue) + \(events[event].0)" }
}

@Suite struct RequestMachineTests {
    static let pairs = RequestState.allCases.flatMap { s in events.indices.map { Pair(state: s, event: $0) } }

    @Test func theTableCoversEveryStateAndEvent() {
        #expect(Set(table.keys) == Set(RequestState.allCases))
        for (state, row) in table { #expect(row.count == events.count, "\(state)") }
    }

    @Test(arguments: pairs)
    func everyStateAndEventBeforeTheDeadline(_ pair: Pair) {
        let approver = pair.state == .executing ? bob : nil
        let result = RequestMachine.apply(events[pair.event].1, to: makeRequest(pair.state, approver: approver),
                                          policy: RequestPolicy(approvalRequired: true), now: t0.addingTimeInterval(60))
        #expect(Expected(result) == table[pair.state]![pair.event])
    }

    @Test func soloModeExecutesOnConfirmAndAsksForTheExecution() {
        let result = RequestMachine.apply(.confirm(by: alice), to: makeRequest(.awaitingConfirmation),
                                          policy: RequestPolicy(approvalRequired: false), now: t0)
        guard case .transition(let next, .confirmed, let effects) = result else {
            Issue.record("expected a transition, got \(result)")
            return
        }
        #expect(next.state == .executing)
        #expect(effects == [.execute(next.plan)])
        #expect(next.updatedAt == t0)
    }

    @Test func approvalRestartsTheClockAndAsksForApproval() {
        let now = t0.addingTimeInterval(120)
        guard case .transition(let next, _, let effects) = RequestMachine.apply(
            .confirm(by: alice), to: makeRequest(.awaitingConfirmation), policy: RequestPolicy(approvalRequired: true, expiry: 300), now: now) else {
            Issue.record("expected a transition")
            return
        }
        #expect(next.expiresAt == now.addingTimeInterval(300))
        #expect(effects == [.askForApproval])
    }

    @Test(arguments: [RequestState.awaitingConfirmation, .awaitingApproval])
    func aLateClickExpiresTheRequestInsteadOfRunningIt(_ state: RequestState) {
        let late = t0.addingTimeInterval(600)
        for event in [RequestEvent.confirm(by: alice), .approve(by: bob), .reject(by: bob), .cancel(by: alice), .expire] {
            let result = RequestMachine.apply(event, to: makeRequest(state), policy: RequestPolicy(approvalRequired: true), now: late)
            #expect(Expected(result) == .to(.expired, .expired), "\(event.name)")
            if case .transition(_, _, let effects) = result { #expect(effects.isEmpty) }
        }
    }

    @Test func theOutcomeIsRecorded() {
        guard case .transition(let done, .executed, _) = RequestMachine.apply(.finished(ok), to: makeRequest(.executing),
                                                                               policy: RequestPolicy(), now: t0) else {
            Issue.record("expected executed")
            return
        }
        #expect(done.outcome == ok)
    }

    @Test func terminalStatesAreExactlyTheFinishedOnes() {
        #expect(RequestState.allCases.filter(\.isTerminal) == [.succeeded, .failed, .cancelled, .rejected, .expired, .outcomeUnknown])
    }
}
