import Foundation

public struct AWSConfiguration: Sendable, Hashable {
    public var region: String
    /// One endpoint for every service (AWS_ENDPOINT_URL), as the SDKs allow; nil for AWS's own.
    public var endpoint: String?

    public static let defaultRegion = "eu-west-1"

    public init(region: String = AWSConfiguration.defaultRegion, endpoint: String? = nil) {
        self.region = region
        self.endpoint = endpoint
    }

    /// AWS_REGION, then AWS_DEFAULT_REGION, then eu-west-1; AWS_ENDPOINT_URL if set.
    public static func fromEnvironment(_ env: [String: String]) -> AWSConfiguration {
        let region = [env["AWS_REGION"], env["AWS_DEFAULT_REGION"]].compactMap { $0 }.first { !$0.isEmpty } ?? defaultRegion
        let endpoint = env["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSConfiguration(region: region, endpoint: endpoint)
    }

    /// `https://ec2.eu-west-1.amazonaws.com/`, or the override.
    public func endpoint(for servicePrefix: String, region: String? = nil) -> String {
        if let endpoint { return endpoint.hasSuffix("/") ? endpoint : endpoint + "/" }
        return "https://\(servicePrefix).\(region ?? self.region).amazonaws.com/"
    }
}

/// Where the bot's own credentials come from.
public protocol CredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// A source whose credentials expire and can be fetched again (assumed roles, IMDS, ECS).
public protocol RefreshableCredentialsProvider: CredentialsProvider {
    /// Forget the cached credentials, so the next call fetches fresh ones.
    func invalidate() async
}

/// Credentials known up front (from the environment).
public struct StaticCredentialsProvider: CredentialsProvider {
    let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}

/// No credentials anywhere: every call explains where to put them.
public struct MissingCredentialsProvider: CredentialsProvider {
    public init() {}
    public func credentials() async throws -> AWSCredentials {
        throw AWSError(kind: .authFailure, operation: "credentials", code: "NoCredentials",
                       message: "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)")
    }
}
