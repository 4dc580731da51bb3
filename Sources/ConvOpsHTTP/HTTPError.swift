/// An outbound HTTP call failed before a response arrived. Status codes are not errors here:
/// a 4xx or 5xx comes back as an `HTTPResponse` for the protocol layer to interpret.
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The URL could not be parsed or uses a scheme other than http/https.
        case invalidURL
        /// The egress policy does not allow this host, or it needs TLS and the URL is plain http.
        case egressDenied
        /// DNS failed, nothing listened, or the request waited its whole time for a transfer
        /// thread: the peer was never reached, so nothing was done.
        case connectFailed
        /// The connect or total timeout passed.
        case timedOut
        /// The TLS handshake or certificate check failed.
        case tls
        /// The connection broke after it was made (reset, nothing received, partial body).
        case connectionLost
        /// The response body exceeded the client's size limit.
        case responseTooLarge
        case cancelled
        /// Anything else libcurl reported.
        case other
    }

    public var kind: Kind
    /// The host the request was for; never the full URL, which may carry a token.
    public var host: String
    /// libcurl's own explanation, with its error code.
    public var detail: String

    public init(kind: Kind, host: String, detail: String) {
        self.kind = kind
        self.host = host
        self.detail = detail
    }

    /// True when retrying the same request could succeed.
    public var isTransient: Bool {
        switch kind {
        case .connectFailed, .timedOut, .connectionLost: true
        default: false
        }
    }

    public var description: String {
        switch kind {
        case .invalidURL: "invalid URL for \(host): \(detail)"
        case .egressDenied: "refused to send to \(host): \(detail)"
        case .connectFailed: "could not connect to \(host): \(detail)"
        case .timedOut: "timed out talking to \(host): \(detail)"
        case .tls: "TLS failure with \(host): \(detail)"
        case .connectionLost: "connection to \(host) broke: \(detail)"
        case .responseTooLarge: "response from \(host) too large: \(detail)"
        case .cancelled: "request to \(host) cancelled"
        case .other: "HTTP request to \(host) failed: \(detail)"
        }
    }
}
