import ConvOpsCore
import Foundation

/// A message to send, already inside WhatsApp's limits: the API refuses the whole message for
/// one title a character too long, so every limit is applied here, where the text is made
/// (limits from Meta's interactive reply-button, list and text message pages).
public struct OutboundMessage: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case text(String)
        case buttons(text: String, buttons: [Button])
        case list(text: String, button: String, rows: [Row])
        case template(name: String, language: String, parameters: [String], quickReplies: [String])
    }

    public struct Button: Sendable, Hashable {
        public var id: String
        public var title: String
        public init(id: String, title: String) {
            self.id = id
            self.title = title
        }
    }

    public struct Row: Sendable, Hashable {
        public var id: String
        public var title: String
        public var description: String?
        public init(id: String, title: String, description: String? = nil) {
            self.id = id
            self.title = title
            self.description = description
        }
    }

    public enum Limit {
        public static let textBody = 4096
        public static let interactiveBody = 1024
        public static let buttons = 3
        public static let buttonTitle = 20
        public static let buttonID = 256
        public static let listRows = 10
        public static let rowTitle = 24
        public static let rowDescription = 72
        public static let rowID = 200
        public static let listButton = 20
        /// A template's body parameter (Meta rejects an empty one; keep each short).
        public static let templateParameter = 1024
        public static let quickReplyPayload = 256
    }

    /// The recipient: E.164 with "+", or a WhatsApp id / business-scoped user id.
    public var to: String
    public var body: Body
    /// The message this one answers (shown as a quote).
    public var replyTo: String?
    /// Echoed in its status webhooks (`biz_opaque_callback_data`).
    public var reference: String?

    /// Text over 4,096 characters becomes several messages, split at line ends where it can.
    public static func text(_ text: String, to: String, replyTo: String? = nil) -> [OutboundMessage] {
        split(text, max: Limit.textBody).map { OutboundMessage(to: to, body: .text($0), replyTo: replyTo) }
    }

    /// Up to three reply buttons under a body of at most 1,024 characters. Titles are cut to
    /// 20 and made unique; ids longer than 256 are refused (ids are ours: a long one is a bug).
    public static func buttons(_ text: String, _ buttons: [Button], to: String, replyTo: String? = nil) -> OutboundMessage? {
        guard !buttons.isEmpty, buttons.count <= Limit.buttons, buttons.allSatisfy({ !$0.id.isEmpty && $0.id.utf8.count <= Limit.buttonID }) else { return nil }
        var titles: [String] = []
        let fitted = buttons.map { b -> Button in
            var title = cut(b.title, Limit.buttonTitle)
            var n = 2
            while titles.contains(title) {
                title = cut(b.title, Limit.buttonTitle - 2) + " \(n)"
                n += 1
            }
            titles.append(title)
            return Button(id: b.id, title: title)
        }
        return OutboundMessage(to: to, body: .buttons(text: cut(text, Limit.interactiveBody), buttons: fitted), replyTo: replyTo)
    }

    /// A list of at most ten rows (to pick one of several resources).
    public static func list(_ text: String, button: String, _ rows: [Row], to: String) -> OutboundMessage? {
        guard !rows.isEmpty, rows.count <= Limit.listRows, rows.allSatisfy({ !$0.id.isEmpty && $0.id.utf8.count <= Limit.rowID }),
              Set(rows.map(\.id)).count == rows.count else { return nil }
        let fitted = rows.map { Row(id: $0.id, title: cut($0.title, Limit.rowTitle), description: $0.description.map { cut($0, Limit.rowDescription) }) }
        return OutboundMessage(to: to, body: .list(text: cut(text, Limit.textBody), button: cut(button, Limit.listButton), rows: fitted))
    }

    /// An approved template: positional body parameters ({{1}}, {{2}}…) and a payload for each
    /// quick-reply button, in the template's order. Parameters are never empty (Meta refuses it).
    public static func template(_ name: String, language: String, parameters: [String], quickReplies: [String], to: String,
                                reference: String? = nil) -> OutboundMessage? {
        guard !name.isEmpty, quickReplies.count <= 10, quickReplies.allSatisfy({ !$0.isEmpty && $0.utf8.count <= Limit.quickReplyPayload }) else { return nil }
        // Templates take no newlines or tabs in parameters, and no more than four spaces in a row.
        let cleaned = parameters.map { p -> String in
            let flat = p.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
            let squeezed = flat.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return squeezed.isEmpty ? "-" : cut(squeezed, Limit.templateParameter)
        }
        return OutboundMessage(to: to, body: .template(name: name, language: language, parameters: cleaned, quickReplies: quickReplies),
                               reference: reference)
    }

    /// The Graph API request body (`POST /{version}/{phone-number-id}/messages`).
    public var json: JSON {
        var j: JSON = ["messaging_product": "whatsapp", "recipient_type": "individual", "to": .string(to)]
        switch body {
        case .text(let text):
            j = j.setting("type", "text").setting("text", ["body": .string(text), "preview_url": false])
        case .buttons(let text, let buttons):
            let list = buttons.map { b -> JSON in ["type": "reply", "reply": ["id": .string(b.id), "title": .string(b.title)]] }
            j = j.setting("type", "interactive").setting("interactive", ["type": "button", "body": ["text": .string(text)],
                                                                         "action": ["buttons": .array(list)]])
        case .list(let text, let button, let rows):
            let list = rows.map { r -> JSON in
                var row: JSON = ["id": .string(r.id), "title": .string(r.title)]
                if let d = r.description { row = row.setting("description", .string(d)) }
                return row
            }
            j = j.setting("type", "interactive").setting("interactive", [
                "type": "list", "body": ["text": .string(text)],
                "action": ["button": .string(button), "sections": [["title": "", "rows": .array(list)]]],
            ])
        case .template(let name, let language, let parameters, let quickReplies):
            var components: [JSON] = []
            if !parameters.isEmpty {
                components.append(["type": "body", "parameters": .array(parameters.map { ["type": "text", "text": .string($0)] })])
            }
            for (i, payload) in quickReplies.enumerated() {
                components.append(["type": "button", "sub_type": "quick_reply", "index": .string(String(i)),
                                   "parameters": [["type": "payload", "payload": .string(payload)]]])
            }
            j = j.setting("type", "template").setting("template", ["name": .string(name), "language": ["code": .string(language)],
                                                                   "components": .array(components)])
        }
        if let replyTo { j = j.setting("context", ["message_id": .string(replyTo)]) }
        if let reference { j = j.setting("biz_opaque_callback_data", .string(reference)) }
        return j
    }

    /// At most `max` characters (grapheme clusters, as WhatsApp counts), with "…" when cut.
    static func cut(_ s: String, _ max: Int) -> String {
        guard s.count > max else { return s }
        return String(s.prefix(max - 1)) + "…"
    }

    /// Pieces of at most `max` characters, split after a newline when one is in the second half.
    static func split(_ s: String, max: Int) -> [String] {
        guard s.count > max else { return [s] }
        var out: [String] = []
        var rest = Substring(s)
        while rest.count > max {
            let window = rest.prefix(max)
            var end = window.endIndex
            if let newline = window.lastIndex(of: "\n"), window.distance(from: window.startIndex, to: newline) >= max / 2 {
                end = window.index(after: newline)
            }
            out.append(String(rest[..<end]))
            rest = rest[end...]
        }
        if !rest.isEmpty { out.append(String(rest)) }
        return out
    }
}
