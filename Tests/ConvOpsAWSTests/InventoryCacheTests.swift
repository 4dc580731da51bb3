import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation
import Testing

/// The resolver's inventory cache against moto: warm lookups ask AWS nothing, our own
/// mutations forget what they touched, the TTL the rest, status questions take only an answer
/// a few seconds old, and identical questions at once share one call.
@Suite(.serialized) struct InventoryCacheTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// An AWS client for `moto`, and the HTTP client under it.
    static func client(_ moto: MotoServer) -> (HTTPClient, AWSClient) {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let client = AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                               http: http, logger: .quiet)
        return (http, client)
    }

    @Test func warmLookupsAskAWSNothingUntilWeChangeSomethingOrTheTTLPasses() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: Self.root)
        let (http, client) = Self.client(moto)
        let clock = ManualClock()
        let cache = InventoryCache(ttl: 60, clock: clock)
        let resolver = ResourceResolver(ec2: EC2(client: client), region: "eu-west-1", inventory: cache, logger: .quiet)
        func describes() async throws -> Int { try await moto.recordedBodies().filter { $0.contains("Action=DescribeInstances") }.count }

        try await moto.startRecording()
        guard case .found(let web1) = try await resolver.resolve(ResourceMention("web-1")) else { Issue.record("web-1 not found"); return }
        #expect(try await describes() == 1)
        _ = try await resolver.resolve(ResourceMention("web-1"))
        _ = try await resolver.resolve(ResourceMention("web-1"))
        #expect(try await describes() == 1, "warm: no more calls")
        // A near miss is answered from the cached list of names the second time.
        guard case .notFound(let near) = try await resolver.resolve(ResourceMention("web1")) else { Issue.record("web1 resolved"); return }
        #expect(near.first == "web-1")
        let afterNearMiss = try await describes()
        _ = try await resolver.resolve(ResourceMention("web1"))
        #expect(try await describes() == afterNearMiss)

        // Status questions want the state of now: an answer at most a few seconds old.
        _ = try await resolver.resolve(ResourceMention("web-1"), recent: true)
        #expect(try await describes() == afterNearMiss, "the lookup of a moment ago is enough")
        clock.advance(by: 4)
        _ = try await resolver.resolve(ResourceMention("web-1"), recent: true)
        #expect(try await describes() == afterNearMiss + 1)
        // A change is planned on what AWS says now: never the cache.
        _ = try await resolver.resolve(ResourceMention("web-1"), fresh: true)
        #expect(try await describes() == afterNearMiss + 2)

        // Our own reboot forgets what it touched: web-1 and the instance listing, not the other kinds.
        func listings() async throws -> Int {
            try await moto.recordedBodies().filter { $0.contains("Action=DescribeDBInstances") || $0.contains("\"cluster\"") || $0.contains("Action=DescribeAutoScalingGroups") }.count
        }
        let before = try await listings()
        let plan = Plan(action: .rebootInstance, resource: web1, risk: .mutating,
                        apiCalls: Executor.apiCalls(for: .rebootInstance, resource: web1))
        let outcome = await Executor(client: client, inventory: cache).execute(plan)
        #expect(outcome.succeeded)
        _ = try await resolver.resolve(ResourceMention("web-1"))
        #expect(try await describes() == afterNearMiss + 3)
        #expect(try await listings() == before, "ECS, RDS and Auto Scaling not asked again")

        // And time forgets all of it.
        clock.advance(by: 61)
        _ = try await resolver.resolve(ResourceMention("web-1"))
        #expect(try await describes() == afterNearMiss + 4)

        // A region that is not a region never becomes part of a host name.
        for hostile in ["arn:aws:ec2:x@evil.example.com/:123456789012:instance/i-0123456789abcdef0",
                        "arn:aws:ecs:eu-west-1.evil.example:123456789012:service/apps/api"] {
            guard case .notFound = try await resolver.resolve(ResourceMention(hostile)) else { Issue.record("\(hostile) resolved"); continue }
        }
        #expect(ResourceResolver.isRegion("eu-west-1") && ResourceResolver.isRegion("us-gov-west-1"))
        #expect(!ResourceResolver.isRegion("x@evil.example.com/") && !ResourceResolver.isRegion("eu-west-1.evil"))
        let smuggled = HTTPRequest(url: "https://ec2.x@evil.example.com/.amazonaws.com/")
        await #expect { _ = try await http.execute(smuggled) } throws: { "\($0)".contains("user information") }
    }

    /// A burst of questions at once, mostly about names that do not exist: one call per
    /// distinct name, however many ask (and the listings once), not one per question.
    @Test func identicalQuestionsAtOnceShareOneCall() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: Self.root)
        let (_, client) = Self.client(moto)
        let cache = InventoryCache(ttl: 60, clock: ManualClock())
        let resolver = ResourceResolver(ec2: EC2(client: client), region: "eu-west-1", inventory: cache, logger: .quiet)
        try await moto.startRecording()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask { _ = try? await resolver.resolve(ResourceMention("web-\(100 + i % 5)"), recent: i % 2 == 0) }
            }
        }
        let bodies = try await moto.recordedBodies()
        let byName = bodies.filter { $0.contains("Action=DescribeInstances") && ($0.contains("tag%3AName") || $0.contains("tag:Name")) }
        #expect(byName.count == 5, "one lookup per distinct name: \(byName.count)")
        #expect(bodies.filter { $0.contains("Action=DescribeDBInstances") }.count == 1, "the RDS listing once")
        #expect(cache.stats.shared > 0)
        #expect(bodies.count < 40, "\(bodies.count) calls for 200 questions")
    }
}
