import ConvOpsCore
import ConvOpsHTTP
import Foundation
import Synchronization

/// Where the bot's own credentials come from, in the AWS SDKs' order: the environment, a web
/// identity token (EKS, IRSA), the ECS container endpoint, EC2's instance metadata (IMDSv2).
/// Nothing is written anywhere: temporary credentials live in memory and are fetched again
/// before they expire.
public enum CredentialChain {
    public enum Source: String, Sendable, Hashable {
        case environment, webIdentity = "web-identity", container, instanceMetadata = "instance-metadata"
    }

    /// The first source the environment points at. IMDS is the last resort and is not probed
    /// here (off EC2 that costs a timeout): its first use says what is missing if it fails.
    public static func provider(environment env: [String: String], configuration: AWSConfiguration,
                                http: HTTPClient, clock: any WallClock = SystemClock()) -> (any CredentialsProvider, Source) {
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let credentials = AWSCredentials.fromEnvironment(env) {
            return (StaticCredentialsProvider(credentials), .environment)
        }
        if let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE"), let roleARN = value("AWS_ROLE_ARN") {
            let sts = AWSClient(configuration: configuration, credentials: MissingCredentialsProvider(), http: http, clock: clock, logger: http.logger)
            let session = value("AWS_ROLE_SESSION_NAME") ?? "convops"
            return (TemporaryCredentialsProvider(clock: clock, source: "web identity") { () async throws(AWSError) in
                try await WebIdentity.fetch(tokenFile: tokenFile, roleARN: roleARN, sessionName: session, sts: sts)
            }, .webIdentity)
        }
        if let url = ContainerCredentials.endpoint(env) {
            let http = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(2), totalTimeout: .seconds(5),
                                                                         egress: http.configuration.egress.allowingMetadata(endpoint: url)), logger: http.logger)
            return (TemporaryCredentialsProvider(clock: clock, source: "the ECS container endpoint") { () async throws(AWSError) in
                try await ContainerCredentials.fetch(url: url, environment: env, http: http)
            }, .container)
        }
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" {
            return (MissingCredentialsProvider(), .environment)
        }
        let endpoint = value("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        // AWS_METADATA_SERVICE_TIMEOUT, as the SDKs read it: seconds per call, 1 by default.
        let timeout = value("AWS_METADATA_SERVICE_TIMEOUT").flatMap(Double.init).map { min(60, max(0.1, $0)) } ?? 1
        let imdsHTTP = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .milliseconds(Int(timeout * 1000)),
                                                                         totalTimeout: .milliseconds(Int(timeout * 3000)),
                                                                         egress: http.configuration.egress.allowingMetadata(endpoint: endpoint)), logger: http.logger)
        return (TemporaryCredentialsProvider(clock: clock, source: "EC2 instance metadata") { () async throws(AWSError) in
            try await InstanceMetadata.fetch(endpoint: endpoint, http: imdsHTTP)
        }, .instanceMetadata)
    }
}

/// Temporary credentials, fetched on first use and again `refreshMargin` before they expire
/// (or when a call found them expired). Concurrent callers share one fetch.
public final class TemporaryCredentialsProvider: RefreshableCredentialsProvider {
    public typealias Fetch = @Sendable () async throws(AWSError) -> AWSCredentials
    /// The SDKs refresh 5 minutes ahead; so do we.
    public static let refreshMargin: TimeInterval = 300
    private let fetch: Fetch
    private let clock: any WallClock
    let source: String
    private let state = Mutex<(current: AWSCredentials?, inFlight: Task<AWSCredentials, any Error>?)>((nil, nil))

    public init(clock: any WallClock = SystemClock(), source: String, fetch: @escaping Fetch) {
        self.clock = clock
        self.source = source
        self.fetch = fetch
    }

    public func credentials() async throws -> AWSCredentials {
        let now = clock.now()
        let task: Task<AWSCredentials, any Error> = state.withLock { s in
            if let current = s.current, current.expiration.map({ $0.timeIntervalSince(now) > Self.refreshMargin }) ?? true {
                return Task { current }
            }
            if let inFlight = s.inFlight { return inFlight }
            let fetch = self.fetch
            let task = Task<AWSCredentials, any Error> { try await fetch() }
            s.inFlight = task
            return task
        }
        do {
            let fresh = try await task.value
            state.withLock { s in
                if s.current != fresh { s.current = fresh }
                s.inFlight = nil
            }
            return fresh
        } catch {
            state.withLock { $0.inFlight = nil }
            throw error
        }
    }

    public func invalidate() async { state.withLock { $0 = (nil, nil) } }
}

