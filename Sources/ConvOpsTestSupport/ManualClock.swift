import ConvOpsCore
import Foundation

/// A clock tests move by hand: a wall clock for timestamps, and (`sleeps`) a `Clock` whose
/// sleepers wake only when the test advances past their deadline. An hour of expiry takes
/// no real time.
public final class ManualClock: WallClock, @unchecked Sendable {
    // Guarded by `lock`: tests advance it from one task while the code under test reads it and sleeps on it.
    private let lock = NSLock()
    private var current: Date
    private var elapsed: Duration = .zero
    private var sleepers: [UInt64: (deadline: Duration, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var cancelled: Set<UInt64> = []
    private var nextSleeper: UInt64 = 0

    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) { advance(by: Duration.nanoseconds(Int64((seconds * 1e9).rounded()))) }

    /// Moves both times on and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            elapsed += duration
            current = current.addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            let ready = sleepers.filter { $0.value.deadline <= elapsed }
            for id in ready.keys { sleepers[id] = nil }
            return ready.values.sorted { $0.deadline < $1.deadline }.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// How many tasks sleep on the clock now.
    public var sleeping: Int { lock.withLock { sleepers.count } }

    /// Waits (in real time, at most `timeout`) until `n` tasks sleep on the clock: a test's way
    /// to know the code under test has reached its wait before moving time on.
    public func waitForSleepers(_ n: Int = 1, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while sleeping < n {
            guard ContinuousClock.now < deadline else { throw ClockError.noSleepers(expected: n, found: sleeping) }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    public enum ClockError: Error { case noSleepers(expected: Int, found: Int) }

    /// The same time as a `Clock`, for code that sleeps.
    public var sleeps: Sleeps { Sleeps(owner: self) }

    public struct Sleeps: Clock, Sendable {
        public struct Instant: InstantProtocol, Sendable {
            public var offset: Duration
            public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
            public func duration(to other: Instant) -> Duration { other.offset - offset }
            public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
        }

        let owner: ManualClock
        public var now: Instant { Instant(offset: owner.lock.withLock { owner.elapsed }) }
        public var minimumResolution: Duration { .zero }

        public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
            try await owner.sleep(until: deadline.offset)
        }
    }

    private func sleep(until deadline: Duration) async throws {
        let id = lock.withLock { () -> UInt64 in
            nextSleeper += 1
            return nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wake, cancel, wait }
                let now = lock.withLock { () -> Now in
                    if cancelled.remove(id) != nil { return .cancel }
                    if deadline <= elapsed { return .wake }
                    sleepers[id] = (deadline, continuation)
                    return .wait
                }
                switch now {
                case .wake: continuation.resume()
                case .cancel: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let sleeper = lock.withLock { () -> CheckedContinuation<Void, any Error>? in
                guard let s = sleepers.removeValue(forKey: id) else {
                    cancelled.insert(id)
                    return nil
                }
                return s.continuation
            }
            sleeper?.resume(throwing: CancellationError())
        }
    }
}
