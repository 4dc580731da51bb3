import ConvOpsAWS
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Synchronization
import Testing

/// Each credential source against a loopback stand-in (moto serves STS), and the refresh rule.
@Suite struct CredentialChainTests {
    static let loopback = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)

    /// Records what a stub endpoint was asked, under a lock.
    final class Log: Sendable {
        let requests = Mutex<[HTTPServerRequest]>([])
        func add(_ r: HTTPServerRequest) { requests.withLock { $0.append(r) } }
        var all: [HTTPServerRequest] { requests.withLock { $0 } }
    }

    static func credentialsJSON(expiresIn seconds: TimeInterval, from now: Date = Date()) -> String {
        let expiry = ISO8601DateFormatter().string(from: now.addingTimeInterval(seconds))
        return #"{"AccessKeyId":"ASIASTUBKEY","SecretAccessKey":"stub-secret","Token":"stub-token","Expiration":"\#(expiry)","Code":"Success"}"#
    }

    @Test func environmentComesFirst() {
        let (_, source) = CredentialChain.provider(environment: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                                                                 "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                                                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/"],
                                                   configuration: AWSConfiguration(), http: Self.loopback)
        #expect(source == .environment)
        let (_, web) = CredentialChain.provider(environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                                                              "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/"],
                                                configuration: AWSConfiguration(), http: Self.loopback)
        #expect(web == .webIdentity)
        let (_, container) = CredentialChain.provider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"],
                                                      configuration: AWSConfiguration(), http: Self.loopback)
        #expect(container == .container)
        let (_, imds) = CredentialChain.provider(environment: [:], configuration: AWSConfiguration(), http: Self.loopback)
        #expect(imds == .instanceMetadata)
    }

    @Test func webIdentityTokenIsExchangedWithSTS() async throws {
        let moto = try await MotoServer.shared()
        let dir = try makeTemporaryDirectory("webid")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "eyJhbGciOiJSUzI1NiJ9.stub.token\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let configuration = AWSConfiguration(endpoint: moto.endpoint)
        let (provider, source) = CredentialChain.provider(
            environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": dir + "/token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/convops-bot",
                          "AWS_ROLE_SESSION_NAME": "convops-pod"],
            configuration: configuration, http: Self.loopback)
        #expect(source == .webIdentity)
        let credentials = try await provider.credentials()
        #expect(credentials.sessionToken?.isEmpty == false)
        #expect(credentials.expiration.map { $0 > Date() } == true)
        #expect(credentials.principal?.contains(":assumed-role/convops-bot/convops-pod") == true)
        // The secret never prints.
        #expect(!"\(credentials)".contains(credentials.secretAccessKey))
        let client = AWSClient(configuration: configuration, credentials: provider, http: Self.loopback, logger: .quiet)
        #expect(try await client.principal().contains("assumed-role/convops-bot"))

        // A missing token file says what is wrong.
        let (broken, _) = CredentialChain.provider(environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": dir + "/none", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x"],
                                                   configuration: configuration, http: Self.loopback)
        await #expect { try await broken.credentials() } throws: { "\($0)".contains("cannot read a token from AWS_WEB_IDENTITY_TOKEN_FILE") }
    }

    @Test func containerCredentialsSendTheAuthorizationToken() async throws {
        let log = Log()
        let server = try WebServer(immediateHTTP: { request in
            log.add(request)
            guard request.header("authorization") == "Bearer task-secret" else { return HTTPServerResponse(status: 401) }
            return HTTPServerResponse(status: 200, contentType: "application/json", body: Self.credentialsJSON(expiresIn: 3600))
        })
        defer { server.shutdown() }
        let url = "http://127.0.0.1:\(server.port)/v2/credentials/abc"
        let (provider, source) = CredentialChain.provider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                                                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer task-secret"],
                                                          configuration: AWSConfiguration(), http: Self.loopback)
        #expect(source == .container)
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "ASIASTUBKEY" && credentials.sessionToken == "stub-token")
        _ = try await provider.credentials()
        #expect(log.all.count == 1, "an hour left: served from memory")
        #expect(log.all.first?.path == "/v2/credentials/abc")

        let (wrong, _) = CredentialChain.provider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                                                                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"],
                                                  configuration: AWSConfiguration(), http: Self.loopback)
        await #expect { try await wrong.credentials() } throws: { "\($0)".contains("HTTP 401") }
    }

    @Test func instanceMetadataSpeaksIMDSv2Only() async throws {
        let log = Log()
        let headers = WebServer.Configuration(customHeaders: ["x-aws-ec2-metadata-token-ttl-seconds", "x-aws-ec2-metadata-token"])
        let server = try WebServer(headers, immediateHTTP: { request in
            log.add(request)
            if request.method == "PUT", request.path == "/latest/api/token" {
                guard request.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600" else { return HTTPServerResponse(status: 400) }
                return HTTPServerResponse(status: 200, contentType: "text/plain", body: "imds-session-token")
            }
            // IMDSv2: every GET needs the session token.
            guard request.header("x-aws-ec2-metadata-token") == "imds-session-token" else { return HTTPServerResponse(status: 401) }
            switch request.path {
            case "/latest/meta-data/iam/security-credentials/":
                return HTTPServerResponse(status: 200, contentType: "text/plain", body: "convops-instance-role")
            case "/latest/meta-data/iam/security-credentials/convops-instance-role":
                return HTTPServerResponse(status: 200, contentType: "application/json", body: Self.credentialsJSON(expiresIn: 3600))
            default:
                return HTTPServerResponse(status: 404)
            }
        }, webSocket: { $0.close() })
        defer { server.shutdown() }
        // A generous timeout: on a loaded 2-core test machine the stub can take seconds to answer.
        let (provider, source) = CredentialChain.provider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)",
                                                                        "AWS_METADATA_SERVICE_TIMEOUT": "10"],
                                                          configuration: AWSConfiguration(), http: Self.loopback)
        #expect(source == .instanceMetadata)
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "ASIASTUBKEY" && credentials.secretAccessKey == "stub-secret")
        #expect(log.all.map { "\($0.method) \($0.path)" } == ["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                                                               "GET /latest/meta-data/iam/security-credentials/convops-instance-role"])

        // Off EC2 nothing answers: the error says where credentials can come from.
        let dead = try FreePort.pick()
        let (none, _) = CredentialChain.provider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(dead)"],
                                                 configuration: AWSConfiguration(), http: Self.loopback)
        await #expect { try await none.credentials() } throws: { "\($0)".contains("no AWS credentials found: set AWS_ACCESS_KEY_ID") }
        // Metadata endpoints other than AWS's link-local ones and loopback are never allowed.
        let policy = EgressPolicy.production.allowingMetadata(endpoint: "http://10.0.0.1")
        #expect(policy.metadataHosts.isEmpty)
        #expect(EgressPolicy.production.allowingMetadata(endpoint: "http://169.254.169.254").metadataHosts == ["169.254.169.254"])
    }

    @Test func temporaryCredentialsAreFetchedAgainFiveMinutesBeforeTheyExpire() async throws {
        let clock = ManualClock()
        let fetches = Mutex(0)
        let provider = TemporaryCredentialsProvider(clock: clock, source: "test") { () async throws(AWSError) in
            let n = fetches.withLock { $0 += 1; return $0 }
            return AWSCredentials(accessKeyID: "ASIA\(n)", secretAccessKey: "s", sessionToken: "t",
                                  expiration: clock.now().addingTimeInterval(900))
        }
        #expect(try await provider.credentials().accessKeyID == "ASIA1")
        clock.advance(by: 590)           // 310 s left: still good
        #expect(try await provider.credentials().accessKeyID == "ASIA1")
        clock.advance(by: 20)            // 290 s left: refreshed
        #expect(try await provider.credentials().accessKeyID == "ASIA2")
        // Concurrent callers share one fetch.
        await provider.invalidate()
        async let a = provider.credentials()
        async let b = provider.credentials()
        _ = try await (a, b)
        #expect(fetches.withLock { $0 } == 3)
    }
}