/// sts:AssumeRoleWithWebIdentity with the token in AWS_WEB_IDENTITY_TOKEN_FILE, read afresh
/// each time (the platform rotates it).
enum WebIdentity {
    static func fetch(tokenFile: String, roleARN: String, sessionName: String, sts: AWSClient) async throws(AWSError) -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: tokenFile),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw AWSError(kind: .credentials, operation: "sts:AssumeRoleWithWebIdentity", code: "NoWebIdentityToken",
                           message: "cannot read a token from AWS_WEB_IDENTITY_TOKEN_FILE (\(tokenFile))")
        }
        let tree = try await sts.query(.sts, action: "AssumeRoleWithWebIdentity",
                                       parameters: [("RoleArn", roleARN), ("RoleSessionName", sessionName), ("WebIdentityToken", token),
                                                    ("DurationSeconds", "3600")],
                                       idempotent: true, signed: false)
        return try AssumeRole.credentials(from: tree, result: "AssumeRoleWithWebIdentityResult", operation: "sts:AssumeRoleWithWebIdentity")
    }
}

/// The ECS (and EKS Pod Identity) container credential endpoint.
enum ContainerCredentials {
    static func endpoint(_ env: [String: String]) -> String? {
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        if let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty { return full }
        return nil
    }

    static func fetch(url: String, environment env: [String: String], http: HTTPClient) async throws(AWSError) -> AWSCredentials {
        let operation = "container credentials"
        var headers: [(name: String, value: String)] = []
        if let file = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let token = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) else {
                throw AWSError(kind: .credentials, operation: operation, code: "NoAuthorizationToken",
                               message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (\(file))")
            }
            headers.append(("Authorization", token))
        } else if let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.append(("Authorization", token))
        }
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(method: .get, url: url, headers: headers))
        } catch {
            throw AWSError(kind: .network, operation: operation, code: "", message: "\(error) (is ConvOps running in the container the URI names?)")
        }
        guard response.status == 200 else {
            throw AWSError(kind: .credentials, operation: operation, code: "HTTP\(response.status)",
                           message: "the container endpoint answered HTTP \(response.status): check the task role and AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
        return try MetadataJSON.credentials(response.body, operation: operation)
    }
}

/// EC2 instance metadata, IMDSv2 only: a session token first (PUT), then the role's credentials.
enum InstanceMetadata {
    static func fetch(endpoint: String, http: HTTPClient) async throws(AWSError) -> AWSCredentials {
        let operation = "instance metadata"
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        func call(_ request: HTTPRequest) async throws(AWSError) -> HTTPResponse {
            do {
                return try await http.execute(request)
            } catch {
                throw AWSError(kind: .credentials, operation: operation, code: "NoCredentials",
                               message: "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is available (web identity, ECS task role, EC2 instance profile); instance metadata at \(base) did not answer (\(error))")
            }
        }
        let tokenResponse = try await call(HTTPRequest(method: .put, url: base + "/latest/api/token",
                                                       headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty else {
            throw AWSError(kind: .credentials, operation: operation, code: "HTTP\(tokenResponse.status)",
                           message: "IMDSv2 refused a session token (HTTP \(tokenResponse.status)); check the instance's metadata options (hop limit)")
        }
        let token = [("X-aws-ec2-metadata-token", tokenResponse.bodyText.trimmingCharacters(in: .whitespacesAndNewlines))]
        let roles = try await call(HTTPRequest(method: .get, url: base + "/latest/meta-data/iam/security-credentials/", headers: token))
        guard roles.status == 200, let role = roles.bodyText.split(separator: "\n").first.map(String.init), !role.isEmpty else {
            throw AWSError(kind: .credentials, operation: operation, code: "NoInstanceProfile",
                           message: "this instance has no IAM role (instance profile): attach one, see deploy/convops-role.yaml")
        }
        let credentials = try await call(HTTPRequest(method: .get, url: base + "/latest/meta-data/iam/security-credentials/" + role, headers: token))
        guard credentials.status == 200 else {
            throw AWSError(kind: .credentials, operation: operation, code: "HTTP\(credentials.status)",
                           message: "instance metadata gave no credentials for role \(role) (HTTP \(credentials.status))")
        }
        return try MetadataJSON.credentials(credentials.body, operation: operation)
    }
}

/// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`, as ECS and IMDS answer.
enum MetadataJSON {
    static func credentials(_ body: Data, operation: String) throws(AWSError) -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let id = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String else {
            throw AWSError(kind: .malformedResponse, operation: operation, code: "", message: "no AccessKeyId/SecretAccessKey in the answer")
        }
        if let code = object["Code"] as? String, code != "Success" {
            throw AWSError(kind: .credentials, operation: operation, code: code, message: "the credential endpoint said \(code)")
        }
        let expiration = (object["Expiration"] as? String).flatMap(AssumeRole.parseDate)
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: object["Token"] as? String, expiration: expiration)
    }
}
