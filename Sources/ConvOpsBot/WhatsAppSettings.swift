import ConvOpsCore
import ConvOpsWhatsApp
import Foundation

/// The config's `whatsapp` section: the business number, where the webhook listens, and who
/// is who. The token, the app secret and the verify token come from the environment only
/// (WHATSAPP_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN).
///
/// ```json
/// "whatsapp": {
///   "phone_number_id": "106540352242922",
///   "version": "v25.0",
///   "listen": "127.0.0.1:8088",
///   "people": [{"number": "+491701234567", "slack": "U0ALICE01", "name": "Alice"}],
///   "templates": {"language": "en", "alert": "convops_alert", "notice": "convops_notice"}
/// }
/// ```
public struct WhatsAppSettings: Sendable, Hashable {
    public struct Contact: Sendable, Hashable {
        /// E.164 with "+": how WhatsApp is told whom to send to.
        public var number: String
        /// The business-scoped user id (`US.…`), for people who write under a username.
        public var userID: String?
        /// Their Slack user id: the same person to the policy, one record in the store.
        public var slack: String?
        public var name: String

        /// The id the policy and the store know this person by.
        public var personID: String { slack ?? number }
        /// WhatsApp ids are the number's digits.
        public var waID: String { String(number.dropFirst()) }
    }

    public var phoneNumberID: String
    public var version = "v25.0"
    public var apiURL = "https://graph.facebook.com"
    public var interface = "127.0.0.1"
    public var port = 8088
    public var path = "/whatsapp/webhook"
    public var people: [Contact] = []
    public var templateLanguage = "en"
    /// Approved UTILITY templates: an alert ({{1}} the alarm and state, {{2}} the resource,
    /// {{3}} the reason; quick replies Acknowledge, the fix, Snooze) and a notice ({{1}} the
    /// text) for what must reach someone outside the 24-hour window.
    public var alertTemplate = "convops_alert"
    public var noticeTemplate = "convops_notice"
    /// {{1}} who asks, {{2}} what, {{3}} the plan id; quick replies Approve and Reject.
    public var approvalTemplate = "convops_approval"

    public init(phoneNumberID: String) {
        self.phoneNumberID = phoneNumberID
    }

    public func contact(waID: String, userID: String?) -> Contact? {
        if !waID.isEmpty, let c = people.first(where: { $0.waID == waID }) { return c }
        if let userID, !userID.isEmpty { return people.first { $0.userID == userID } }
        return nil
    }

    static func parse(_ object: Any, source: String) throws(ConfigurationError) -> WhatsAppSettings {
        guard let map = object as? [String: Any] else {
            throw ConfigurationError("\(source): 'whatsapp' must be an object with phone_number_id, listen and people (see the README's “WhatsApp”)")
        }
        let known: Set<String> = ["phone_number_id", "version", "api_url", "listen", "path", "people", "templates"]
        if let unknown = map.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(source): whatsapp: unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let id = map["phone_number_id"] as? String, GraphAPI.isNumberID(id) else {
            throw ConfigurationError("\(source): whatsapp.phone_number_id must be the business number's id (digits, from WhatsApp Manager → API setup), not the phone number")
        }
        var s = WhatsAppSettings(phoneNumberID: id)
        if let v = map["version"] {
            guard let v = v as? String, GraphAPI.isVersion(v) else { throw ConfigurationError("\(source): whatsapp.version must be a Graph API version such as v25.0") }
            s.version = v
        }
        if let raw = map["api_url"] {
            guard let url = raw as? String, let c = URLComponents(string: url), let host = c.host,
                  c.scheme == "https" || (c.scheme == "http" && (host == "127.0.0.1" || host == "localhost")) else {
                throw ConfigurationError("\(source): whatsapp.api_url must be https://graph.facebook.com (or a loopback emulator)")
            }
            s.apiURL = url
        }
        if let raw = map["listen"] {
            let parts = (raw as? String)?.split(separator: ":").map(String.init) ?? []
            guard parts.count == 2, let port = Int(parts[1]), (1024...65535).contains(port), parts[0].split(separator: ".").count == 4,
                  parts[0].split(separator: ".").allSatisfy({ UInt8($0) != nil }) else {
                throw ConfigurationError("\(source): whatsapp.listen must be an IPv4 address and port such as 127.0.0.1:8088 (behind your TLS terminator)")
            }
            s.interface = parts[0]
            s.port = port
        }
        if let raw = map["path"] {
            guard let path = raw as? String, path.hasPrefix("/"), (2...100).contains(path.count),
                  path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/-_".contains($0)) }) else {
                throw ConfigurationError("\(source): whatsapp.path must be a URL path such as /whatsapp/webhook")
            }
            s.path = path
        }
        if let raw = map["templates"] {
            guard let t = raw as? [String: String], Set(t.keys).isSubset(of: ["language", "alert", "notice", "approval"]),
                  t.values.allSatisfy({ (1...512).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }) else {
                throw ConfigurationError("\(source): whatsapp.templates must be {\"language\": \"en\", \"alert\": \"convops_alert\", \"notice\": \"convops_notice\", \"approval\": \"convops_approval\"} (approved template names)")
            }
            s.templateLanguage = t["language"] ?? s.templateLanguage
            s.alertTemplate = t["alert"] ?? s.alertTemplate
            s.noticeTemplate = t["notice"] ?? s.noticeTemplate
            s.approvalTemplate = t["approval"] ?? s.approvalTemplate
        }
        if let raw = map["people"] {
            guard let list = raw as? [[String: Any]] else {
                throw ConfigurationError("\(source): whatsapp.people must be a list of {\"number\": \"+491701234567\", \"name\": \"Alice\", \"slack\": \"U0ALICE01\"}")
            }
            for (i, entry) in list.enumerated() {
                let at = "\(source): whatsapp.people[\(i)]"
                if let unknown = entry.keys.sorted().first(where: { !["number", "name", "slack", "user_id"].contains($0) }) {
                    throw ConfigurationError("\(at): unknown key '\(unknown)' (known: name, number, slack, user_id)")
                }
                guard let number = entry["number"] as? String, AlertSettings.isPhoneNumber(number) else {
                    throw ConfigurationError("\(at).number must be E.164 with the country code, such as +491701234567")
                }
                guard let name = entry["name"] as? String, (1...80).contains(name.count) else { throw ConfigurationError("\(at).name is required") }
                let slack = entry["slack"] as? String
                if entry["slack"] != nil, !(slack.map(AlertSettings.isSlackUser) ?? false) {
                    throw ConfigurationError("\(at).slack must be a Slack user id such as U0123ABCD")
                }
                let userID = entry["user_id"] as? String
                if entry["user_id"] != nil, !(userID.map { $0.hasPrefix("US.") && (4...80).contains($0.count) } ?? false) {
                    throw ConfigurationError("\(at).user_id must be a business-scoped user id such as US.13491208655302741918")
                }
                guard !s.people.contains(where: { $0.number == number }) else { throw ConfigurationError("\(at): \(number) is listed twice") }
                s.people.append(Contact(number: number, userID: userID, slack: slack, name: name))
            }
        }
        return s
    }
}
