@testable import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation
import Testing

/// The search across places when one of them cannot be reached: what was found elsewhere is
/// still found, and the place that could not be searched is named with its error.
@Suite(.serialized) struct ResourceSearchTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)

    static func place(_ endpoint: String, account: String?, accountID: String? = nil, region: String = "eu-west-1",
                      regions: [String]? = nil) -> SearchPlace {
        let client = AWSClient(configuration: AWSConfiguration(region: region, endpoint: endpoint),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                               http: http, retry: RetryPolicy(maxAttempts: 1), logger: .quiet)
        return SearchPlace(client: client, region: region, account: account, accountID: accountID, allowedRegions: regions)
    }

    @Test func anUnreachablePlaceIsNamedAndTheRestStillAnswers() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: Self.root)
        let dead = "http://127.0.0.1:\(try FreePort.pick())"
        let search = ResourceSearch(places: [Self.place(moto.endpoint, account: "prod"), Self.place(dead, account: "broken")])

        let found = await search.resolve(ResourceMention("web-1"))
        guard case .found(let ref) = found.resolution else { Issue.record("web-1: \(found.resolution)"); return }
        #expect(ref.account == "prod" && ref.name == "web-1" && ref.region == "eu-west-1")
        #expect(found.unsearched.map(\.place) == ["broken/eu-west-1"])
        #expect(found.unsearched.first?.error.kind == .network)

        #expect(found.searched == ["prod/eu-west-1"])

        // Nothing by that name where we could look: near misses from there, the gap named.
        let missing = await search.resolve(ResourceMention("web1"))
        #expect(missing.resolution == .notFound(nearMisses: ["web-1", "web-2"]))
        #expect(missing.unsearched.count == 1)

        // No place answers at all: nothing searched, every place named with its error.
        let none = await ResourceSearch(places: [Self.place(dead, account: "broken"), Self.place(dead, account: "gone")])
            .resolve(ResourceMention("web-1"))
        #expect(none.searched.isEmpty && none.resolution == .notFound(nearMisses: []))
        #expect(none.unsearched.map(\.place) == ["broken/eu-west-1", "gone/eu-west-1"])
    }

    @Test func anARNIsLookedUpOnlyInItsAccountAndRegion() {
        let places = [
            Self.place("http://127.0.0.1:1", account: "prod", accountID: "111111111111", region: "eu-west-1", regions: ["eu-west-1", "eu-central-1"]),
            Self.place("http://127.0.0.1:1", account: "prod", accountID: "111111111111", region: "eu-central-1", regions: ["eu-west-1", "eu-central-1"]),
            Self.place("http://127.0.0.1:1", account: "staging", accountID: "222222222222", region: "eu-west-1", regions: ["eu-west-1"]),
        ]
        let search = ResourceSearch(places: places)
        func labels(_ text: String) -> [String] { search.places(for: ResourceMention(text)).map(\.label) }
        #expect(labels("arn:aws:ec2:eu-central-1:111111111111:instance/i-0123456789abcdef0") == ["prod/eu-central-1"])
        #expect(labels("arn:aws:ec2:eu-west-1:222222222222:instance/i-0123456789abcdef0") == ["staging/eu-west-1"])
        // A region the account is not configured for: nowhere to look.
        #expect(labels("arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0").isEmpty)
        #expect(labels("arn:aws:ec2:eu-west-1:999999999999:instance/i-0123456789abcdef0").isEmpty)
        #expect(labels("web-1") == ["prod/eu-west-1", "prod/eu-central-1", "staging/eu-west-1"])
        // The bot's own account, with no region list: an ARN elsewhere is looked up in its region.
        let own = ResourceSearch(places: [Self.place("http://127.0.0.1:1", account: nil)])
        #expect(own.places(for: ResourceMention("arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0")).map(\.label) == ["eu-west-1"])
    }
}
