@testable import ConvOpsHTTP
import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Synchronization
import Testing

/// curl's blocking transfers run on threads of their own, so they never take the threads that
/// Swift's tasks run on.
@Suite struct TransferThreadsTests {
    /// The server answers from a task. When the transfers waiting for those answers ran on the
    /// dispatch pool (which tasks share on Linux), 32 of them left no thread for the tasks, and
    /// every request waited out curl's timeout.
    @Test func manyTransfersWaitingOnTasksAllGetTheirAnswer() async throws {
        let server = try WebServer(http: { request in
            await Task.yield()
            return HTTPServerResponse(contentType: "text/plain", body: request.bodyText)
        })
        defer { server.shutdown() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(5), totalTimeout: .seconds(20),
                                                                       egress: EgressPolicy(allowedHosts: [], allowLoopback: true)),
                                logger: .quiet)
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<48 {
                group.addTask {
                    try await client.execute(HTTPRequest(method: .post, url: "http://127.0.0.1:\(server.port)/echo",
                                                         body: Data("request \(i)".utf8))).bodyText
                }
            }
            var out: Set<String> = []
            for try await body in group { out.insert(body) }
            return out
        }
        #expect(bodies == Set((0..<48).map { "request \($0)" }))
        #expect(TransferThreads.shared.counts.threads <= TransferThreads.shared.limit)
    }

    /// At most `limit` run at once; the rest wait their turn and all of them run.
    @Test func workBeyondTheLimitWaitsItsTurn() async throws {
        let threads = TransferThreads(limit: 3)
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<10 {
            threads.run {
                let now = running.add(1, ordering: .relaxed).newValue
                _ = most.max(now, ordering: .relaxed)
                release.wait()
                running.subtract(1, ordering: .relaxed)
                done.add(1, ordering: .relaxed)
            }
        }
        // Three are running and seven wait: let them through one at a time.
        let deadline = ContinuousClock.now + .seconds(30)
        while running.load(ordering: .relaxed) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let runningNow3 = running.load(ordering: .relaxed)
        #expect(runningNow3 == 3)
        for _ in 0..<10 { release.signal() }
        while done.load(ordering: .relaxed) < 10, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let doneNow10 = done.load(ordering: .relaxed)
        #expect(doneNow10 == 10)
        let mostNow3 = most.load(ordering: .relaxed)
        #expect(mostNow3 == 3)
        #expect(threads.counts.threads == 3)
        // Once the queue is empty the threads wait for more, and take it.
        while threads.counts.idle < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(threads.counts.idle == 3)
        let again = Atomic<Bool>(false)
        threads.run { again.store(true, ordering: .relaxed) }
        while !again.load(ordering: .relaxed), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let ranAgain = again.load(ordering: .relaxed)
        #expect(ranAgain)
        #expect(threads.counts.threads == 3)
    }
}
