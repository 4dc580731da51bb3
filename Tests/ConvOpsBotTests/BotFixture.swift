@testable import ConvOpsBot
import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsHTTP
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Synchronization

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The shipped grammar, compiled once for every test here.
let sharedGrammar: Grammar = {
    do {
        return try Grammar.load(commandsDirectory: repositoryRoot + "/commands", localesDirectory: repositoryRoot + "/locales",
                                requiredMessageKeys: Engine.requiredMessageKeys)
    } catch {
        fatalError("the shipped grammar does not load: \(error)")
    }
}()

/// What AWS would say, decided by the test: where resources live now, and how runs end.
final class FakeAWS: Sendable {
    struct State {
        /// By resource id: where it lives now (nil: gone). Missing: as the plan says.
        var environments: [String: ResourceEnvironment?] = [:]
        var unreadable = false
        var executed: [String] = []
        var outcome = Outcome(succeeded: true, summary: "rebooted", principal: "arn:aws:sts::123456789012:assumed-role/convops/ops")
        /// Runs wait here until the test opens the gate.
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var running = 0
    }
    let state = Mutex(State())

    /// From now on, runs wait for `release()`.
    func hold() { state.withLock { $0.held = true } }

    func release() {
        let waiting = state.withLock { s in
            s.held = false
            defer { s.waiting = [] }
            return s.waiting
        }
        for w in waiting { w.resume() }
    }

    var running: Int { state.withLock { $0.running } }

    var hooks: RequestService.Hooks {
        RequestService.Hooks(
            locate: { [self] request in
                let s = state.withLock { $0 }
                if s.unreadable { throw AWSError(kind: .serviceUnavailable, operation: "ec2:DescribeInstances", code: "HTTP503", message: "HTTP 503") }
                if let now = s.environments[request.plan.resource.id] { return now }
                return request.plan.environment ?? .unknown
            },
            execute: { [self] request, progress in
                await progress("\(request.plan.resource.label) is rebooting")
                state.withLock { $0.running += 1 }
                defer { state.withLock { $0.running -= 1 } }
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let go = state.withLock { s -> Bool in
                        guard s.held else { return true }
                        s.waiting.append(c)
                        return false
                    }
                    if go { c.resume() }
                }
                return state.withLock { s in
                    s.executed.append(request.id)
                    return s.outcome
                }
            })
    }
}

/// An engine over a real SQLite file, the shipped grammar, a manual clock and fake AWS.
struct Bot {
    let engine: Engine
    let store: Store
    let aws: FakeAWS
    let clock: ManualClock
    let directory: String

    init(policy: AccessPolicy) throws {
        directory = try makeTemporaryDirectory("bot")
        clock = ManualClock()
        store = try Store(path: directory + "/convops.db", keys: try DataKeys(dataKey: Data(repeating: 7, count: 32)), clock: clock)
        aws = FakeAWS()
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        // Never called: the fakes stand in for every AWS read and call the decisions make.
        let client = AWSClient(configuration: AWSConfiguration(endpoint: "http://127.0.0.1:9"),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")),
                               http: http, logger: .quiet)
        // The matrix makes thousands of decisions inside one manual minute: no rate limit here.
        var limits = Admission.Limits()
        limits.perPersonPerMinute = .max
        engine = Engine(grammar: sharedGrammar, store: store, aws: client, clock: clock, access: policy, limits: limits, hooks: aws.hooks, logger: .quiet)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// A stored request for orders-db, in `state`, made by `requester` in `channel`.
    @discardableResult
    func request(_ id: String, state: RequestState, environment: ResourceEnvironment?, by requester: Person,
                 in channel: String, policy: AccessPolicy) throws -> Request {
        let resource = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "orders-db", region: "eu-west-1")
        let plan = Plan(action: .rebootInstance, resource: resource, risk: .mutating,
                        apiCalls: Executor.apiCalls(for: .rebootInstance, resource: resource), environment: environment)
        let now = clock.now()
        var r = Request(id: id, plan: plan, requester: requester, channel: channel, createdAt: now, expiresAt: now.addingTimeInterval(600))
        r.state = state
        r.environment = environment?.name
        r.approvalRequired = policy.requiresApproval(risk: .mutating, environment: environment ?? .unknown)
        if state == .executing || state == .rejected { r.approver = Person(id: "U-bob", name: "bob") }
        try store.insert(r)
        return r
    }
}
