import ConvOpsAWS
import ConvOpsHTTP
import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Synchronization
import Testing

/// A loopback stand-in for AWS that answers from a script, to inject throttling, 5xx, slow and
/// malformed answers, and counts the calls it got.
final class FaultStub: Sendable {
    enum Step: Sendable {
        case respond(Int, String)
        case slow(Duration, Int, String)
    }

    /// The script and the call count, shared with the server's handler under a lock.
    final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var steps: [Step]
        private var calls = 0
        init(_ steps: [Step]) { self.steps = steps }
        func next() -> Step {
            lock.withLock {
                calls += 1
                return steps.count > 1 ? steps.removeFirst() : steps[0]
            }
        }
        var count: Int { lock.withLock { calls } }
    }

    private let state: State
    let server: WebServer

    init(_ steps: [Step]) throws {
        let state = State(steps)
        self.state = state
        let slow = steps.contains { if case .slow = $0 { true } else { false } }
        if slow {
            server = try WebServer(http: { _ in
                switch state.next() {
                case .respond(let status, let body):
                    return HTTPServerResponse(status: status, contentType: "text/xml", body: body)
                case .slow(let wait, let status, let body):
                    try? await Task.sleep(for: wait)
                    return HTTPServerResponse(status: status, contentType: "text/xml", body: body)
                }
            })
        } else {
            // Answered on the server's own thread: a task pool busy with the rest of the suite
            // must not turn a scripted answer into a client timeout.
            server = try WebServer(immediateHTTP: { _ in
                guard case .respond(let status, let body) = state.next() else { return HTTPServerResponse(status: 500) }
                return HTTPServerResponse(status: status, contentType: "text/xml", body: body)
            })
        }
    }

    var callCount: Int { state.count }

    static let ok = #"<DescribeInstancesResponse><requestId>1</requestId><reservationSet/></DescribeInstancesResponse>"#
    static let rebootOK = #"<RebootInstancesResponse><requestId>1</requestId><return>true</return></RebootInstancesResponse>"#
    static func error(_ code: String, _ message: String = "nope") -> String {
        "<Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors><RequestID>req-9</RequestID></Response>"
    }
}

/// Credentials that count how often they were invalidated.
final class CountingCredentials: RefreshableCredentialsProvider {
    let invalidations = Mutex(0)

    func credentials() async throws -> AWSCredentials { AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "s", sessionToken: "t") }
    func invalidate() async { invalidations.withLock { $0 += 1 } }
}

func client(_ stub: FaultStub, credentials: any CredentialsProvider = StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "s")),
            retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)),
            totalTimeout: Duration = .seconds(30)) -> AWSClient {
    // Generous unless a test is about timeouts: a loaded CI machine once took over 3 s for a
    // loopback answer, and the retry it caused counted as a poll.
    let http = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(5), totalTimeout: totalTimeout,
                                                                 egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
    return AWSClient(configuration: AWSConfiguration(region: "eu-west-1", endpoint: "http://127.0.0.1:\(stub.server.port)"),
                     credentials: credentials, http: http, retry: retry, logger: .quiet)
}

// Serialized: each test tears down its stub while keep-alive connections may still be open;
// run in parallel, a later stub on a reused port saw those requests.
@Suite(.serialized) struct RetryTests {
    @Test func throttlingIsRetriedWithBackoffUntilItPasses() async throws {
        let stub = try FaultStub([.respond(400, FaultStub.error("RequestLimitExceeded")), .respond(503, "<html>busy</html>"),
                                  .respond(200, FaultStub.ok)])
        defer { stub.server.shutdown() }
        let instances = try await EC2(client: client(stub)).describeInstances()
        #expect(instances.isEmpty)
        #expect(stub.callCount == 3)
    }

