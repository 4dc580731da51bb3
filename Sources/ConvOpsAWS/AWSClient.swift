import ConvOpsCore
import ConvOpsHTTP
import Foundation
import Logging

/// Signs and sends AWS API calls over the shared HTTP client. Everything is a POST, so no
/// query string needs signing (moto refuses signed GETs with one; AWS accepts both).
public final class AWSClient: Sendable {
    public let configuration: AWSConfiguration
    let credentials: any CredentialsProvider
    let http: HTTPClient
    let clock: any WallClock
    public let logger: Logger
    let retry: RetryPolicy
    let budget: RetryBudget

    public init(configuration: AWSConfiguration, credentials: any CredentialsProvider, http: HTTPClient,
                clock: any WallClock = SystemClock(), retry: RetryPolicy = RetryPolicy(),
                logger: Logger) {
        self.configuration = configuration
        self.credentials = credentials
        self.http = http
        self.clock = clock
        self.retry = retry
        budget = RetryBudget(retry.budget)
        self.logger = logger
    }

    /// A call in the query protocol (EC2, STS, RDS, Auto Scaling, CloudWatch, SQS): a form body
    /// of Action, Version and parameters, an XML answer.
    /// `idempotent`: whether the call may be repeated after a timeout (reads, and writes that
    /// change nothing the second time). Others are retried only when AWS refused them outright.
    /// `signed: false` for the few calls made before there are credentials
    /// (sts:AssumeRoleWithWebIdentity, whose proof is the token in its parameters).
    public func query(_ service: AWSService, action: String, parameters: [(String, String)] = [],
                      region: String? = nil, idempotent: Bool? = nil, signed: Bool = true) async throws(AWSError) -> XMLTree {
        let operation = "\(service.iamPrefix):\(action)"
        let safe = idempotent ?? Self.looksIdempotent(action)
        return try await withRetries(operation, idempotent: safe) { () throws(AWSError) in
            try await queryOnce(service, action: action, operation: operation, parameters: parameters, region: region, signed: signed)
        }
    }

    /// A paginated query call: every page in turn, passing `tokenName` (NextToken, Marker)
    /// back from the path `token` until the answer has none.
    public func queryPages(_ service: AWSService, action: String, parameters: [(String, String)] = [], region: String? = nil,
                           tokenName: String = "NextToken", token tokenPath: [String],
                           _ page: (XMLTree) throws(AWSError) -> Void) async throws(AWSError) {
        var next: String?
        var walk = PageWalk("\(service.iamPrefix):\(action)")
        repeat {
            var current = parameters
            if let next { current.append((tokenName, next)) }
            let tree = try await query(service, action: action, parameters: current, region: region)
            try page(tree)
            var node: XMLTree? = tree
            for step in tokenPath { node = node?[step] }
            next = try walk.next(node.map(\.text))
        } while next != nil
    }

    static func looksIdempotent(_ action: String) -> Bool {
        action.hasPrefix("Describe") || action.hasPrefix("List") || action.hasPrefix("Get") || action.hasPrefix("Filter")
            || action.hasPrefix("Receive")
    }

    /// Retries throttling, 5xx and (for idempotent calls) lost connections with jittered
    /// backoff within the shared budget; refreshes expired credentials once.
    func withRetries<T>(_ operation: String, idempotent safe: Bool,
                        _ once: () async throws(AWSError) -> T) async throws(AWSError) -> T {
        var rng = SystemRandomNumberGenerator()
        var attempt = 1
        var refreshed = false
        while true {
            do throws(AWSError) {
                let value = try await once()
                budget.refund(1)
                return value
            } catch {
                // An expired token: fetch fresh credentials once and try again.
                if error.kind == .authFailure, error.code.hasPrefix("ExpiredToken") || error.code == "RequestExpired", !refreshed,
                   let refreshable = credentials as? any RefreshableCredentialsProvider {
                    refreshed = true
                    await refreshable.invalidate()
                    continue
                }
                guard attempt < retry.maxAttempts, error.retryable(idempotent: safe), budget.spend(retry.retryCost) else { throw error }
                let wait = retry.delay(attempt: attempt, using: &rng)
                logger.notice("aws.retry", metadata: ["aws.operation": "\(operation)", "aws.attempt": "\(attempt)",
                                                     "aws.error": "\(error.code.isEmpty ? "\(error.kind)" : error.code)"])
                try? await Task.sleep(for: wait)
                attempt += 1
            }
        }
    }

