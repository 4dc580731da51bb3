import Foundation

/// Threads of our own for libcurl's blocking transfers, at most `limit` of them, work beyond
/// that waiting its turn in order. A thread with nothing to do for `idleExit` ends.
///
/// Not the dispatch pool: on Linux, Swift's tasks run on the same few threads as
/// `DispatchQueue.global()`, so transfers blocked there, waiting for a peer, left no thread
/// for the tasks that would answer them or do anything else. Measured with the webhook
/// server answering from a task and 32 clients posting through this client: every request
/// stalled until curl's 30 s timeout; on threads of our own, p99 11 ms (`BENCH_MODE=async
/// convops-bench whatsapp`).
///
/// `@unchecked Sendable`: every stored `var` is read and written under `condition`.
final class TransferThreads: @unchecked Sendable {
    static let shared = TransferThreads(limit: 16)

    let limit: Int
    let idleExit: Duration
    private let condition = NSCondition()
    private var queue: [(@Sendable () -> Void)?] = []
    private var next = 0
    private var threads = 0
    private var idle = 0

    init(limit: Int, idleExit: Duration = .seconds(60)) {
        precondition(limit > 0)
        self.limit = limit
        self.idleExit = idleExit
    }

    /// Runs `work` on one of the threads, now if one is free, else when one is.
    func run(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        // `idle` counts threads that wait, signalled or not: while there is more work waiting
        // than threads that will wake for it, add one (a signal to a thread already signalled
        // would be lost, and the work would wait behind whatever that thread takes first).
        if queue.count - next > idle, threads < limit {
            threads += 1
            let thread = Thread { [self] in serve() }
            thread.name = "convops.http"
            thread.start()
        }
        if idle > 0 { condition.signal() }
        condition.unlock()
    }

    /// How many threads there are, how many wait for work, and how much work waits for them.
    var counts: (threads: Int, idle: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (threads, idle, queue.count - next)
    }

    private func serve() {
        condition.lock()
        while true {
            while next == queue.count {
                idle += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: Double(idleExit.components.seconds)
                                                        + Double(idleExit.components.attoseconds) / 1e18))
                idle -= 1
                if !woken, next == queue.count {
                    threads -= 1
                    condition.unlock()
                    return
                }
            }
            let work = queue[next]!
            // Taken work is dropped at once (it holds a request and its continuation), and the
            // array is compacted as it goes, not only when it empties, which under steady load
            // it may never do.
            queue[next] = nil
            next += 1
            if next == queue.count {
                queue.removeAll(keepingCapacity: true)
                next = 0
            } else if next >= 64, next * 2 >= queue.count {
                queue.removeFirst(next)
                next = 0
            }
            condition.unlock()
            work()
            condition.lock()
        }
    }
}
