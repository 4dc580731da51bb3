import ConvOpsWebSocket
import Foundation
import Synchronization

/// The webhook's HTTP side: the GET subscription check and the signed POSTs. A POST is
/// verified over its exact bytes, kept durably by `keep`, and only then answered 200; the
/// processing comes after, elsewhere. Anything unsigned or mis-signed gets 401 and is counted.
public final class WebhookEndpoint: Sendable {
    /// Meta's payloads are at most 3 MB; the server refuses larger bodies before they are read.
    public static let maxBody = 3 << 20
    /// The header the server must pass through (lws does not know it).
    public static let signatureHeader = "x-hub-signature-256"

    public struct Counts: Sendable, Hashable {
        public var accepted = 0
        public var refused = 0
        public var failedToKeep = 0
        public var challenges = 0
    }

    let path: String
    let appSecret: WhatsAppSecret
    let verifyToken: WhatsAppSecret
    let keep: @Sendable (Data) throws -> Void
    let tally = Mutex(Counts())

    public init(path: String = "/whatsapp/webhook", appSecret: WhatsAppSecret, verifyToken: WhatsAppSecret,
                keep: @escaping @Sendable (Data) throws -> Void) {
        self.path = path
        self.appSecret = appSecret
        self.verifyToken = verifyToken
        self.keep = keep
    }

    public var counts: Counts { tally.withLock { $0 } }

    /// The server for this endpoint, as `convops run` listens: plain HTTP behind the customer's
    /// TLS terminator, answered on a service thread of its own (not Slack's: the answer waits
    /// for the store), bodies over `maxBody` refused unread. The server's task path stalls a
    /// connection's first request for seconds (`convops-bench whatsapp`, BENCH_MODE=async), so
    /// the answer is computed on that thread.
    public func listen(interface: String = "127.0.0.1", port: Int = 0) throws(WebSocketError) -> WebServer {
        var configuration = WebServer.Configuration(interface: interface, port: Int32(port), customHeaders: [Self.signatureHeader],
                                                    maxBodyBytes: Self.maxBody)
        configuration.ownThread = true
        return try WebServer(configuration, immediateHTTP: { [self] in handle($0) })
    }

    public func handle(_ request: HTTPServerRequest) -> HTTPServerResponse {
        guard request.path == path else { return HTTPServerResponse(status: 404, contentType: "text/plain", body: "not found\n") }
        switch request.method {
        case "GET":
            guard let challenge = WebhookAuth.challenge(query: request.query, verifyToken: verifyToken) else {
                tally.withLock { $0.refused += 1 }
                return HTTPServerResponse(status: 403, contentType: "text/plain", body: "verification failed\n")
            }
            tally.withLock { $0.challenges += 1 }
            return HTTPServerResponse(status: 200, contentType: "text/plain", body: challenge)
        case "POST":
            guard WebhookAuth.isSigned(request.body, header: request.header(Self.signatureHeader), appSecret: appSecret) else {
                tally.withLock { $0.refused += 1 }
                return HTTPServerResponse(status: 401, contentType: "text/plain", body: "bad signature\n")
            }
            do {
                try keep(request.body)
            } catch {
                // Not kept: Meta must send it again, so it must not get a 200.
                tally.withLock { $0.failedToKeep += 1 }
                return HTTPServerResponse(status: 503, contentType: "text/plain", body: "try again\n")
            }
            tally.withLock { $0.accepted += 1 }
            return HTTPServerResponse(status: 200)
        default:
            return HTTPServerResponse(status: 405, headers: [("content-type", "text/plain"), ("allow", "GET, POST")], body: Data("method not allowed\n".utf8))
        }
    }
}
