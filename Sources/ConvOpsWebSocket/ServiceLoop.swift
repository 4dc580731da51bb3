import CWebSockets
import Foundation
import Synchronization

/// What a loop forwards libwebsockets callbacks to. Called only on the loop's own thread.
protocol ServiceLoopDelegate: AnyObject {
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32
}

/// One `lws_context` and the one thread that services it. Every lws call happens on that
/// thread; other threads hand it work through `enqueue`, which wakes the loop with
/// `lws_cancel_service` (the one lws call that is safe from any thread).
///
/// `@unchecked Sendable`: `inbox` is behind a mutex, `context` is written once before `start`
/// returns, and everything else is touched only on the service thread.
final class ServiceLoop: @unchecked Sendable {
    private var context: OpaquePointer?
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    private let protocolName: UnsafeMutablePointer<CChar>
    weak var delegate: (any ServiceLoopDelegate)?
    /// The port the server vhost listens on, once started (0 for a client-only loop).
    private(set) var listenPort: Int32 = 0

    init(protocolName: String) {
        self.protocolName = strdup(protocolName)
    }

    deinit {
        free(protocolName)
        protocols?.deallocate()
    }

    struct StartOptions {
        /// nil for a client-only context.
        var listen: (interface: String, port: Int32)?
        var certificatePath: String?
        var privateKeyPath: String?
        var customHeaderNames: [String] = []
    }

    /// Creates the context on a new thread and starts servicing it. Throws if lws refuses.
    func start(_ options: StartOptions) throws(WebSocketError) {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: WebSocketError?
                let thread = Thread { [self] in
            do throws(WebSocketError) {
                try createContext(options)
            } catch {
                failure = error
                ready.signal()
                finished.signal()
                return
            }
            ready.signal()
            run()
        }
        thread.name = "convops.lws"
        thread.start()
        ready.wait()
        if let failure { throw failure }
    }

    private func createContext(_ options: StartOptions) throws(WebSocketError) {
        LWSLogging.configure()
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = lwsTrampoline
        protocols[0].rx_buffer_size = 0
        self.protocols = protocols

        var info = lws_context_creation_info()
        info.protocols = UnsafePointer(protocols)
        info.uid = -1
        info.gid = -1
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.options = UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
        info.timeout_secs = 10
        info.port = CONTEXT_PORT_NO_LISTEN
        let iface: UnsafeMutablePointer<CChar>? = options.listen.flatMap { strdup($0.interface) }
        let cert: UnsafeMutablePointer<CChar>? = options.certificatePath.flatMap { strdup($0) }
        let key: UnsafeMutablePointer<CChar>? = options.privateKeyPath.flatMap { strdup($0) }
        let vhostName = strdup("default")
        defer { free(iface); free(cert); free(key); free(vhostName) }
        if let listen = options.listen {
            info.port = listen.port
            info.iface = UnsafePointer(iface!)
            info.vhost_name = UnsafePointer(vhostName)
            if let cert, let key {
                info.ssl_cert_filepath = UnsafePointer(cert)
                info.ssl_private_key_filepath = UnsafePointer(key)
            }
        }
        guard let ctx = lws_create_context(&info) else {
            throw WebSocketError(kind: .setup, detail: options.listen == nil
                ? "lws_create_context failed" : "could not listen on \(options.listen!.interface):\(options.listen!.port)")
        }
        context = ctx
        if options.listen != nil, let vhost = lws_get_vhost_by_name(ctx, "default") {
            listenPort = lws_get_vhost_listen_port(vhost)
        }
    }

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            if lws_service(context, 0) < 0 { break }
        }
        drainInbox()
        lws_context_destroy(context)
        context = nil
        finished.signal()
    }

    /// The context, for lws calls made on the service thread.
    var contextPointer: OpaquePointer? { context }

    /// Runs `work` on the service thread, soon. Safe from any thread.
    func enqueue(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        wake()
    }

    private func wake() {
        if let context { lws_cancel_service(context) }
    }

    private func drainInbox() {
        let work = inbox.withLock { items -> [@Sendable () -> Void] in
            defer { items.removeAll() }
            return items
        }
        for item in work { item() }
    }

    /// Stops the loop and destroys the context; waits until the thread is done.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        finished.wait()
    }

    fileprivate func dispatch(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                              _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        if reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED {
            drainInbox()
            return 0
        }
        guard let delegate else { return lws_callback_http_dummy(wsi, reason, user, input, length) }
        return delegate.callback(wsi, reason, user, input, length)
    }
}

/// The C callback for every lws event: recovers the loop from the context's user pointer.
private func lwsTrampoline(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                           _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    let loop = Unmanaged<ServiceLoop>.fromOpaque(raw).takeUnretainedValue()
    return loop.dispatch(wsi, reason, user, input, length)
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
