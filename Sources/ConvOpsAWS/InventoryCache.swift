import ConvOpsCore
import Foundation
import Synchronization

/// What the resolver last learned from AWS, for a short while: which instances answer to a
/// name, and which names exist in a region (for "did you mean"). Planning from it is fast;
/// status questions take only an answer a few seconds old. Identical questions asked at the
/// same time share one call to AWS (single flight). A change we make forgets only what it
/// touched: the resource's own entries and its kind's listing in its region.
public final class InventoryCache: Sendable {
    public let ttl: TimeInterval
    /// How old an answer a status question takes: the state of now, give or take a moment.
    public let freshTTL: TimeInterval
    private let clock: any WallClock
    private let state = Mutex(State())

    struct State {
        var entries: [String: (at: Date, resources: [ResourceRef])] = [:]
        var inFlight: [String: (generation: Int, task: Task<Result<[ResourceRef], AWSError>, Never>)] = [:]
        /// Bumped by every invalidation of a key: an answer fetched before it is not kept.
        var generations: [String: Int] = [:]
        var calls = 0
        var shared = 0
    }

    public init(ttl: TimeInterval = 60, freshTTL: TimeInterval = 3, clock: any WallClock = SystemClock()) {
        self.ttl = ttl
        self.freshTTL = min(freshTTL, ttl)
        self.clock = clock
    }

    /// The cached answer for `key` if younger than `ttl` (or `freshTTL` when `fresh`), else the
    /// answer of the call already in flight for it, else a new call's (stored for next time).
    func resources(_ key: String, fresh: Bool = false,
                   fetch: @escaping @Sendable () async throws(AWSError) -> [ResourceRef]) async throws(AWSError) -> [ResourceRef] {
        let now = clock.now()
        let maxAge = fresh ? freshTTL : ttl
        enum Next { case hit([ResourceRef]), wait(Task<Result<[ResourceRef], AWSError>, Never>, Int, Bool) }
        let next: Next = state.withLock { s in
            if let hit = s.entries[key], now.timeIntervalSince(hit.at) < maxAge { return .hit(hit.resources) }
            let generation = s.generations[key, default: 0]
            if let flight = s.inFlight[key], flight.generation == generation {
                s.shared += 1
                return .wait(flight.task, generation, false)
            }
            s.calls += 1
            let task = Task { () async -> Result<[ResourceRef], AWSError> in
                do throws(AWSError) { return .success(try await fetch()) } catch { return .failure(error) }
            }
            s.inFlight[key] = (generation, task)
            return .wait(task, generation, true)
        }
        switch next {
        case .hit(let resources):
            return resources
        case .wait(let task, let generation, let owner):
            let result = await task.value
            if owner {
                state.withLock { s in
                    if s.inFlight[key]?.generation == generation { s.inFlight[key] = nil }
                    // Not kept if something we changed touched it meanwhile.
                    if case .success(let fresh) = result, s.generations[key, default: 0] == generation {
                        // Thousands of distinct names within the ttl: the old ones go rather than the table grow.
                        if s.entries.count >= Self.limit {
                            s.entries = s.entries.filter { now.timeIntervalSince($0.value.at) < self.ttl }
                            if s.entries.count >= Self.limit { s.entries.removeAll() }
                        }
                        if s.generations.count >= Self.limit { s.generations = s.generations.filter { s.inFlight[$0.key] != nil } }
                        s.entries[key] = (now, fresh)
                    }
                }
            }
            return try result.get()
        }
    }

    /// Forget everything.
    public func invalidate() {
        state.withLock { s in
            for key in Set(s.entries.keys).union(s.inFlight.keys) { s.generations[key, default: 0] += 1 }
            s.entries.removeAll()
            s.inFlight.removeAll()
        }
    }

    /// Forget what a change to `resource` may have made wrong: its own entries (by id, by
    /// name) and its kind's listing in its region. Other kinds and places stay.
    public func invalidate(_ resource: ResourceRef) {
        var keys = ["\(resource.kind.rawValue):\(resource.region)"]
        if resource.kind == .ec2Instance {
            keys.append("ec2-id:\(resource.region):\(resource.id)")
            if let name = resource.name { keys.append("ec2-name:\(resource.region):\(name)") }
        }
        state.withLock { s in
            for key in keys {
                s.generations[key, default: 0] += 1
                s.entries[key] = nil
                s.inFlight[key] = nil
            }
        }
    }

    /// Entries (and invalidation marks) kept at most.
    static let limit = 20_000

    public var count: Int { state.withLock { $0.entries.count } }
    /// Calls made to AWS through the cache, and questions that shared one already in flight.
    public var stats: (calls: Int, shared: Int) { state.withLock { ($0.calls, $0.shared) } }
}
