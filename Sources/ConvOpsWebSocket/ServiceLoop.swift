import CWebSockets
import Foundation
import Synchronization

/// What a vhost forwards libwebsockets callbacks to. Called only on the loop's thread.
protocol ServiceLoopDelegate: AnyObject {
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32
}

/// The process's `lws_context` and the thread that services it. Servers and clients are vhosts
/// on it. One context does TLS, because lws 4.1 keeps its OpenSSL set-up in process globals
/// that a second context with LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT would overwrite (and free
/// when destroyed) under the first one's connections. `servers`, a second context for plain
/// HTTP servers whose answers wait on something, is made after it, never sets that flag, never
/// serves TLS, and lives as long as the process.
///
/// Every lws call happens on the service thread; other threads hand it work through `enqueue`
/// or `perform`, which wake the loop with `lws_cancel_service` (safe from any thread).
///
/// `@unchecked Sendable`: `inbox` is behind a mutex, `context` and `thread` are set before
/// `shared` is published, and everything else is touched only on the service thread.
final class ServiceLoop: @unchecked Sendable {
    static let shared: ServiceLoop = {
        let loop = ServiceLoop(tls: true)
        loop.start(name: "convops.lws")
        return loop
    }()

    /// A second loop for servers whose answers wait on something (the WhatsApp webhook stores
    /// each body before its 200): Slack's sockets, pings and acks never wait behind them.
    static let servers: ServiceLoop = {
        // TLS's process-wide set-up is the first context's, done before this one exists.
        _ = ServiceLoop.shared
        let loop = ServiceLoop(tls: false)
        loop.start(name: "convops.lws.servers")
        return loop
    }()

    /// Whether this context does TLS (and OpenSSL's process-wide set-up): `shared` only.
    let tls: Bool

    private var context: OpaquePointer?
    private var serviceThread: Thread?
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let protocolName = strdup("convops")!
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    private var nextVhost = 0
    /// Ports our vhosts listen on. lws quietly shares a listener between vhosts given the same
    /// port, so a second vhost on a port already ours must be refused, not joined.
    private var listeningPorts: Set<Int32> = []

    var contextPointer: OpaquePointer? { context }

    private init(tls: Bool) {
        self.tls = tls
    }

    private func start(name: String) {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            createContext()
            ready.signal()
            while true {
                if lws_service(context, 0) < 0 { break }
            }
        }
        thread.name = name
        serviceThread = thread
        thread.start()
        ready.wait()
    }

    private func createContext() {
        LWSLogging.configure()
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = lwsTrampoline
        self.protocols = protocols

        var info = lws_context_creation_info()
        info.protocols = UnsafePointer(protocols)
        info.uid = -1
        info.gid = -1
        info.port = CONTEXT_PORT_NO_LISTEN
        info.options = (tls ? UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT) : 0) | UInt64(LWS_SERVER_OPTION_EXPLICIT_VHOSTS)
        info.timeout_secs = 10
        info.user = Unmanaged.passUnretained(self).toOpaque()   // the loop lives for the process
        context = lws_create_context(&info)
        precondition(context != nil, "lws_create_context failed")
        // A vhost that is always there, so wake-ups (EVENT_WAIT_CANCELLED) reach us even when
        // no server or client exists yet.
        _ = try? createVhost(name: "control", listen: nil, certificatePath: nil, privateKeyPath: nil, delegate: nil)
    }

    /// Runs `work` on the service thread, soon. Safe from any thread.
    func enqueue(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        if let context { lws_cancel_service(context) }
    }

    /// Runs `work` on the service thread and waits for its result.
    func perform<T: Sendable>(_ work: @escaping @Sendable () -> T) -> T {
        if Thread.current == serviceThread { return work() }
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        enqueue {
            box.value = work()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    fileprivate func drainInbox() {
        let work = inbox.withLock { items -> [@Sendable () -> Void] in
            defer { items.removeAll() }
            return items
        }
        for item in work { item() }
    }

    // MARK: Vhosts (service thread)

    /// Creates a vhost: a listener when `listen` is given, else a vhost for client connections.
    /// Service thread only. The delegate is retained until lws has destroyed the vhost.
    func createVhost(name: String, listen: (interface: String, port: Int32)?, certificatePath: String?,
                     privateKeyPath: String?, delegate: (any ServiceLoopDelegate)?) throws(WebSocketError) -> Vhost {
        if let listen, listen.port != 0, listeningPorts.contains(listen.port) {
            throw WebSocketError(kind: .setup, detail: "port \(listen.port) is already used by another server in this process")
        }
        nextVhost += 1
        var info = lws_context_creation_info()
        let vhostName = strdup("\(name)-\(nextVhost)")
        let iface: UnsafeMutablePointer<CChar>? = listen.flatMap { strdup($0.interface) }
        let cert: UnsafeMutablePointer<CChar>? = certificatePath.flatMap { strdup($0) }
        let key: UnsafeMutablePointer<CChar>? = privateKeyPath.flatMap { strdup($0) }
        defer { free(vhostName); free(iface); free(cert); free(key) }
        info.protocols = UnsafePointer(protocols)
        info.vhost_name = UnsafePointer(vhostName)
        info.port = listen?.port ?? CONTEXT_PORT_NO_LISTEN
        info.iface = UnsafePointer(iface)
        info.options = tls ? UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT) : 0
        // TLS 1.2 or later, as curl is set for outbound HTTP: whatever the system's OpenSSL
        // configuration allows, neither our clients nor our servers speak anything older.
        info.ssl_client_options_set = convops_lws_tls_below_1_2
        info.ssl_options_set = convops_lws_tls_below_1_2
        // Idle HTTP keep-alive on our server side: long enough that a busy test machine does not
        // close a connection between two requests of one client.
        info.keepalive_timeout = 60
        info.timeout_secs = 10
        if let cert, let key {
            info.ssl_cert_filepath = UnsafePointer(cert)
            info.ssl_private_key_filepath = UnsafePointer(key)
        }
        let box = DelegateBox(delegate)
        info.user = Unmanaged.passRetained(box).toOpaque()
        guard let vhost = lws_create_vhost(context, &info) else {
            Unmanaged.passUnretained(box).release()
            throw WebSocketError(kind: .setup, detail: listen.map { "could not listen on \($0.interface):\($0.port)" } ?? "could not create a client vhost")
        }
        let port = listen == nil ? 0 : lws_get_vhost_listen_port(vhost)
        if port > 0 { listeningPorts.insert(port) }
        return Vhost(pointer: vhost, port: port, box: box)
    }

    /// Fails a vhost's open connections and destroys it, once, on the service thread. Safe from
    /// any thread and more than once: what `WebServer` and `WebSocketClient` do at shutdown.
    func retire(_ vhost: Vhost, _ table: ConnectionTable) {
        enqueue { [self] in
            guard !table.closed else { return }
            table.closed = true
            table.failAll()
            destroy(vhost)
        }
    }

    /// Destroys a vhost and its connections. Service thread only.
    func destroy(_ vhost: Vhost) {
        listeningPorts.remove(vhost.port)
        vhost.box.delegate = nil
        lws_vhost_destroy(vhost.pointer)
    }

    fileprivate func dispatch(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                              _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        if reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED {
            drainInbox()
            return 0
        }
        guard let vhost = lws_get_vhost(wsi), let raw = lws_vhost_user(vhost) else {
            return lws_callback_http_dummy(wsi, reason, user, input, length)
        }
        if reason == LWS_CALLBACK_PROTOCOL_DESTROY {
            // The vhost is gone: drop the reference it held on its delegate.
            Unmanaged<DelegateBox>.fromOpaque(raw).release()
            return 0
        }
        let box = Unmanaged<DelegateBox>.fromOpaque(raw).takeUnretainedValue()
        guard let delegate = box.delegate else { return lws_callback_http_dummy(wsi, reason, user, input, length) }
        return delegate.callback(wsi, reason, user, input, length)
    }
}

