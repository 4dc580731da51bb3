import Foundation

/// Where logic reads the time. Nothing in the domain calls `Date()` itself, so expiry and
/// backoff are tested by moving a manual clock, not by sleeping.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
