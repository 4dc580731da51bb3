import ConvOpsCore
import Foundation
import Synchronization

/// What the resolver last learned from AWS, for a short while: which instances answer to a
/// name, and which names exist in a region (for "did you mean"). Planning from it is fast;
/// anything we change ourselves clears it, and status questions always ask AWS afresh.
public final class InventoryCache: Sendable {
    public let ttl: TimeInterval
    private let clock: any WallClock
    private let entries = Mutex([String: (at: Date, resources: [ResourceRef])]())

    public init(ttl: TimeInterval = 60, clock: any WallClock = SystemClock()) {
        self.ttl = ttl
        self.clock = clock
    }

    /// The cached answer for `key`, or the fresh one from `fetch` (stored for next time).
    func resources(_ key: String, fetch: () async throws(AWSError) -> [ResourceRef]) async throws(AWSError) -> [ResourceRef] {
        let now = clock.now()
        if let hit = entries.withLock({ $0[key] }), now.timeIntervalSince(hit.at) < ttl { return hit.resources }
        let fresh = try await fetch()
        entries.withLock { $0[key] = (now, fresh) }
        return fresh
    }

    /// Forget everything (after a mutation of ours: states and even names may have changed).
    public func invalidate() { entries.withLock { $0.removeAll() } }

    public var count: Int { entries.withLock { $0.count } }
}
