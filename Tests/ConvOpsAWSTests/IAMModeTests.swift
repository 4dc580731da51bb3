import ConvOpsAWS
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation
import Testing

/// moto with IAM and signature checks on (`/moto-api/reset-auth`): the shipped policy is
/// enough for every operation and no more, and assumed-role calls need their session token.
@Suite(.serialized) struct IAMModeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func theShippedPolicyAllowsWhatConvOpsDoesAndNothingElse() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let policy = try String(contentsOfFile: Self.root + "/deploy/iam-policy.json", encoding: .utf8)
        let key = try await moto.enableIAM(rolePolicy: policy, externalID: "ext-4711")
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        func client(_ credentials: AWSCredentials) -> AWSClient {
            AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint), credentials: StaticCredentialsProvider(credentials), http: http,
                      retry: RetryPolicy(maxAttempts: 1), logger: .quiet)
        }

        // A wrong secret is refused.
        let wrong = client(AWSCredentials(accessKeyID: key.id, secretAccessKey: "not-the-secret"))
        await #expect { try await EC2(client: wrong).describeInstances() } throws: { ($0 as? AWSError)?.kind == .authFailure }

        // The bot's user may assume the role, with the ExternalId, and nothing else.
        let bot = client(AWSCredentials(accessKeyID: key.id, secretAccessKey: key.secret))
        await #expect { try await EC2(client: bot).describeInstances() } throws: {
            // moto answers AuthFailure here where EC2 says UnauthorizedOperation: refused either way.
            [.accessDenied, .authFailure].contains(($0 as? AWSError)?.kind)
        }
        let prod = TargetAccount(alias: "prod", roleARN: "arn:aws:iam::123456789012:role/convops", externalID: "ext-4711", regions: ["eu-west-1"])
        let role = AssumedRoles(base: bot, accounts: [prod]).client(for: prod, personID: "U0ALICE", handle: "alice")

        // The role can do what ConvOps does…
        let ec2 = EC2(client: role)
        let instances = try await ec2.describeInstances()
        #expect(instances.map(\.name) == ["web-1"])
        _ = try await ec2.describeInstanceStatus(ids: instances.map(\.id))
        try await ec2.rebootInstances(ids: instances.map(\.id))
        _ = try await ECS(client: role).listClusters()
        _ = try await RDS(client: role).describeDBInstances()
        _ = try await AutoScaling(client: role).describeGroups()
        // Allowed, and so told the group does not exist (not that the call is denied).
        await #expect { try await Logs(client: role).filterLogEvents(group: "none", since: Date()) } throws: {
            ($0 as? AWSError)?.kind == .notFound
        }
        // CloudWatch is left out here: moto authorizes its calls as monitoring:*, where IAM
        // (and deploy/iam-policy.json) says cloudwatch:*. OperationsTests covers the calls.
        #expect(try await role.principal() == "arn:aws:sts::123456789012:assumed-role/convops/convops-U0ALICE-alice")

        // …and is denied what it does not, with the action named.
        await #expect {
            _ = try await role.query(.ec2, action: "TerminateInstances", parameters: [("InstanceId.1", instances[0].id)])
        } throws: { error in
            guard let e = error as? AWSError else { return false }
            return e.kind == .accessDenied && e.description.contains("ec2:TerminateInstances")
        }

        // Assumed-role credentials only work with their session token.
        let assumed = try await ecsCredentials(role)
        var noToken = assumed
        noToken.sessionToken = nil
        await #expect { try await EC2(client: client(noToken)).describeInstances() } throws: { ($0 as? AWSError)?.kind == .authFailure }
        #expect(try await EC2(client: client(assumed)).describeInstances().count == 1)
    }

    /// The temporary credentials behind an assumed-role client.
    func ecsCredentials(_ client: AWSClient) async throws -> AWSCredentials { try await client.currentCredentials() }
}
