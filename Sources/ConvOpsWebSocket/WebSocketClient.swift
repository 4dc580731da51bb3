import CWebSockets
import Foundation

/// A libwebsockets client. All its connections share one lws context and one service thread.
public final class WebSocketClient: Sendable {
    public struct ConnectOptions: Sendable {
        /// Accept a self-signed certificate and skip the host-name check: loopback tests only.
        public var allowSelfSigned: Bool
        /// Runs on the service thread for every complete text frame, before the frame is handed
        /// on; what it returns is sent at once. For protocol acknowledgements that must not wait
        /// for a task to be scheduled (Slack's 3-second ack). Keep it short and allocation-light.
        public var immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)?

        public init(allowSelfSigned: Bool = false, immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)? = nil) {
            self.allowSelfSigned = allowSelfSigned
            self.immediateReply = immediateReply
        }
    }

    private let loop = ServiceLoop.shared
    private let handler: ClientHandler
    private let vhost: Vhost

    /// A client: a vhost of its own on the process's libwebsockets service.
    public init() throws(WebSocketError) {
        let handler = ClientHandler(table: ConnectionTable(loop: ServiceLoop.shared))
        self.handler = handler
        let result = ServiceLoop.shared.perform { () -> Result<Vhost, WebSocketError> in
            Result { () throws(WebSocketError) in
                try ServiceLoop.shared.createVhost(name: "client", listen: nil, certificatePath: nil, privateKeyPath: nil, delegate: handler)
            }
        }
        vhost = try result.get()
        handler.vhost = vhost.pointer
    }

    deinit { shutdown() }

    /// Opens a connection to a ws:// or wss:// URL; returns once the handshake completed.
    public func connect(to url: String, options: ConnectOptions = ConnectOptions()) async throws -> WebSocketConnection {
        let target = try WebSocketURL(url)
        let (events, continuation) = AsyncStream.makeStream(of: WebSocketEvent.self, bufferingPolicy: .unbounded)
        let table = handler.table
        let box = StateBox()
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            loop.enqueue {
                let state = table.register(continuation: continuation)
                state.immediateReply = options.immediateReply
                box.id = state.id
                state.connectWaiter = waiter
                self.handler.open(target, options: options, state: state)
            }
        }
        return WebSocketConnection(id: box.id, path: target.path, events: events, table: table)
    }

    /// Closes every connection and removes the client's vhost. Safe to call more than once.
    public func shutdown() {
        loop.retire(vhost, handler.table)
    }
}

/// Carries the new connection's id from the loop thread to the awaiting task; the
/// continuation's resume orders the write before the read.
private final class StateBox: @unchecked Sendable { var id = 0 }

/// Loop-thread side of the client. `@unchecked Sendable`: the client only holds it to keep it
/// alive and to reach the table; every call on it happens on the loop thread.
final class ClientHandler: ServiceLoopDelegate, @unchecked Sendable {
    let table: ConnectionTable
    var vhost: OpaquePointer?

    init(table: ConnectionTable) { self.table = table }

    func open(_ target: WebSocketURL, options: WebSocketClient.ConnectOptions, state: ConnectionState) {
        var info = lws_client_connect_info()
        let address = strdup(target.host), path = strdup(target.path), host = strdup(target.hostHeader)
        let proto = strdup("convops-client")
        defer { free(address); free(path); free(host); free(proto) }
        info.context = table.loop.contextPointer
        info.vhost = vhost
        info.address = UnsafePointer(address)
        info.port = target.port
        info.path = UnsafePointer(path)
        info.host = UnsafePointer(host)
        info.origin = UnsafePointer(host)
        // No subprotocol: servers that don't speak ours would refuse the upgrade.
        info.protocol = nil
        info.local_protocol_name = UnsafePointer(proto)
        info.ietf_version_or_minus_one = -1
        info.opaque_user_data = ConnectionTable.tag(state.id)
        if target.secure {
            var flags = Int32(LCCSCF_USE_SSL.rawValue)
            if options.allowSelfSigned {
                flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
            }
            info.ssl_connection = flags
        }
        if lws_client_connect_via_info(&info) == nil, table.connections[state.id] != nil {
            // lws may already have reported CONNECTION_ERROR synchronously; otherwise fail here.
            table.connectionError(state, nil, 0)
        }
    }

    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            if let state = table.state(for: wsi) { table.established(wsi, state) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if let state = table.state(for: wsi) { return table.receive(wsi, state, input, length) }
        case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
            table.state(for: wsi)?.continuation.yield(.pong)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if let state = table.state(for: wsi) { return table.writable(wsi, state) }
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let state = table.state(for: wsi) { table.peerInitiatedClose(state, input, length) }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            if let state = table.state(for: wsi) { table.connectionError(state, input, length) }
        case LWS_CALLBACK_CLIENT_CLOSED:
            if let state = table.state(for: wsi) { table.closed(state) }
        default:
            break
        }
        return lws_callback_http_dummy(wsi, reason, nil, input, length)
    }
}

struct WebSocketURL: Sendable {
    var secure: Bool
    var host: String
    var port: Int32
    var path: String

    var hostHeader: String { (port == 443 && secure) || (port == 80 && !secure) ? host : "\(host):\(port)" }

    init(_ text: String) throws(WebSocketError) {
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty else {
            throw WebSocketError(kind: .invalidURL, detail: "not an absolute URL")
        }
        switch scheme {
        case "ws": secure = false
        case "wss": secure = true
        default: throw WebSocketError(kind: .invalidURL, detail: "scheme '\(scheme)' is not ws or wss")
        }
        self.host = host
        // The URL comes from a server's answer (apps.connections.open): a port that is no
        // port is refused, not converted (Int32(4294967296) traps).
        let number = c.port ?? (secure ? 443 : 80)
        guard (1...65_535).contains(number) else {
            throw WebSocketError(kind: .invalidURL, detail: "port \(number) is not from 1 to 65535")
        }
        port = Int32(number)
        let base = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
        path = c.percentEncodedQuery.map { "\(base)?\($0)" } ?? base
    }
}
