import Foundation
import Synchronization

/// How calls are retried: jittered exponential backoff ("full jitter"), a cap per call, and a
/// budget shared by all calls so a failing AWS is not hammered (the SDKs' standard retry mode).
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Each retry spends this much of the shared budget; each success gives one back.
    public var retryCost: Int
    public var budget: Int

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5),
                retryCost: Int = 5, budget: Int = 500) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retryCost = retryCost
        self.budget = budget
    }

    /// The wait before retry number `attempt` (1-based): uniform in [0, min(max, base·2^attempt)].
    func delay(attempt: Int, using rng: inout some RandomNumberGenerator) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(0, nanos), using: &rng))
    }
}

/// The shared retry budget: tokens spent by retries and refilled by successes.
final class RetryBudget: Sendable {
    private let tokens: Mutex<Int>
    private let capacity: Int

    init(_ capacity: Int) {
        tokens = Mutex(capacity)
        self.capacity = capacity
    }

    /// Takes `cost` tokens if there are that many.
    func spend(_ cost: Int) -> Bool {
        tokens.withLock { t in
            guard t >= cost else { return false }
            t -= cost
            return true
        }
    }

    func refund(_ amount: Int) { tokens.withLock { $0 = min(capacity, $0 + amount) } }
}

extension AWSError {
    /// Whether retrying could help and cannot act twice. A mutating call that timed out or lost
    /// its connection may have been carried out: it is never retried blindly.
    func retryable(idempotent: Bool) -> Bool {
        switch kind {
        case .throttled, .serviceUnavailable: true
        case .network: idempotent || networkNeverReached
        default: false
        }
    }

    /// The request never reached AWS (DNS or connect failed), so retrying cannot do it twice.
    var networkNeverReached: Bool { kind == .network && message.contains("could not connect") }
}
