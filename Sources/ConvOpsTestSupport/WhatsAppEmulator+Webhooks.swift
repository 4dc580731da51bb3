import ConvOpsCore
import ConvOpsHTTP
import ConvOpsWhatsApp
import Foundation

/// Webhooks as Meta sends them: built from the real payloads, signed with the app secret over
/// the exact bytes, with Meta's escaped-unicode serialisation, posted to the bot's endpoint.
extension WhatsAppEmulator {
    public enum Signing: Sendable {
        case valid, missing, wrongSecret
        case header(String)
    }

    /// Posts `body` to `url` (the bot's webhook) and returns the HTTP status it answered.
    @discardableResult
    public func post(_ body: Data, to url: String, signing: Signing = .valid) async throws -> Int {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        switch signing {
        case .valid: headers.append(("X-Hub-Signature-256", WebhookAuth.signature(body, appSecret: WhatsAppSecret(Self.appSecret, kind: "app secret")!)))
        case .wrongSecret: headers.append(("X-Hub-Signature-256", WebhookAuth.signature(body, appSecret: WhatsAppSecret("not-the-secret", kind: "x")!)))
        case .header(let h): headers.append(("X-Hub-Signature-256", h))
        case .missing: break
        }
        return try await http.execute(HTTPRequest(method: .post, url: url, headers: headers, body: body)).status
    }

    /// A text message from `from` (digits), as the real text webhook has it; the person's
    /// 24-hour window opens.
    public func textWebhook(from: String, text: String, id: String = "wamid.IN\(UUID().uuidString.prefix(8))", name: String = "Tester") throws -> Data {
        personWrote(from)
        return try message(from: from, name: name, id: id, fields: ["type": "text", "text": ["body": .string(text)]])
    }

    /// A tap on a reply button we sent (`context`: the wamid of our message).
    public func buttonWebhook(from: String, buttonID: String, title: String, context: String?, id: String = "wamid.IN\(UUID().uuidString.prefix(8))") throws -> Data {
        personWrote(from)
        var fields: [String: JSON] = ["type": "interactive", "interactive": ["type": "button_reply", "button_reply": ["id": .string(buttonID), "title": .string(title)]]]
        if let context { fields["context"] = ["from": .string(Self.phoneNumberID), "id": .string(context)] }
        return try message(from: from, name: "Tester", id: id, fields: fields)
    }

    /// A tap on a template's quick-reply button.
    public func templateButtonWebhook(from: String, payload: String, text: String, context: String?, id: String = "wamid.IN\(UUID().uuidString.prefix(8))") throws -> Data {
        personWrote(from)
        var fields: [String: JSON] = ["type": "button", "button": ["payload": .string(payload), "text": .string(text)]]
        if let context { fields["context"] = ["from": .string(Self.phoneNumberID), "id": .string(context)] }
        return try message(from: from, name: "Tester", id: id, fields: fields)
    }

    /// The person behind `from` has a new number now (`system` / `user_changed_number`).
    public func numberChangedWebhook(from: String, to new: String, id: String = "wamid.SYS\(UUID().uuidString.prefix(8))") throws -> Data {
        try message(from: from, name: "Tester", id: id, fields: [
            "type": "system",
            "system": ["body": .string("User A changed from \(from) to \(new)"), "wa_id": .string(new), "type": "user_changed_number"],
        ])
    }

    /// A status of a message we sent, from the real status webhook.
    public func statusWebhook(_ messageID: String, _ state: String, recipient: String, errorCode: Int? = nil) throws -> Data {
        guard var root = JSON.parse(try WhatsAppFixtures.data("webhook_status_sent_v24_no_conversation.meta-docs.json")),
              var status = root["entry"]?[0]?["changes"]?[0]?["value"]?["statuses"]?[0] else { throw TestSupportError("status fixture") }
        status = status.setting("id", .string(messageID)).setting("status", .string(state)).setting("recipient_id", .string(recipient))
            .setting("timestamp", .string(String(Int(Date().timeIntervalSince1970))))
        if let errorCode { status = status.setting("errors", [["code": .number(Double(errorCode)), "title": "emulated failure"]]) }
        root = Self.replacing(root, value: { $0.setting("statuses", [status]).setting("metadata", ["display_phone_number": "15550783881",
                                                                                                  "phone_number_id": .string(Self.phoneNumberID)]) })
        return Self.metaBytes(root)
    }

    func message(from: String, name: String, id: String, fields: [String: JSON]) throws -> Data {
        guard let root = JSON.parse(try WhatsAppFixtures.data("webhook_text_message.sdk-java.json")) else { throw TestSupportError("text fixture") }
        var message: JSON = ["from": .string(from), "id": .string(id), "timestamp": .string(String(Int(Date().timeIntervalSince1970)))]
        for (k, v) in fields { message = message.setting(k, v) }
        let replaced = Self.replacing(root) { value in
            value.setting("messages", [message]).setting("contacts", [["profile": ["name": .string(name)], "wa_id": .string(from)]])
                .setting("metadata", ["display_phone_number": "15550783881", "phone_number_id": .string(Self.phoneNumberID)])
        }
        return Self.metaBytes(replaced)
    }

    static func replacing(_ root: JSON, value change: (JSON) -> JSON) -> JSON {
        guard var entry = root["entry"]?[0], var first = entry["changes"]?[0], let value = first["value"] else { return root }
        first = first.setting("value", change(value))
        entry = entry.setting("changes", [first])
        return root.setting("entry", [entry])
    }

    /// JSON as Meta serialises it for signing: everything outside ASCII as \uXXXX escapes, lowercase hex.
    public static func metaBytes(_ json: JSON) -> Data {
        var out = ""
        for scalar in json.text.unicodeScalars {
            if scalar.isASCII {
                out.unicodeScalars.append(scalar)
            } else {
                for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
            }
        }
        return Data(out.utf8)
    }
}