/// A vhost and what keeps its delegate alive.
struct Vhost: @unchecked Sendable {
    // @unchecked: the pointer is only used on the service thread.
    let pointer: OpaquePointer
    let port: Int32
    let box: DelegateBox
}

/// Holds a vhost's delegate; the vhost's user pointer retains it until PROTOCOL_DESTROY.
final class DelegateBox: @unchecked Sendable {
    // Read and written on the service thread only.
    var delegate: (any ServiceLoopDelegate)?
    init(_ delegate: (any ServiceLoopDelegate)?) { self.delegate = delegate }
}

private final class ResultBox<T>: @unchecked Sendable {
    // Written on the service thread, read after the semaphore: the semaphore orders the two.
    var value: T?
}

/// The C callback for every lws event: recovers the loop and hands the event on.
private func lwsTrampoline(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                           _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    // Not ServiceLoop.shared: callbacks arrive while `shared` is still being initialised.
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    return Unmanaged<ServiceLoop>.fromOpaque(raw).takeUnretainedValue().dispatch(wsi, reason, user, input, length)
}

/// lws logs to stderr by default; keep only errors, so the console chat stays clean.
/// `CONVOPS_LWS_DEBUG=1` turns on lws's own notices and debug lines for troubleshooting.
enum LWSLogging {
    private static let once: Void = {
        let debug = ProcessInfo.processInfo.environment["CONVOPS_LWS_DEBUG"] == "1"
        lws_set_log_level(debug ? (LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_DEBUG) : LLL_ERR, nil)
    }()

    static func configure() { _ = once }
}

/// Start-up of the process's libwebsockets service, ahead of need.
public enum WebSocketService {
    /// Starts the service thread and its TLS set-up on another thread and returns at once. The
    /// first TLS client context loads and parses the system's CA certificates (about 35 ms
    /// here), which later clients share; begun first thing, that overlaps the grammar and the
    /// store opening instead of following them. Whoever needs the service before it is ready
    /// waits for it as before.
    public static func prepare() {
        Thread.detachNewThread { _ = ServiceLoop.shared }
    }

    /// Waits until what `prepare` began is done. A process that exits must call it first: its
    /// exit handlers tear down OpenSSL, and doing that while the other thread is inside
    /// OpenSSL's set-up crashed `convops run` when it refused a bad configuration at once.
    public static func waitUntilPrepared() {
        _ = ServiceLoop.shared
    }
}
