@testable import ConvOpsAWS
import ConvOpsCore
import ConvOpsTestSupport
import Foundation
import Synchronization
import Testing

/// The cache's rules without AWS: an answer fetched before a change of ours is not kept, a
/// failure is shared by those waiting but not kept, and an Auto Scaling group's change
/// forgets every instance entry of its region.
@Suite struct InventoryCacheUnitTests {
    final class Counter: Sendable {
        let n = Mutex(0)
        func withLock<T>(_ body: (inout Int) -> T) -> T { n.withLock { body(&$0) } }
    }
    let calls = Counter()
    func counted(_ result: [ResourceRef] = []) -> @Sendable () async throws(AWSError) -> [ResourceRef] {
        let calls = calls
        return { () throws(AWSError) in
            calls.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(100))
            return result
        }
    }

    @Test func anAnswerFetchedBeforeAChangeIsNotKept() async throws {
        let cache = InventoryCache(ttl: 60, clock: ManualClock())
        let web = ResourceRef(kind: .ec2Instance, id: "i-1", name: "web-1", region: "eu-west-1")
        let key = "ec2-name:eu-west-1:web-1"
        let slow = Task { try await cache.resources(key, fetch: counted([web])) }
        try await Task.sleep(for: .milliseconds(20))
        cache.invalidate(web)   // our reboot lands while the lookup is on its way
        _ = try await slow.value
        _ = try await cache.resources(key, fetch: counted([web]))
        #expect(calls.withLock { $0 } == 2, "the answer from before the change was not kept")
        _ = try await cache.resources(key, fetch: counted([web]))
        #expect(calls.withLock { $0 } == 2, "the one after it was")
    }

    @Test func aFailureIsSharedByThoseWaitingButNotKept() async throws {
        let cache = InventoryCache(ttl: 60, clock: ManualClock())
        let calls = calls
        let failing: @Sendable () async throws(AWSError) -> [ResourceRef] = { () throws(AWSError) in
            calls.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(100))
            throw AWSError(kind: .throttled, operation: "DescribeInstances", code: "Throttling", message: "slow down")
        }
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { (try? await cache.resources("k", fetch: failing)) == nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 }, "every waiter got the failure")
        #expect(calls.withLock { $0 } == 1, "one call for ten questions")
        _ = try? await cache.resources("k", fetch: failing)
        #expect(calls.withLock { $0 } == 2, "the failure was not kept")
        #expect(cache.stats.shared == 9)
    }

    @Test func anAutoScalingChangeForgetsItsRegionsInstancesOnly() async throws {
        let cache = InventoryCache(ttl: 60, clock: ManualClock())
        for key in ["ec2-name:eu-west-1:web-1", "ec2-id:eu-west-1:i-1", "\(ResourceKind.ec2Instance.rawValue):eu-west-1", "ec2-name:us-east-1:web-1", "\(ResourceKind.rdsInstance.rawValue):eu-west-1"] {
            _ = try await cache.resources(key, fetch: counted())
        }
        #expect(calls.withLock { $0 } == 5)
        cache.invalidate(ResourceRef(kind: .autoScalingGroup, id: "arn:asg", name: "web-asg", region: "eu-west-1"))
        for key in ["ec2-name:eu-west-1:web-1", "ec2-id:eu-west-1:i-1", "\(ResourceKind.ec2Instance.rawValue):eu-west-1"] {
            _ = try await cache.resources(key, fetch: counted())
        }
        #expect(calls.withLock { $0 } == 8, "the region's instance entries asked again")
        _ = try await cache.resources("ec2-name:us-east-1:web-1", fetch: counted())
        _ = try await cache.resources("\(ResourceKind.rdsInstance.rawValue):eu-west-1", fetch: counted())
        #expect(calls.withLock { $0 } == 8, "another region and another kind kept")
    }
}