/// sts:AssumeRole per account and person, against moto.
@Suite struct AssumeRoleTests {
    @Test func sessionNamesNameThePersonWithinAWSsRules() {
        #expect(AssumeRole.sessionName(for: "alice", id: "U0123ABC") == "convops-U0123ABC-alice")
        #expect(AssumeRole.sessionName(for: "Alice Liddell", id: "U1") == "convops-U1-Alice-Liddell")
        #expect(AssumeRole.sessionName(for: "jörg/ops:<admin>", id: "U1") == "convops-U1-j-rg-ops-admin")
        #expect(AssumeRole.sessionName(for: "🙂", id: "U1") == "convops-U1")
        #expect(AssumeRole.sessionName(for: String(repeating: "x", count: 100), id: "U1").count == 64)
        // Someone who takes Alice's display name is still themselves in CloudTrail.
        #expect(AssumeRole.sessionName(for: "alice", id: "U0EVE") != AssumeRole.sessionName(for: "alice", id: "U0123ABC"))
        #expect(TargetAccount(alias: "a", roleARN: "arn:aws:iam::123456789012:role/r", externalID: nil, regions: [], durationSeconds: 60).durationSeconds == 900)
        #expect(TargetAccount(alias: "a", roleARN: "arn:aws:iam::123456789012:role/r", externalID: nil, regions: [], durationSeconds: 99_999).durationSeconds == 3600)
    }

    @Test func assumesTheRoleWithTheExternalIdOncePerPersonAndNamesThemInThePrincipal() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let http = CredentialChainTests.loopback
        let base = AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                             credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")), http: http, logger: .quiet)
        let prod = TargetAccount(alias: "prod", roleARN: "arn:aws:iam::123456789012:role/convops", externalID: "ext-4711",
                                 regions: ["eu-west-1"], durationSeconds: 1200)
        let roles = AssumedRoles(base: base, accounts: [prod])
        try await moto.startRecording()
        let alice = roles.client(for: prod, personID: "U0ALICE", handle: "Alice Liddell")
        let principal = try await alice.principal()
        #expect(principal == "arn:aws:sts::123456789012:assumed-role/convops/convops-U0ALICE-Alice-Liddell")
        _ = try await EC2(client: alice).describeInstances()
        _ = try await roles.client(for: prod, personID: "U0ALICE", handle: "Alice Liddell").principal()
        let bob = try await roles.client(for: prod, personID: "U0BOB", handle: "bob").principal()
        #expect(bob.hasSuffix("/convops-U0BOB-bob"))
        let assumes = try await moto.recordedBodies().filter { $0.contains("Action=AssumeRole") }
        #expect(assumes.count == 2, "once per person, then from memory")
        #expect(assumes.first?.contains("ExternalId=ext-4711") == true)
        #expect(assumes.first?.contains("DurationSeconds=1200") == true)
        #expect(assumes.first?.contains("RoleSessionName=convops-U0ALICE-Alice-Liddell") == true)
        #expect(roles.account("PROD")?.alias == "prod" && roles.account("123456789012")?.alias == "prod" && roles.account("dev") == nil)
    }
}
