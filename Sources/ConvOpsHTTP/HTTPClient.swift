import CCurl
import Foundation
import Logging
import Synchronization

public struct HTTPClientConfiguration: Sendable {
    public var connectTimeout: Duration
    public var totalTimeout: Duration
    public var egress: EgressPolicy
    /// Responses larger than this are refused (a runaway or hostile peer can't fill memory).
    public var maxResponseBytes: Int
    /// Handles kept warm for reuse; each holds its own connection cache.
    public var maxIdleHandles: Int
    public var userAgent: String
    /// The outbound proxy (`http://proxy.internal:3128`), or nil for none. Only this: curl
    /// would otherwise follow `https_proxy` and friends from the environment, and send every
    /// call, tokens included, wherever they point.
    public var proxy: String?

    public init(connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30),
                egress: EgressPolicy = .production, maxResponseBytes: Int = 16 << 20,
                maxIdleHandles: Int = 8, userAgent: String = "convops/0.1", proxy: String? = nil) {
        self.proxy = proxy
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.egress = egress
        self.maxResponseBytes = maxResponseBytes
        self.maxIdleHandles = maxIdleHandles
        self.userAgent = userAgent
    }
}

/// The one HTTP client for everything outbound, on libcurl. Requires TLS 1.2 or later, speaks
/// only http and https, follows no redirects, checks the egress policy before every call and
/// keeps connections alive by reusing easy handles.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idle = Mutex<[EasyHandleBox]>([])
    public let logger: Logger

    /// Where transfers run: the process's threads, or (in tests) a pool of their own.
    let threads: TransferThreads

    public convenience init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(),
                            logger: Logger) {
        self.init(configuration: configuration, logger: logger, threads: .shared)
    }

    init(configuration: HTTPClientConfiguration, logger: Logger, threads: TransferThreads) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        self.configuration = configuration
        self.logger = logger
        self.threads = threads
    }

    /// libcurl's process-wide set-up, now: for a process that starts other threads using
    /// OpenSSL (`WebSocketService.prepare`) before its first client, as curl asks.
    public static func prepare() {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
    }

    /// Sends the request and returns the response, whatever its status. Throws `HTTPError`
    /// only when no response arrived.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let components = URLComponents(string: request.url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else {
            throw HTTPError(kind: .invalidURL, host: "?", detail: "not an absolute URL")
        }
        // user@host URLs are how a crafted string smuggles another host past a suffix check.
        guard components.user == nil, components.password == nil else {
            throw HTTPError(kind: .invalidURL, host: host, detail: "URLs with user information are refused")
        }
        guard scheme == "http" || scheme == "https" else {
            throw HTTPError(kind: .invalidURL, host: host, detail: "scheme '\(scheme)' is not http or https")
        }
        if let reason = configuration.egress.check(scheme: scheme, host: host) {
            throw HTTPError(kind: .egressDenied, host: host, detail: reason)
        }
        let transfer = Transfer(maxBodyBytes: configuration.maxResponseBytes)
        let started = ContinuousClock.now
        let response: HTTPResponse = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                // curl_easy_perform blocks: on threads of our own, never the pool tasks run on.
                self.threads.run {
                    continuation.resume(with: Result { try self.perform(request, host: host, transfer: transfer, queuedAt: started) })
                }
            }
        } onCancel: {
            transfer.cancelled.store(true, ordering: .relaxed)
        }
        logger.debug("http.response", metadata: [
            "http.method": "\(request.method.rawValue)", "http.host": "\(host)",
            "http.status": "\(response.status)", "http.duration": "\(ContinuousClock.now - started)",
        ])
        return response
    }

    private func perform(_ request: HTTPRequest, host: String, transfer: Transfer, queuedAt: ContinuousClock.Instant) throws -> HTTPResponse {
        // Waiting for a thread counts against the request's time, and a request cancelled
        // while it waited is not started.
        if transfer.cancelled.load(ordering: .relaxed) {
            throw HTTPError(kind: .cancelled, host: host, detail: "cancelled before it started")
        }
        let total = request.timeout ?? configuration.totalTimeout
        let waited = ContinuousClock.now - queuedAt
        let left = total - waited
        guard left > .milliseconds(1) else {
            // Never sent, so never carried out: said as the peer never reached, which callers
            // may safely send again (a timeout might have done it).
            throw HTTPError(kind: .connectFailed, host: host,
                            detail: "not sent: no transfer thread was free within its \(total) (waited \(waited))")
        }
        let box = try borrow(host: host)
        let handle = box.handle
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(headerList)
            giveBack(box)
        }
        do {
            try configure(handle, request, timeout: left)
            for (name, value) in request.headers {
                headerList = curl_slist_append(headerList, "\(name): \(value)")
            }
            // No "Expect: 100-continue" round trip before bodies.
            headerList = curl_slist_append(headerList, "Expect:")
            try handle.set(CURLOPT_HTTPHEADER, list: headerList)
            let user = Unmanaged.passUnretained(transfer).toOpaque()
            try handle.set(CURLOPT_WRITEFUNCTION, callback: transferWrite)
            try handle.set(CURLOPT_WRITEDATA, pointer: user)
            try handle.set(CURLOPT_HEADERFUNCTION, callback: transferHeader)
            try handle.set(CURLOPT_HEADERDATA, pointer: user)
            try handle.set(CURLOPT_XFERINFOFUNCTION, progress: transferProgress)
            try handle.set(CURLOPT_XFERINFODATA, pointer: user)
            try handle.set(CURLOPT_NOPROGRESS, 0)
        } catch {
            box.poisoned = true
            throw HTTPError(kind: .other, host: host, detail: "\(error.operation): \(error.message)")
        }
        let code = withExtendedLifetime(transfer) { handle.perform() }
        guard code == CURLE_OK else {
            box.poisoned = code != CURLE_OPERATION_TIMEDOUT && code != CURLE_COULDNT_CONNECT
            throw Self.error(for: code, transfer: transfer, host: host, message: handle.message(for: code))
        }
        return HTTPResponse(status: handle.responseCode(), headers: transfer.headers, body: transfer.body,
                            reusedConnection: handle.newConnections() == 0)
    }

    private func configure(_ handle: EasyHandle, _ request: HTTPRequest, timeout: Duration) throws(CurlFailure) {
        try handle.attachErrorBuffer()
        try handle.set(CURLOPT_URL, request.url)
        try handle.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try handle.set(CURLOPT_FOLLOWLOCATION, 0)
        // "" tells curl to use no proxy, whatever the environment says. With a proxy, loopback
        // and the link-local credential endpoints still go direct: their tokens are for this host.
        try handle.set(CURLOPT_PROXY, configuration.proxy ?? "")
        if configuration.proxy != nil {
            try handle.set(CURLOPT_NOPROXY, "127.0.0.0/8,::1,localhost,169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::254")
        }
        try handle.set(CURLOPT_NOSIGNAL, 1)
        try handle.set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        try handle.set(CURLOPT_SSL_VERIFYPEER, 1)
        try handle.set(CURLOPT_SSL_VERIFYHOST, 2)
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        try handle.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout))
        try handle.set(CURLOPT_USERAGENT, configuration.userAgent)
        try handle.set(CURLOPT_ACCEPT_ENCODING, "")
        switch request.method {
        case .get:
            try handle.set(CURLOPT_HTTPGET, 1)
        case .head:
            try handle.set(CURLOPT_NOBODY, 1)
        case .post:
            try handle.set(CURLOPT_POST, 1)
        case .put, .delete, .patch:
            try handle.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        // PUT and PATCH too, when empty: "Content-Length: 0" rather than a server waiting for a body.
        if !request.body.isEmpty || request.method == .post || request.method == .put || request.method == .patch {
            try handle.setBody(request.body)
        }
    }

    private static func error(for code: CURLcode, transfer: Transfer, host: String, message: String) -> HTTPError {
        if transfer.tooLarge {
            return HTTPError(kind: .responseTooLarge, host: host, detail: "over \(transfer.maxBodyBytes) bytes")
        }
        if transfer.cancelled.load(ordering: .relaxed) {
            return HTTPError(kind: .cancelled, host: host, detail: message)
        }
        let kind: HTTPError.Kind
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY:
            kind = .connectFailed
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            kind = .tls
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE:
            kind = .connectionLost
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            kind = .invalidURL
        default:
            kind = .other
        }
        return HTTPError(kind: kind, host: host, detail: message)
    }

    private static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    private func borrow(host: String) throws -> EasyHandleBox {
        if let box = idle.withLock({ $0.popLast() }) {
            box.handle.reset()
            return box
        }
        guard let handle = EasyHandle() else {
            throw HTTPError(kind: .other, host: host, detail: "curl_easy_init failed (out of memory?)")
        }
        return EasyHandleBox(handle)
    }

    private func giveBack(_ box: EasyHandleBox) {
        guard !box.poisoned else { return }
        let max = configuration.maxIdleHandles
        idle.withLock { if $0.count < max { $0.append(box) } }
    }
}

/// Carries an easy handle between the pool and the thread using it. Sendable because the
/// pool's lock hands each handle to exactly one transfer at a time.
final class EasyHandleBox: @unchecked Sendable {
    let handle: EasyHandle
    var poisoned = false
    init(_ handle: EasyHandle) { self.handle = handle }
}
