import ConvOpsCore
import ConvOpsHTTP
import Foundation
import Logging

/// What a failed send means for the sender, from Meta's error code (not the HTTP status,
/// which is 400 for most, nor the subcode, deprecated since v16).
public struct WhatsAppAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// 131047: more than 24 hours since the person last wrote; only a template may go.
        case reengage
        /// 130429 (the number's throughput) and 131056 (the pair rate): wait, then again.
        case throttled
        /// 190: the access token expired or was revoked; nothing can be sent until it is replaced.
        case tokenExpired
        /// 131026 and its kin: this person cannot get it (not on WhatsApp, old client, …).
        case undeliverable
        /// A transport failure or Meta's transient errors (131000, 131016, 131057, 5xx).
        case transient
        /// Anything else (100 invalid parameter, 132xxx template problems): a bug or config to fix.
        case refused
    }

    public var status: Int
    public var detail: WhatsAppErrorDetail?
    /// A transport failure (no answer from the Graph API at all).
    public var transport: String?

    public var kind: Kind {
        guard let code = detail?.code else { return transport != nil || status >= 500 ? .transient : .refused }
        switch code {
        case 131047: return .reengage
        case 130429, 131056, 80007, 4: return .throttled
        case 190: return .tokenExpired
        case 131026, 131030, 131049, 130472: return .undeliverable
        case 131000, 131016, 131057, 2, 1: return .transient
        default: return status >= 500 ? .transient : .refused
        }
    }

    public var description: String {
        if let transport { return "WhatsApp unreachable: \(transport)" }
        return "WhatsApp refused the message (HTTP \(status)) \(detail.map(\.description) ?? "")"
    }
}

/// The Cloud API's send endpoint over the shared libcurl client: `POST {base}/{version}/
/// {phone-number-id}/messages` with the system-user token. The token is read from the
/// environment and lives only here.
public struct GraphAPI: Sendable {
    /// Accepted (not delivered: statuses say that): the message's wamid and the recipient's WhatsApp id.
    public struct Sent: Sendable, Hashable {
        public var messageID: String
        public var waID: String?
    }

    let http: HTTPClient
    let baseURL: String
    let version: String
    let phoneNumberID: String
    let token: WhatsAppSecret
    let logger: Logger

    public init(http: HTTPClient, baseURL: String = "https://graph.facebook.com", version: String, phoneNumberID: String,
                token: WhatsAppSecret, logger: Logger) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.version = version
        self.phoneNumberID = phoneNumberID
        self.token = token
        self.logger = logger
    }

    /// `v25.0`: the only shape a version may have in a URL path.
    public static func isVersion(_ s: String) -> Bool {
        let parts = s.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return s.hasPrefix("v") && parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }
    }

    /// A phone number id is digits only (it goes into the path).
    public static func isNumberID(_ s: String) -> Bool { (5...32).contains(s.count) && s.allSatisfy { $0.isASCII && $0.isNumber } }

    /// Whether the token may use the business number: `GET /{version}/{phone-number-id}`.
    public func checkNumber() async throws(WhatsAppAPIError) {
        let request = HTTPRequest(method: .get, url: "\(baseURL)/\(version)/\(phoneNumberID)?fields=id",
                                  headers: [("Authorization", token.authorization)], timeout: .seconds(10))
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw WhatsAppAPIError(status: 0, detail: nil, transport: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            let e = JSON.parse(response.body)?["error"]
            throw WhatsAppAPIError(status: response.status, detail: e.map {
                WhatsAppErrorDetail(code: $0["code"]?.int ?? 0, title: $0["message"]?.string ?? "")
            }, transport: nil)
        }
    }

    public func send(_ message: OutboundMessage) async throws(WhatsAppAPIError) -> Sent {
        let url = "\(baseURL)/\(version)/\(phoneNumberID)/messages"
        let request = HTTPRequest(method: .post, url: url,
                                  headers: [("Authorization", token.authorization), ("Content-Type", "application/json")],
                                  body: message.json.data, timeout: .seconds(20))
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw WhatsAppAPIError(status: 0, detail: nil, transport: "\(error)")
        }
        let answer = JSON.parse(response.body)
        if (200..<300).contains(response.status), let id = answer?["messages"]?[0]?["id"]?.string {
            if let warning = response.headers.first(where: { $0.name.lowercased() == "x-ad-api-version-warning" })?.value {
                logger.warning("whatsapp.version_warning", metadata: ["whatsapp.warning": "\(warning)"])
            }
            return Sent(messageID: id, waID: answer?["contacts"]?[0]?["wa_id"]?.string)
        }
        let error = answer?["error"]
        let detail = error.map { e in
            WhatsAppErrorDetail(code: e["code"]?.int ?? 0, title: e["message"]?.string ?? e["type"]?.string ?? "",
                                details: e["error_data"]?["details"]?.string)
        }
        throw WhatsAppAPIError(status: response.status, detail: detail, transport: nil)
    }
}
