import ConvOpsCore
import ConvOpsHTTP
import ConvOpsWebSocket
import ConvOpsWhatsApp
import Foundation
import Synchronization

/// The WhatsApp Cloud API on loopback: `POST /{version}/{phone-number-id}/messages` with the
/// documented limits enforced (three reply buttons, titles of 20, ten list rows, body lengths),
/// the 24-hour window (free-form only within 24 h of the person's last message, else 131047),
/// the pair rate (a bucket of 45 refilled one per 6 s per recipient, else 131056), the token
/// (190 when wrong or expired), and approved templates only. It records every send and posts
/// signed webhooks built from the real payloads in `WhatsAppFixtures/`.
public final class WhatsAppEmulator: Sendable {
    public static let token = "EAAG-emulator-system-user-token"
    public static let appSecret = "emulator-app-secret"
    public static let verifyToken = "emulator-verify-token"
    public static let phoneNumberID = "106540352242922"
    public static let version = "v25.0"

    /// A message the API accepted (or refused, with its error code).
    public struct Send: Sendable {
        public var to: String
        public var type: String
        public var body: JSON
        public var messageID: String?
        public var refused: Int?
        public var at: ContinuousClock.Instant
    }

    struct State {
        var sends: [Send] = []
        var lastInbound: [String: Date] = [:]
        var bucket: [String: (tokens: Double, at: Double)] = [:]
        var tokenExpired = false
        var failNext: [String: Int] = [:]
        var next = 1
        var templates: Set<String> = ["convops_alert", "convops_approval", "convops_notice"]
        var pairBurst: Double = 45
        /// Dialled digits → the wa_id Meta reports and writes from.
        var waIDs: [String: String] = [:]
    }

    let state = Mutex(State())
    let server: WebServer
    public let apiURL: String
    let http: HTTPClient

    public init() throws {
        let box = Mutex<WhatsAppEmulator?>(nil)
        server = try WebServer(immediateHTTP: { request in
            guard let me = box.withLock({ $0 }) else { return HTTPServerResponse(status: 503) }
            return me.graph(request)
        })
        apiURL = "http://127.0.0.1:\(server.port)"
        http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        box.withLock { $0 = self }
    }

    public func shutdown() { server.shutdown() }

    // MARK: Steering

    public var sends: [Send] { state.withLock { $0.sends } }
    public var accepted: [Send] { sends.filter { $0.refused == nil } }
    /// Sends refused for the pair rate: a sender that paces itself never gets one.
    public var pairRateViolations: Int { sends.filter { $0.refused == 131056 }.count }

    /// The person wrote `at` (their window runs 24 h from then).
    public func personWrote(_ waID: String, at: Date = Date()) { state.withLock { $0.lastInbound[Self.digits(waID)] = at } }
    public func expireToken(_ expired: Bool = true) { state.withLock { $0.tokenExpired = expired } }
    /// The next `times` sends to `to` fail with `code` (131026 undeliverable, 130429 throughput…).
    public func fail(to: String, code: Int, times: Int = 1) { state.withLock { $0.failNext[Self.digits(to)] = code * 1000 + times } }
    /// A strict pair rate (1: no burst at all).
    /// Sends to `dialled` are answered with `waID` (as Meta does for some Brazilian and Mexican numbers).
    public func reportWaID(_ dialled: String, as waID: String) { state.withLock { $0.waIDs[Self.digits(dialled)] = Self.digits(waID) } }
    public func pairBurst(_ n: Double) { state.withLock { $0.pairBurst = n } }

    public func wait(_ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                let recent = sends.suffix(3).map { "\($0.to) \($0.type) \($0.refused.map { "refused \($0)" } ?? "ok")" }
                throw TestSupportError("timed out waiting for \(what); last sends \(recent)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func digits(_ s: String) -> String { String(s.filter { $0.isASCII && $0.isNumber }) }
}
