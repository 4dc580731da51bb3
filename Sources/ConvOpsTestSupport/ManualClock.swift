import ConvOpsCore
import Foundation

/// A clock tests move by hand.
public final class ManualClock: WallClock, @unchecked Sendable {
    // Guarded by `lock`: tests advance it from one task while the code under test reads it.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}
