import CWebSockets
import Foundation

/// A small libwebsockets server for HTTP and WebSocket on one port: the loopback servers the
/// tests steer, the Slack emulator, and (later) the WhatsApp webhook.
public final class WebServer: Sendable {
    /// `a=b&c=d` (a form body or a query string) as decoded pairs, in order; `=` alone is an
    /// empty name with an empty value, never a trap.
    public static func formPairs(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { ServerHandler.formPair(String($0)) }
    }

    public typealias HTTPHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse
    /// A handler that answers at once, run on the service thread itself: no task to schedule,
    /// so a busy task pool cannot delay its answers (emulators and stubs). It must not block.
    public typealias ImmediateHTTPHandler = @Sendable (HTTPServerRequest) -> HTTPServerResponse
    public typealias WebSocketHandler = @Sendable (WebSocketConnection) async -> Void

    public struct Configuration: Sendable {
        public var interface: String
        /// 0 lets the kernel choose; read `port` after start.
        public var port: Int32
        public var certificatePath: String?
        public var privateKeyPath: String?
        /// Headers outside lws's known set that handlers need to see (lowercase, no colon).
        public var customHeaders: [String]
        /// As `WebSocketClient.ConnectOptions.immediateReply`, for every server-side connection.
        public var immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)?
        /// A request body larger than this is refused with 413 and the connection closed,
        /// before a handler sees any of it.
        public var maxBodyBytes: Int
        /// Served by a service thread of its own, apart from Slack's sockets: for answers that
        /// wait on something (a write to the store) before they go. Plain HTTP only (TLS is
        /// the main context's; such a server sits behind a TLS terminator).
        public var ownThread = false

        public init(interface: String = "127.0.0.1", port: Int32 = 0, certificatePath: String? = nil,
                    privateKeyPath: String? = nil, customHeaders: [String] = [],
                    immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)? = nil, maxBodyBytes: Int = 8 << 20) {
            self.maxBodyBytes = maxBodyBytes
            self.immediateReply = immediateReply
            self.interface = interface
            self.port = port
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
            self.customHeaders = customHeaders
        }
    }

    private let loop: ServiceLoop
    private let handler: ServerHandler
    private let vhost: Vhost
    public let port: Int

    /// Starts listening (a vhost on the process's libwebsockets service).
    public convenience init(_ configuration: Configuration = Configuration(), http: @escaping HTTPHandler,
                            webSocket: @escaping WebSocketHandler = { $0.close(code: 1003, reason: "no WebSocket here") }) throws(WebSocketError) {
        try self.init(configuration, async: http, immediate: nil, webSocket: webSocket)
    }

    /// A server whose HTTP answers are computed on the service thread (see `ImmediateHTTPHandler`).
    public convenience init(_ configuration: Configuration = Configuration(), immediateHTTP: @escaping ImmediateHTTPHandler,
                            webSocket: @escaping WebSocketHandler = { $0.close(code: 1003, reason: "no WebSocket here") }) throws(WebSocketError) {
        try self.init(configuration, async: { immediateHTTP($0) }, immediate: immediateHTTP, webSocket: webSocket)
    }

    private init(_ configuration: Configuration, async http: @escaping HTTPHandler, immediate: ImmediateHTTPHandler?,
                 webSocket: @escaping WebSocketHandler) throws(WebSocketError) {
        if configuration.ownThread, configuration.certificatePath != nil || configuration.privateKeyPath != nil {
            throw WebSocketError(kind: .setup, detail: "a server on its own thread serves plain HTTP only; put a TLS terminator in front")
        }
        let loop = configuration.ownThread ? ServiceLoop.servers : ServiceLoop.shared
        self.loop = loop
        let handler = ServerHandler(table: ConnectionTable(loop: loop), http: http, webSocket: webSocket,
                                    customHeaders: configuration.customHeaders, immediateReply: configuration.immediateReply,
                                    maxBodyBytes: configuration.maxBodyBytes)
        handler.immediateHTTP = immediate
        self.handler = handler
        // lws shares one listener among vhosts that ask for the same port, port 0 included, so
        // for "any port" we ask the kernel for a free one first (and try again if it was taken
        // in between).
        var attempt = 0
        while true {
            attempt += 1
            let wanted = configuration.port == 0 ? try Self.freePort(configuration.interface) : configuration.port
            let result = loop.perform { () -> Result<Vhost, WebSocketError> in
                Result { () throws(WebSocketError) in
                    try loop.createVhost(name: "server", listen: (configuration.interface, wanted),
                                                       certificatePath: configuration.certificatePath,
                                                       privateKeyPath: configuration.privateKeyPath, delegate: handler)
                }
            }
            switch result {
            case .success(let v):
                vhost = v
                port = Int(v.port)
                return
            case .failure(let error) where configuration.port == 0 && attempt < 5:
                _ = error
                continue
            case .failure(let error):
                throw error
            }
        }
    }

    deinit { shutdown() }

    /// A port nothing listens on right now: bind port 0, read what the kernel chose, let it go.
    public static func freePort(_ interface: String) throws(WebSocketError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebSocketError(kind: .setup, detail: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(interface)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw WebSocketError(kind: .setup, detail: "cannot bind \(interface):0") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int32(UInt16(bigEndian: address.sin_port))
    }

    /// Stops listening and closes every connection. Safe to call more than once.
    public func shutdown() {
        loop.retire(vhost, handler.table)
    }
}
