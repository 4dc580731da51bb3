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
        /// The invalidation mark of a key (from one counter that only grows): an answer fetched
        /// under an older mark is not kept. Keys without a mark have `floor`, which rises when
        /// marks are pruned, so a pruned key never looks older than it was.
        var generations: [String: Int] = [:]
        var counter = 0
        var floor = 0
        func generation(_ key: String) -> Int { generations[key] ?? floor }
        mutating func mark(_ key: String) {
            counter += 1
            generations[key] = counter
            entries[key] = nil
            inFlight[key] = nil
        }
        var calls = 0
        var shared = 0
    }

    public init(ttl: TimeInterval = 60, freshTTL: TimeInterval = 3, clock: any WallClock = SystemClock()) {
        self.ttl = ttl
        self.freshTTL = min(freshTTL, ttl)
        self.clock = clock
    }

    /// The cached answer for `key` if younger than `ttl` (or `freshTTL` when `recent`), else the
    /// answer of the call already in flight for it, else a new call's (stored for next time).
    func resources(_ key: String, recent: Bool = false,
                   fetch: @escaping @Sendable () async throws(AWSError) -> [ResourceRef]) async throws(AWSError) -> [ResourceRef] {
        let now = clock.now()
        let maxAge = recent ? freshTTL : ttl
        enum Next { case hit([ResourceRef]), wait(Task<Result<[ResourceRef], AWSError>, Never>, Int, Bool) }
        let next: Next = state.withLock { s in
            if let hit = s.entries[key], now.timeIntervalSince(hit.at) < maxAge { return .hit(hit.resources) }
            let generation = s.generation(key)
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
                    if case .success(let fresh) = result, s.generation(key) == generation {
                        // Thousands of distinct names within the ttl: the old ones go rather than the table grow.
                        if s.entries.count >= Self.limit {
                            s.entries = s.entries.filter { now.timeIntervalSince($0.value.at) < self.ttl }
                            if s.entries.count >= Self.limit { s.entries.removeAll() }
                        }
                        if s.generations.count >= Self.limit {
                            s.floor = s.counter
                            s.generations.removeAll()
                        }
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
            for key in Set(s.entries.keys).union(s.inFlight.keys) { s.mark(key) }
        }
    }

    /// Forget what a change to `resource` may have made wrong: its own entries (by id, by
    /// name) and its kind's listing in its region. Other kinds and places stay. An Auto
    /// Scaling group's change forgets every instance entry of its region too (it starts and
    /// ends instances).
    public func invalidate(_ resource: ResourceRef) {
        var keys = ["\(resource.kind.rawValue):\(resource.region)"]
        if resource.kind == .ec2Instance {
            keys.append("ec2-id:\(resource.region):\(resource.id)")
            if let name = resource.name { keys.append("ec2-name:\(resource.region):\(name)") }
        }
        state.withLock { s in
            if resource.kind == .autoScalingGroup {
                let instanceKeys = ["ec2-id:\(resource.region):", "ec2-name:\(resource.region):"]
                keys += Set(s.entries.keys).union(s.inFlight.keys).filter { key in instanceKeys.contains { key.hasPrefix($0) } }
                keys.append("\(ResourceKind.ec2Instance.rawValue):\(resource.region)")
            }
            for key in keys { s.mark(key) }
        }
    }

    /// Entries (and invalidation marks) kept at most.
    static let limit = 20_000

    public var count: Int { state.withLock { $0.entries.count } }
    /// Calls made to AWS through the cache, and questions that shared one already in flight.
    public var stats: (calls: Int, shared: Int) { state.withLock { ($0.calls, $0.shared) } }
}
