import ConvOpsHTTP

/// An AWS call that failed, in terms a person can act on.
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The credentials may not do this: the IAM policy lacks the action.
        case accessDenied
        /// The credentials were refused (wrong secret, unknown key, expired token, bad signature).
        case authFailure
        case throttled
        /// The resource or its id does not exist.
        case notFound
        case invalidRequest
        /// AWS answered 5xx.
        case serviceUnavailable
        /// No answer from AWS at all (DNS, connect, timeout, TLS).
        case network
        /// AWS (or something posing as it) answered with something we can't read.
        case malformedResponse
        /// A credential source (web identity, container, instance metadata) gave none.
        case credentials
        /// Some other error code.
        case other
    }

    public var kind: Kind
    /// `ec2:RebootInstances`
    public var operation: String
    /// AWS's error code (`UnauthorizedOperation`), or empty for network and parse failures.
    public var code: String
    public var message: String
    public var requestID: String?

    public init(kind: Kind, operation: String, code: String, message: String, requestID: String? = nil) {
        self.kind = kind
        self.operation = operation
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    public var isRetryable: Bool { kind == .throttled || kind == .serviceUnavailable || kind == .network }

    public var description: String {
        let id = requestID.map { " (request id \($0))" } ?? ""
        switch kind {
        case .accessDenied:
            return "\(operation) was denied: the IAM policy of the role ConvOps uses must allow '\(operation)'. AWS said: \(message)\(id)"
        case .authFailure:
            return "AWS refused the credentials for \(operation) (\(code)): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the role. AWS said: \(message)\(id)"
        case .throttled:
            return "AWS is throttling \(operation); try again in a minute.\(id)"
        case .network:
            return "Could not reach AWS for \(operation): \(message). Check the network or AWS_ENDPOINT_URL."
        case .malformedResponse:
            return "AWS sent an unreadable answer to \(operation): \(message)"
        case .credentials:
            return "No usable AWS credentials from \(operation): \(message)"
        case .serviceUnavailable:
            return "AWS had an internal error on \(operation) (\(code)); try again shortly.\(id)"
        default:
            return "\(operation) failed: \(code): \(message)\(id)"
        }
    }

    static func classify(code: String, status: Int) -> Kind {
        switch code {
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess":
            return .accessDenied
        case "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature",
             "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidAccessKeyId", "MissingAuthenticationToken":
            return .authFailure
        case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "ProvisionedThroughputExceededException", "RequestThrottled":
            return .throttled
        default:
            if code.hasPrefix("InvalidInstanceID") || code.hasSuffix("NotFound") || code.hasSuffix("NotFoundException") { return .notFound }
            if code.hasPrefix("Invalid") || code == "ValidationError" || code == "MissingParameter" { return .invalidRequest }
            if status >= 500 { return .serviceUnavailable }
            if status == 403 { return .accessDenied }
            return .other
        }
    }

    /// Answers that came back under the wrong place: a bug of ours, never acted on.
    public static func internalMismatch(_ operation: String) -> AWSError {
        AWSError(kind: .other, operation: operation, code: "InternalMismatch",
                 message: "the answers did not match the places asked (a bug); nothing was done. Please report it")
    }

    static func network(_ error: HTTPError, operation: String) -> AWSError {
        AWSError(kind: .network, operation: operation, code: "", message: error.description)
    }
}