    /// A call in the JSON protocol (ECS, CloudWatch Logs: 1.1; SQS: 1.0): a POST of a JSON
    /// object with `X-Amz-Target: <prefix>.<Action>`, a JSON answer.
    public func json(_ service: AWSService, action: String, body: [String: Any] = [:], region: String? = nil,
                     idempotent: Bool? = nil) async throws(AWSError) -> [String: Any] {
        guard let target = service.jsonTarget else {
            preconditionFailure("\(service.signingName) has no JSON protocol target")
        }
        let operation = "\(service.iamPrefix):\(action)"
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        let answer: JSONBox = try await withRetries(operation, idempotent: idempotent ?? Self.looksIdempotent(action)) { () throws(AWSError) in
            let response = try await send(service, operation: operation, region: region,
                                          contentType: "application/x-amz-json-\(service.jsonVersion)", body: payload,
                                          extraHeaders: [("X-Amz-Target", "\(target).\(action)")])
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
            guard (200..<300).contains(response.status) else {
                if let object { throw Self.jsonError(object, status: response.status, operation: operation) }
                // An error in the query protocol's XML shape (moto answers JSON services' IAM denials so).
                if let tree = XMLTree.parse(response.body) { throw Self.queryError(tree, status: response.status, operation: operation) }
                if response.status == 403 {
                    throw AWSError(kind: .accessDenied, operation: operation, code: "HTTP403", message: "HTTP 403 (access denied)")
                }
                let kind: AWSError.Kind = response.status == 429 ? .throttled : response.status >= 500 ? .serviceUnavailable : .malformedResponse
                throw AWSError(kind: kind, operation: operation, code: "HTTP\(response.status)", message: "HTTP \(response.status)")
            }
            guard let object else {
                throw AWSError(kind: .malformedResponse, operation: operation, code: "",
                               message: "HTTP \(response.status) with a body that is not a JSON object (\(response.body.count) bytes)")
            }
            return JSONBox(object)
        }
        return answer.object
    }

    /// `{"__type": "…#ClusterNotFoundException", "message": "…"}`.
    static func jsonError(_ object: [String: Any], status: Int, operation: String) -> AWSError {
        let raw = (object["__type"] as? String) ?? (object["code"] as? String) ?? "HTTP\(status)"
        let code = String(raw.split(separator: "#").last ?? Substring(raw)).split(separator: ":").first.map(String.init) ?? raw
        let message = (object["message"] as? String) ?? (object["Message"] as? String) ?? "HTTP \(status)"
        return AWSError(kind: AWSError.classify(code: code, status: status), operation: operation, code: code, message: message)
    }

    private func queryOnce(_ service: AWSService, action: String, operation: String, parameters: [(String, String)],
                           region: String?, signed: Bool) async throws(AWSError) -> XMLTree {
        let body = ([("Action", action), ("Version", service.apiVersion)] + parameters)
            .map { "\(SigV4.uriEncode($0.0))=\(SigV4.uriEncode($0.1))" }.joined(separator: "&")
        let response = try await send(service, operation: operation, region: region,
                                      contentType: "application/x-www-form-urlencoded; charset=utf-8", body: Data(body.utf8), signed: signed)
        guard let tree = XMLTree.parse(response.body) else {
            // A proxy's 503 page or a bare 429 is still AWS (or its edge) saying "not now".
            if response.status == 429 || response.status == 503 {
                throw AWSError(kind: response.status == 429 ? .throttled : .serviceUnavailable, operation: operation,
                               code: "HTTP\(response.status)", message: "HTTP \(response.status)")
            }
            if response.status >= 500 {
                throw AWSError(kind: .serviceUnavailable, operation: operation, code: "HTTP\(response.status)", message: "HTTP \(response.status)")
            }
            throw AWSError(kind: .malformedResponse, operation: operation, code: "",
                           message: "HTTP \(response.status) with a body that is not XML (\(response.body.count) bytes)")
        }
        guard (200..<300).contains(response.status) else {
            throw Self.queryError(tree, status: response.status, operation: operation)
        }
        return tree
    }

