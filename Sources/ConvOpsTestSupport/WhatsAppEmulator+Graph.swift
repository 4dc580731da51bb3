import ConvOpsCore
import ConvOpsWebSocket
import Foundation

extension WhatsAppEmulator {
    func graph(_ request: HTTPServerRequest) -> HTTPServerResponse {
        if request.method == "GET", request.path == "/\(Self.version)/\(Self.phoneNumberID)" {
            guard request.header("authorization") == "Bearer \(Self.token)", !state.withLock({ $0.tokenExpired }) else {
                return Self.error(401, 190, "Error validating access token: Session has expired", subcode: 463)
            }
            return HTTPServerResponse(status: 200, contentType: "application/json", body: #"{"id":"\#(Self.phoneNumberID)"}"#)
        }
        guard request.method == "POST", request.path == "/\(Self.version)/\(Self.phoneNumberID)/messages" else {
            return Self.error(400, 100, "Unsupported post request. Object with ID does not exist", subcode: 33)
        }
        if request.header("authorization") != "Bearer \(Self.token)" || state.withLock({ $0.tokenExpired }) {
            return Self.error(401, 190, "Error validating access token: Session has expired", subcode: 463)
        }
        guard let body = JSON.parse(request.body), body["messaging_product"] == "whatsapp", let to = body["to"]?.string,
              !Self.digits(to).isEmpty, let type = body["type"]?.string else {
            return Self.error(400, 100, "(#100) Invalid parameter")
        }
        // Meta knows the person by their wa_id, which may differ from the number dialled (Brazil, Mexico).
        let who = state.withLock { $0.waIDs[Self.digits(to)] } ?? Self.digits(to)
        if let problem = Self.limitBroken(body, type: type) { return refuse(to, type, body, 100, "(#100) Invalid parameter", problem) }
        let templates = state.withLock { $0.templates }
        if type == "template", !templates.contains(body["template"]?["name"]?.string ?? "") {
            return refuse(to, type, body, 132001, "(#132001) Template name does not exist in the translation", nil)
        }
        let now = Date()
        let inWindow = state.withLock { $0.lastInbound[who].map { now.timeIntervalSince($0) < 86_400 } ?? false }
        if type != "template", !inWindow {
            return refuse(to, type, body, 131047, "Re-engagement message",
                          "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
        }
        let injected: Int? = state.withLock { s in
            guard let packed = s.failNext[who] else { return nil }
            let code = packed / 1000, left = packed % 1000 - 1
            s.failNext[who] = left > 0 ? code * 1000 + left : nil
            return code
        }
        if let injected { return refuse(to, type, body, injected, "(#\(injected)) injected by the test", nil) }
        // The pair rate: a bucket of `pairBurst` sends, one more every 6 s.
        let allowed = state.withLock { s -> Bool in
            let t = now.timeIntervalSince1970
            var b = s.bucket[who] ?? (s.pairBurst, t)
            b.tokens = min(s.pairBurst, b.tokens + (t - b.at) / 6)
            b.at = t
            guard b.tokens >= 1 else { s.bucket[who] = b; return false }
            b.tokens -= 1
            s.bucket[who] = b
            return true
        }
        guard allowed else {
            return refuse(to, type, body, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                          "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.")
        }
        let id = state.withLock { s -> String in
            let id = "wamid.EMU\(s.next)"
            s.next += 1
            s.sends.append(Send(to: to, type: type, body: body, messageID: id, refused: nil, at: .now))
            return id
        }
        let answer: JSON = ["messaging_product": "whatsapp", "contacts": [["input": .string(to), "wa_id": .string(who)]],
                            "messages": [["id": .string(id)]]]
        return HTTPServerResponse(status: 200, contentType: "application/json", body: answer.text)
    }

    func refuse(_ to: String, _ type: String, _ body: JSON, _ code: Int, _ message: String, _ details: String?) -> HTTPServerResponse {
        state.withLock { $0.sends.append(Send(to: to, type: type, body: body, messageID: nil, refused: code, at: .now)) }
        return Self.error(code == 190 ? 401 : 400, code, message, details: details)
    }

    static func error(_ status: Int, _ code: Int, _ message: String, subcode: Int? = nil, details: String? = nil) -> HTTPServerResponse {
        var error: JSON = ["message": .string(message), "type": "OAuthException", "code": .number(Double(code)), "fbtrace_id": "AemulatorTrace"]
        if let subcode { error = error.setting("error_subcode", .number(Double(subcode))) }
        if let details { error = error.setting("error_data", ["messaging_product": "whatsapp", "details": .string(details)]) }
        return HTTPServerResponse(status: status, contentType: "application/json", body: JSON.object(["error": error]).text)
    }

    /// The first documented limit the message breaks, if any.
    static func limitBroken(_ body: JSON, type: String) -> String? {
        switch type {
        case "text":
            guard let text = body["text"]?["body"]?.string, !text.isEmpty else { return "text.body is required" }
            return text.count > 4096 ? "text.body is longer than 4096" : nil
        case "interactive":
            let i = body["interactive"]
            let text = i?["body"]?["text"]?.string ?? ""
            switch i?["type"]?.string {
            case "button":
                guard text.count <= 1024, !text.isEmpty else { return "body.text must be 1 to 1024 characters" }
                let buttons = i?["action"]?["buttons"]?.array ?? []
                guard (1...3).contains(buttons.count) else { return "1 to 3 buttons" }
                let titles = buttons.compactMap { $0["reply"]?["title"]?.string }
                guard titles.count == buttons.count, titles.allSatisfy({ (1...20).contains($0.count) }), Set(titles).count == titles.count else {
                    return "button titles must be 1 to 20 characters and unique"
                }
                guard buttons.allSatisfy({ ($0["reply"]?["id"]?.string.map { (1...256).contains($0.utf8.count) }) == true }) else { return "button id 1 to 256" }
                return nil
            case "list":
                guard text.count <= 4096 else { return "list body over 4096" }
                guard let button = i?["action"]?["button"]?.string, (1...20).contains(button.count) else { return "list button 1 to 20" }
                let rows = (i?["action"]?["sections"]?.array ?? []).flatMap { $0["rows"]?.array ?? [] }
                guard (1...10).contains(rows.count) else { return "1 to 10 rows" }
                for r in rows {
                    guard let id = r["id"]?.string, (1...200).contains(id.utf8.count), let title = r["title"]?.string, (1...24).contains(title.count),
                          (r["description"]?.string?.count ?? 0) <= 72 else { return "row id ≤ 200, title ≤ 24, description ≤ 72" }
                }
                return nil
            default:
                return "interactive type \(i?["type"]?.string ?? "-")"
            }
        case "template":
            let components = body["template"]?["components"]?.array ?? []
            for c in components {
                for p in c["parameters"]?.array ?? [] {
                    if p["type"] == "text", (p["text"]?.string ?? "").isEmpty { return "an empty template parameter" }
                    if p["type"] == "text", p["text"]?.string?.contains("\n") == true { return "a newline in a template parameter" }
                    if p["type"] == "payload", !(1...256).contains(p["payload"]?.string?.utf8.count ?? 0) { return "a quick-reply payload of 1 to 256" }
                }
            }
            return nil
        default:
            return "type \(type) is not emulated"
        }
    }
}
