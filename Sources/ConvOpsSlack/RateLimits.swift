import Foundation

/// Where Slack said "not now" (HTTP 429 with Retry-After), by queue key: a method
/// (`chat.update`) or a method in one channel (`chat.postMessage#C123`). Pure: times are
/// seconds on a monotonic clock.
public struct RateLimitState: Sendable, Hashable {
    private var until: [String: Double] = [:]

    public init() {}

    /// How long a call on these keys must still wait (0 when it may go now).
    public func wait(_ keys: [String], now: Double) -> Double {
        keys.compactMap { until[$0] }.map { max(0, $0 - now) }.max() ?? 0
    }

    /// Slack limited a call on `keys` for `retryAfter` seconds.
    public mutating func limited(_ keys: [String], retryAfter: Double, now: Double) {
        let wait = Self.bounded(retryAfter)
        for key in keys { until[key] = max(until[key] ?? 0, now + wait) }
    }

    /// The longest wait a Retry-After may impose: Slack asks for seconds to a minute; a larger,
    /// negative, infinite or unreadable value is a broken or hostile answer, not a reason to
    /// stall a channel's queue for days (or to trap converting it to an integer).
    public static let longestWait = 300.0

    /// A `Retry-After` header as seconds to wait, within 0…`longestWait`; 1 when absent or
    /// unreadable (Slack documents whole seconds).
    public static func retryAfter(_ header: String?) -> Double {
        bounded(header.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 1)
    }

    /// `seconds` within 0…`longestWait`; NaN is 1.
    public static func bounded(_ seconds: Double) -> Double {
        guard !seconds.isNaN else { return 1 }
        return min(longestWait, max(0, seconds))
    }

    /// Forgets limits that are over.
    public mutating func prune(now: Double) { until = until.filter { $0.value > now } }
}
