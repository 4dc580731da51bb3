import ConvOpsCore
import Foundation

/// How much one person, and everyone together, may ask of ConvOps at once: a person's
/// requests in flight, their requests per minute, and all requests in flight. One person
/// typing fast (or a script) cannot flood AWS or the process; they are told to wait.
public struct Admission: Sendable {
    public struct Limits: Sendable {
        /// Messages and clicks of one person being worked on at once.
        public var perPersonInFlight = 3
        /// Messages and clicks of one person per rolling minute.
        public var perPersonPerMinute = 30
        /// Messages and clicks being worked on, of everyone.
        public var inFlight = 64
        /// The longest message read, in characters.
        public var messageLength = 1_000

        public init() {}
    }

    enum Refusal: Sendable, Hashable {
        case busy(Int)
        case rate(Int, retryAfter: Int)
        case full(Int)
    }

    let limits: Limits
    private var inFlight: [String: Int] = [:]
    private var total = 0
    private var recent: [String: [Date]] = [:]

    init(limits: Limits = Limits()) { self.limits = limits }

    /// Lets `person` in now, or says why not. Every admission is followed by one `leave`.
    mutating func enter(_ person: String, now: Date) -> Refusal? {
        guard total < limits.inFlight else { return .full(limits.inFlight) }
        guard inFlight[person, default: 0] < limits.perPersonInFlight else { return .busy(limits.perPersonInFlight) }
        var times = (recent[person] ?? []).filter { now.timeIntervalSince($0) < 60 }
        if times.count >= limits.perPersonPerMinute, let oldest = times.first {
            recent[person] = times
            return .rate(limits.perPersonPerMinute, retryAfter: max(1, Int((60 - now.timeIntervalSince(oldest)).rounded(.up))))
        }
        times.append(now)
        recent[person] = times
        inFlight[person, default: 0] += 1
        total += 1
        return nil
    }

    mutating func leave(_ person: String) {
        total = max(0, total - 1)
        let left = inFlight[person, default: 1] - 1
        inFlight[person] = left > 0 ? left : nil
        // Forget people who have been quiet for a minute, so the table stays small.
        if recent.count > 10_000, let newest = recent.values.compactMap(\.last).max() {
            recent = recent.filter { newest.timeIntervalSince($0.value.last ?? .distantPast) < 60 }
        }
    }
}
