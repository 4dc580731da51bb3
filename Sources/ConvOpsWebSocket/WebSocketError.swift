/// A WebSocket failure, reported as a value: as a thrown error from `connect`, or as the
/// last event of a connection's stream.
public struct WebSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case invalidURL
        /// Creating the lws context or listener failed.
        case setup
        /// DNS, TCP, TLS or the HTTP upgrade failed.
        case connectFailed
        /// The connection broke without a close handshake.
        case connectionLost
        /// A message exceeded the size limit.
        case messageTooLarge
        /// The client or server was shut down.
        case shutdown
    }

    public var kind: Kind
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .invalidURL: "invalid WebSocket URL: \(detail)"
        case .setup: "WebSocket setup failed: \(detail)"
        case .connectFailed: "WebSocket connect failed: \(detail)"
        case .connectionLost: "WebSocket connection lost: \(detail)"
        case .messageTooLarge: "WebSocket message too large: \(detail)"
        case .shutdown: "WebSocket endpoint shut down"
        }
    }
}