    func send(_ service: AWSService, operation: String, region: String?, contentType: String,
              body: Data, extraHeaders: [(name: String, value: String)] = [], signed: Bool = true) async throws(AWSError) -> HTTPResponse {
        let region = region ?? configuration.region
        let url = configuration.endpoint(for: service.endpointPrefix, region: region)
        guard let components = URLComponents(string: url), let host = components.host else {
            throw AWSError(kind: .invalidRequest, operation: operation, code: "InvalidEndpoint", message: "bad endpoint URL \(url)")
        }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        var headers: [(name: String, value: String)] = [("Host", hostHeader), ("Content-Type", contentType)] + extraHeaders
        if signed {
            let creds: AWSCredentials
            do {
                creds = try await credentials.credentials()
            } catch let error as AWSError {
                throw error
            } catch {
                throw AWSError(kind: .authFailure, operation: operation, code: "NoCredentials", message: "\(error)")
            }
            let signer = SigV4(credentials: creds, region: region, service: service.signingName)
            headers += signer.sign(SigV4.Request(method: "POST", path: components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath,
                                                 headers: headers, body: body), at: clock.now())
        }
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(method: .post, url: url, headers: headers, body: body))
        } catch let error as HTTPError {
            throw AWSError.network(error, operation: operation)
        } catch {
            throw AWSError(kind: .network, operation: operation, code: "", message: "\(error)")
        }
        logger.debug("aws.call", metadata: ["aws.operation": "\(operation)", "aws.status": "\(response.status)",
                                           "aws.request_id": "\(response.header("x-amzn-RequestId") ?? "-")"])
        return response
    }

    /// EC2: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>`;
    /// other query services: `<ErrorResponse><Error><Code/><Message/></Error><RequestId/>`.
    static func queryError(_ tree: XMLTree, status: Int, operation: String) -> AWSError {
        let error = tree.at("Errors", "Error") ?? tree["Error"]
        let code = error?.string("Code") ?? "HTTP\(status)"
        let message = error?.string("Message") ?? "HTTP \(status)"
        let requestID = tree.string("RequestID") ?? tree.string("RequestId")
        return AWSError(kind: AWSError.classify(code: code, status: status), operation: operation,
                        code: code, message: message, requestID: requestID)
    }

    /// The credentials calls are signed with now (for tests and diagnostics; never logged).
    public func currentCredentials() async throws -> AWSCredentials { try await credentials.credentials() }

    /// The IAM principal calls run as: the assumed role's ARN when the credentials came from
    /// sts:AssumeRole (no extra call), else STS GetCallerIdentity's Arn.
    public func principal() async throws(AWSError) -> String {
        if let known = try? await credentials.credentials().principal { return known }
        return try await callerIdentity()
    }

    /// The IAM principal these credentials act as (STS GetCallerIdentity's Arn).
    public func callerIdentity() async throws(AWSError) -> String {
        let tree = try await query(.sts, action: "GetCallerIdentity")
        guard let arn = tree.string("GetCallerIdentityResult", "Arn") else {
            throw AWSError(kind: .malformedResponse, operation: "sts:GetCallerIdentity", code: "", message: "no Arn in the answer")
        }
        return arn
    }
}

/// A service we call: its endpoint prefix, signing name and API version, and for the JSON
/// protocol its target prefix and JSON version.
public struct AWSService: Sendable, Hashable {
    public var endpointPrefix: String
    public var signingName: String
    public var apiVersion: String
    public var jsonTarget: String?
    public var jsonVersion: String = "1.1"
    /// The prefix of the service's IAM actions, which names the operation in errors and logs
    /// ("cloudwatch:DescribeAlarms", though CloudWatch signs as "monitoring").
    public var iamPrefix: String { signingName == "monitoring" ? "cloudwatch" : signingName }

    public static let ec2 = AWSService(endpointPrefix: "ec2", signingName: "ec2", apiVersion: "2016-11-15")
    public static let sts = AWSService(endpointPrefix: "sts", signingName: "sts", apiVersion: "2011-06-15")
    public static let rds = AWSService(endpointPrefix: "rds", signingName: "rds", apiVersion: "2014-10-31")
    public static let autoScaling = AWSService(endpointPrefix: "autoscaling", signingName: "autoscaling", apiVersion: "2011-01-01")
    /// CloudWatch signs as "monitoring".
    public static let cloudWatch = AWSService(endpointPrefix: "monitoring", signingName: "monitoring", apiVersion: "2010-08-01")
    public static let ecs = AWSService(endpointPrefix: "ecs", signingName: "ecs", apiVersion: "2014-11-13",
                                       jsonTarget: "AmazonEC2ContainerServiceV20141113", jsonVersion: "1.1")
    public static let logs = AWSService(endpointPrefix: "logs", signingName: "logs", apiVersion: "2014-03-28",
                                        jsonTarget: "Logs_20140328", jsonVersion: "1.1")
    public static let sqs = AWSService(endpointPrefix: "sqs", signingName: "sqs", apiVersion: "2012-11-05",
                                       jsonTarget: "AmazonSQS", jsonVersion: "1.0")
}

/// A JSON answer carried out of the retry loop. `@unchecked Sendable`: JSONSerialization's
/// objects are immutable values once parsed, and this one is read by one task only.
struct JSONBox: @unchecked Sendable {
    let object: [String: Any]
    init(_ object: [String: Any]) { self.object = object }
}
