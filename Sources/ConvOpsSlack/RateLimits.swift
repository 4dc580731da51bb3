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
        for key in keys { until[key] = max(until[key] ?? 0, now + retryAfter) }
    }

    /// Forgets limits that are over.
    public mutating func prune(now: Double) { until = until.filter { $0.value > now } }
}
