@testable import ConvOpsHTTP
import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Synchronization
import Testing

/// Polls until `condition` holds, for up to 30 s (what is asserted comes after).
private func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
}

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
    }

    /// At most `limit` run at once; the rest wait their turn and all of them run.
    @Test func workBeyondTheLimitWaitsItsTurn() async throws {
        let threads = TransferThreads(limit: 3, idleExit: .seconds(600))
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
        try await eventually { running.load(ordering: .relaxed) >= 3 }
        let runningNow3 = running.load(ordering: .relaxed)
        #expect(runningNow3 == 3)
        for _ in 0..<10 { release.signal() }
        try await eventually { done.load(ordering: .relaxed) >= 10 }
        let doneNow10 = done.load(ordering: .relaxed)
        #expect(doneNow10 == 10)
        let mostNow3 = most.load(ordering: .relaxed)
        #expect(mostNow3 == 3)
        #expect(threads.counts.threads == 3)
        // Once the queue is empty the threads wait for more, and take it.
        try await eventually { threads.counts.idle >= 3 }
        #expect(threads.counts.idle == 3)
        let again = Atomic<Bool>(false)
        threads.run { again.store(true, ordering: .relaxed) }
        try await eventually { again.load(ordering: .relaxed) }
        let ranAgain = again.load(ordering: .relaxed)
        #expect(ranAgain)
        #expect(threads.counts.threads == 3)
    }

    /// A thread waiting for work counts once: work queued faster than it wakes starts more
    /// threads (a second signal to the same thread was lost, and the work waited behind
    /// whatever that thread took first).
    @Test func workQueuedWhileAThreadIsIdleStartsMoreThreads() async throws {
        // Threads stay while the test runs: a loaded machine may take seconds to poll.
        let threads = TransferThreads(limit: 3, idleExit: .seconds(600))
        let warmed = Atomic<Bool>(false)
        threads.run { warmed.store(true, ordering: .relaxed) }
        try await eventually { warmed.load(ordering: .relaxed) && threads.counts.idle == 1 }
        #expect(threads.counts == (threads: 1, idle: 1, waiting: 0))
        let running = Atomic<Int>(0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<3 {
            threads.run {
                running.add(1, ordering: .relaxed)
                release.wait()
            }
        }
        try await eventually { running.load(ordering: .relaxed) >= 3 }
        let all = running.load(ordering: .relaxed)
        #expect(all == 3)
        for _ in 0..<3 { release.signal() }
    }

    /// Work waits in the order it came, and threads with nothing to do end.
    @Test func workRunsInOrderAndIdleThreadsEnd() async throws {
        let threads = TransferThreads(limit: 1, idleExit: .milliseconds(200))
        let order = Mutex<[Int]>([])
        let gate = DispatchSemaphore(value: 0)
        threads.run { gate.wait() }
        for i in 0..<20 { threads.run { order.withLock { $0.append(i) } } }
        // The one thread holds the gate (once it has taken it); the twenty wait behind it.
        try await eventually { threads.counts.waiting <= 20 }
        #expect(threads.counts.waiting == 20)
        gate.signal()
        try await eventually { order.withLock({ $0.count }) >= 20 }
        #expect(order.withLock { $0 } == Array(0..<20))
        try await eventually { threads.counts.threads == 0 }
        #expect(threads.counts.threads == 0)
        // A pool whose threads ended starts one again for new work.
        let again = Atomic<Bool>(false)
        threads.run { again.store(true, ordering: .relaxed) }
        try await eventually { again.load(ordering: .relaxed) }
        let ranAgain = again.load(ordering: .relaxed)
        #expect(ranAgain)
    }

    /// Time spent waiting for a thread counts against the request's time; a request cancelled
    /// while it waits is never sent.
    @Test func queuedRequestsKeepTheirDeadlineAndTheirCancellation() async throws {
        let hits = Atomic<Int>(0)
        let server = try WebServer(immediateHTTP: { _ in
            hits.add(1, ordering: .relaxed)
            return HTTPServerResponse(contentType: "text/plain", body: "ok")
        })
        defer { server.shutdown() }
        let pool = TransferThreads(limit: 1, idleExit: .seconds(600))
        let gate = DispatchSemaphore(value: 0)
        let held = Atomic<Bool>(false)
        pool.run {
            held.store(true, ordering: .relaxed)
            gate.wait()
        }
        // The one thread holds the gate before anything is queued behind it.
        try await eventually { held.load(ordering: .relaxed) }
        let client = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(5), totalTimeout: .milliseconds(300),
                                                                       egress: EgressPolicy(allowedHosts: [], allowLoopback: true)),
                                logger: .quiet, threads: pool)
        let url = "http://127.0.0.1:\(server.port)/ping"
        let late = Task { try await client.execute(HTTPRequest(url: url)) }
        let cancelled = Task { try await client.execute(HTTPRequest(url: url, timeout: .seconds(20))) }
        try await eventually { pool.counts.waiting >= 2 }
        cancelled.cancel()
        try await Task.sleep(for: .milliseconds(600))
        gate.signal()
        let lateError = await #expect(throws: HTTPError.self) { try await late.value }
        // Never sent: said as never reached, which callers may send again.
        #expect(lateError?.kind == .connectFailed)
        #expect(lateError?.detail.hasPrefix("not sent: no transfer thread was free") == true)
        let cancelError = await #expect(throws: HTTPError.self) { try await cancelled.value }
        #expect(cancelError?.kind == .cancelled)
        let sent = hits.load(ordering: .relaxed)
        #expect(sent == 0)
        // With a free thread the same client's request goes through.
        let response = try await client.execute(HTTPRequest(url: url, timeout: .seconds(20)))
        #expect(response.bodyText == "ok")
    }
}
