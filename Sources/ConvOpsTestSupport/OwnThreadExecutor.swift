import Foundation
import Synchronization

/// A task executor with one thread of its own. CPU-bound tests run their tasks here, not on
/// Swift's cooperative pool, which has only two threads on a 2-core machine: a fuzz holding
/// both for a minute starves every loopback server and HTTP client of the tests running at
/// the same time (seen on a fresh clone: ten of them timed out).
public final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched under its Mutex; the thread is started once in init.
    public static let shared = OwnThreadExecutor()

    private let jobs = Mutex<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "convops-test-cpu"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        ready.signal()
    }

    private func loop() {
        while true {
            ready.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `body` with its tasks on `OwnThreadExecutor`.
public func onOwnThread<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(OwnThreadExecutor.shared) { try await body() }
}