    @Test func fiveHundredsGiveUpAfterTheLastAttemptWithAClearError() async throws {
        let stub = try FaultStub([.respond(500, FaultStub.error("InternalError", "boom"))])
        defer { stub.server.shutdown() }
        let error = await #expect(throws: AWSError.self) { _ = try await EC2(client: client(stub)).describeInstances() }
        #expect(error?.kind == .serviceUnavailable)
        #expect(error?.description == "AWS had an internal error on ec2:DescribeInstances (InternalError); try again shortly. (request id req-9)")
        #expect(stub.callCount == 3)
    }

    @Test func aTimedOutRebootIsNeverRepeated() async throws {
        let stub = try FaultStub([.slow(.seconds(5), 200, FaultStub.rebootOK)])
        defer { stub.server.shutdown() }
        let error = await #expect(throws: AWSError.self) { try await EC2(client: client(stub, totalTimeout: .seconds(3))).rebootInstances(ids: ["i-0123456789abcdef0"]) }
        #expect(error?.kind == .network)
        #expect(error?.description.contains("timed out") == true)
        #expect(stub.callCount == 1, "AWS may have rebooted it: no second call")
    }

    @Test func aTimedOutReadIsRetried() async throws {
        let stub = try FaultStub([.slow(.seconds(5), 200, FaultStub.ok), .respond(200, FaultStub.ok)])
        defer { stub.server.shutdown() }
        _ = try await EC2(client: client(stub, totalTimeout: .seconds(3))).describeInstances()
        #expect(stub.callCount == 2)
    }

    @Test func malformedAnswersAreErrorsNotCrashes() async throws {
        for body in ["not xml at all", "<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceState>",
                     #"<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceState><name>running</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#] {
            let stub = try FaultStub([.respond(200, body)])
            defer { stub.server.shutdown() }
            let error = await #expect(throws: AWSError.self) { _ = try await EC2(client: client(stub)).describeInstances() }
            #expect(error?.kind == .malformedResponse, "\(body)")
            #expect(stub.callCount == 1)
        }
    }

    @Test func accessDeniedNamesTheActionAndIsNotRetried() async throws {
        let stub = try FaultStub([.respond(403, FaultStub.error("UnauthorizedOperation", "You are not authorized to perform this operation."))])
        defer { stub.server.shutdown() }
        let error = await #expect(throws: AWSError.self) { try await EC2(client: client(stub)).rebootInstances(ids: ["i-0123456789abcdef0"]) }
        #expect(error?.kind == .accessDenied)
        #expect(error?.description.hasPrefix("ec2:RebootInstances was denied: the IAM policy of the role ConvOps uses must allow 'ec2:RebootInstances'.") == true)
        #expect(stub.callCount == 1)
    }

    @Test func anExpiredTokenIsRefreshedOnceThenRetried() async throws {
        let stub = try FaultStub([.respond(400, FaultStub.error("RequestExpired")), .respond(200, FaultStub.ok)])
        defer { stub.server.shutdown() }
        let credentials = CountingCredentials()
        _ = try await EC2(client: client(stub, credentials: credentials)).describeInstances()
        #expect(credentials.invalidations.withLock { $0 } == 1)
        #expect(stub.callCount == 2)
        let again = try FaultStub([.respond(400, FaultStub.error("ExpiredToken"))])
        defer { again.server.shutdown() }
        let error = await #expect(throws: AWSError.self) { _ = try await EC2(client: client(again, credentials: credentials)).describeInstances() }
        #expect(error?.kind == .authFailure)
        #expect(again.callCount == 2, "refreshed once, not forever")
    }

    @Test func theRetryBudgetStopsAHammering() async throws {
        let stub = try FaultStub([.respond(503, "busy")])
        defer { stub.server.shutdown() }
        let c = client(stub, retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), retryCost: 5, budget: 10))
        _ = try? await EC2(client: c).describeInstances()
        #expect(stub.callCount == 3, "two retries spent the budget of 10")
        _ = try? await EC2(client: c).describeInstances()
        #expect(stub.callCount == 4, "no budget left: one attempt, no retry")
    }
}
