import Foundation

/// Threads of our own for libcurl's blocking transfers, at most `limit` of them, work beyond
/// that waiting its turn in order.
///
/// Not the dispatch pool: on Linux, Swift's tasks run on the same few threads as
/// `DispatchQueue.global()`, so transfers blocked there, waiting for a peer, left no thread
/// for the tasks that would answer them or do anything else. Measured with the webhook
/// server answering from a task and 32 clients posting through this client: every request
/// stalled until curl's 30 s timeout; on threads of our own, p99 11 ms (`BENCH_MODE=async
/// convops-bench whatsapp`).
///
/// `@unchecked Sendable`: every stored property is read and written under `condition`.
final class TransferThreads: @unchecked Sendable {
    static let shared = TransferThreads(limit: 16)

    let limit: Int
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var next = 0
    private var threads = 0
    private var idle = 0

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// Runs `work` on one of the threads, now if one is free, else when one is.
    func run(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        if idle > 0 {
            condition.signal()
        } else if threads < limit {
            threads += 1
            let thread = Thread { [self] in serve() }
            thread.name = "convops.http"
            thread.start()
        }
        condition.unlock()
    }

    /// How many threads there are, and how many of them wait for work.
    var counts: (threads: Int, idle: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (threads, idle)
    }

    private func serve() {
        condition.lock()
        while true {
            while next == queue.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let work = queue[next]
            next += 1
            if next == queue.count {
                queue.removeAll(keepingCapacity: true)
                next = 0
            }
            condition.unlock()
            work()
            condition.lock()
        }
    }
}
