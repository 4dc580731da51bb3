import ConvOpsCore
import Foundation

public struct WebhookParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension WebhookEvent {
    /// Every event in a verified webhook body. Only a body that is not a WhatsApp business
    /// account notification at all is an error; a part of it ConvOps does not know is
    /// `.unknown`, and a message or status missing its keys is `.unknown` too, never fatal.
    public static func parse(_ body: Data) throws(WebhookParseError) -> [WebhookEvent] {
        guard let root = JSON.parse(body), root.object != nil else { throw WebhookParseError("not a JSON object") }
        guard root["object"]?.string == "whatsapp_business_account" else {
            throw WebhookParseError("object is '\(root["object"]?.string ?? "-")', not whatsapp_business_account")
        }
        var out: [WebhookEvent] = []
        for entry in root["entry"]?.array ?? [] {
            for change in entry["changes"]?.array ?? [] {
                let field = change["field"]?.string ?? "-"
                guard field == "messages", let value = change["value"] else {
                    out.append(.unknown("change field '\(field)'"))
                    continue
                }
                out += events(in: value)
            }
        }
        return out
    }

    static func events(in value: JSON) -> [WebhookEvent] {
        let number = value["metadata"]?["phone_number_id"]?.string ?? ""
        var out: [WebhookEvent] = []
        let contacts = value["contacts"]?.array ?? []
        for m in value["messages"]?.array ?? [] {
            out.append(message(m, number: number, contacts: contacts))
        }
        for s in value["statuses"]?.array ?? [] {
            out.append(status(s, number: number))
        }
        for e in value["errors"]?.array ?? [] {
            out.append(.error(error(e)))
        }
        return out
    }

    static func message(_ m: JSON, number: String, contacts: [JSON]) -> WebhookEvent {
        guard let id = m["id"]?.string, !id.isEmpty, let type = m["type"]?.string else { return .unknown("a message without id or type") }
        let from = m["from"]?.string ?? ""
        // The contact entry for this sender carries the business-scoped id.
        let contact: JSON? = contacts.first { $0["wa_id"]?.string == from } ?? (contacts.count == 1 ? contacts[0] : nil)
        let userID = m["from_user_id"]?.string ?? contact?["user_id"]?.string
        let content: InboundMessage.Content
        switch type {
        case "text":
            guard let body = m["text"]?["body"]?.string else { return .unknown("a text message without a body") }
            content = .text(body)
        case "interactive":
            let interactive = m["interactive"]
            switch interactive?["type"]?.string {
            case "button_reply":
                guard let id = interactive?["button_reply"]?["id"]?.string else { return .unknown("a button reply without an id") }
                content = .buttonReply(id: id, title: interactive?["button_reply"]?["title"]?.string ?? "")
            case "list_reply":
                guard let id = interactive?["list_reply"]?["id"]?.string else { return .unknown("a list reply without an id") }
                content = .listReply(id: id, title: interactive?["list_reply"]?["title"]?.string ?? "")
            default:
                content = .other(type: "interactive/\(interactive?["type"]?.string ?? "-")")
            }
        case "button":
            guard let payload = m["button"]?["payload"]?.string else { return .unknown("a template button without a payload") }
            content = .templateButton(payload: payload, text: m["button"]?["text"]?.string ?? "")
        case "system":
            if m["system"]?["type"]?.string == "user_changed_number", let new = m["system"]?["wa_id"]?.string, !new.isEmpty {
                content = .numberChanged(newWaID: new)
            } else {
                content = .other(type: "system/\(m["system"]?["type"]?.string ?? "-")")
            }
        default:
            content = .other(type: type)
        }
        return .message(InboundMessage(id: id, from: from, userID: userID, timestamp: time(m["timestamp"]), content: content,
                                       contextID: m["context"]?["id"]?.string,
                                       forwarded: m["context"]?["forwarded"]?.bool == true || m["context"]?["frequently_forwarded"]?.bool == true,
                                       phoneNumberID: number))
    }

    static func status(_ s: JSON, number: String) -> WebhookEvent {
        guard let id = s["id"]?.string, !id.isEmpty, let raw = s["status"]?.string else { return .unknown("a status without id or status") }
        guard let state = DeliveryStatus.State(rawValue: raw) else { return .unknown("status '\(raw)'") }
        return .status(DeliveryStatus(messageID: id, state: state, timestamp: time(s["timestamp"]), recipient: s["recipient_id"]?.string ?? "",
                                      errors: (s["errors"]?.array ?? []).map(error), callbackData: s["biz_opaque_callback_data"]?.string,
                                      phoneNumberID: number))
    }

    static func error(_ e: JSON) -> WhatsAppErrorDetail {
        WhatsAppErrorDetail(code: e["code"]?.int ?? 0, title: e["title"]?.string ?? e["message"]?.string ?? "",
                            details: e["error_data"]?["details"]?.string)
    }

    /// Unix seconds, sent as a string.
    static func time(_ raw: JSON?) -> Date {
        let seconds = raw?.string.flatMap(Double.init) ?? raw?.int.map(Double.init) ?? 0
        return Date(timeIntervalSince1970: seconds.isFinite ? min(max(seconds, 0), 1e11) : 0)
    }
}
