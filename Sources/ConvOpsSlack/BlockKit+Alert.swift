import ConvOpsCore

/// An alert's message as the bot composed it, in the person's words: Block Kit renders it.
public struct AlertCard: Sendable, Hashable {
    public enum Tone: Sendable, Hashable {
        case alarm, unknown, resolved

        var mark: String {
            switch self {
            case .alarm: "🔴"
            case .unknown: "⚪"
            case .resolved: "🟢"
            }
        }
    }

    public struct Field: Sendable, Hashable {
        public var label: String
        public var value: String
        public init(_ label: String, _ value: String) {
            self.label = label
            self.value = value
        }
    }

    public struct Link: Sendable, Hashable {
        public var label: String
        public var url: String
        public init(_ label: String, _ url: String) {
            self.label = label
            self.url = url
        }
    }

    public struct Button: Sendable, Hashable {
        public var label: String
        public var action: BlockKit.AlertAction
        /// The episode id: nothing else.
        public var value: String
        public var primary: Bool
        public init(_ label: String, _ action: BlockKit.AlertAction, value: String, primary: Bool = false) {
            self.label = label
            self.action = action
            self.value = value
            self.primary = primary
        }
    }

    public var tone: Tone
    public var header: String
    /// Why it is in this state (CloudWatch's reason, a custom notification's description).
    public var reason: String
    public var fields: [Field]
    public var notes: [String]
    public var links: [Link]
    public var buttons: [Button]

    public init(tone: Tone, header: String, reason: String, fields: [Field] = [], notes: [String] = [], links: [Link] = [],
                buttons: [Button] = []) {
        self.tone = tone
        self.header = header
        self.reason = reason
        self.fields = fields
        self.notes = notes
        self.links = links
        self.buttons = buttons
    }
}

extension BlockKit {
    /// The buttons on an alert's message. Their value is the episode id only; a click is
    /// checked against the message the episode was posted as.
    public enum AlertAction: String, Sendable, CaseIterable {
        case acknowledge = "convops.alert.ack"
        case fix = "convops.alert.fix"
        case snooze = "convops.alert.snooze"
    }

    public static func alert(_ card: AlertCard, episodeID: String) -> SlackMessage {
        let header = "\(card.tone.mark) \(card.header)"
        var blocks: [JSON] = [
            ["type": "header", "text": plain(header, max: 150)],
        ]
        if !card.reason.isEmpty { blocks.append(["type": "section", "text": mrkdwn(escape(card.reason.scalars(upTo: 1200)))]) }
        // A field may hold 2,000 characters: escaped (one "&" is five), then cut, in scalars.
        let fields = card.fields.prefix(10).map { mrkdwn(cutWhole("*\(escape($0.label.scalars(upTo: 50)))*\n\(escape($0.value.scalars(upTo: 400)))", 1900)) }
        if !fields.isEmpty { blocks.append(["type": "section", "fields": .array(fields)]) }
        var context = card.notes.prefix(5).map { mrkdwn(escape($0.scalars(upTo: 600))) }
        let links = card.links.compactMap { link -> String? in
            guard isSafeLink(link.url) else { return nil }
            return "<\(link.url.replacingOccurrences(of: "&", with: "&amp;"))|\(escape(link.label).replacingOccurrences(of: "|", with: "/"))>"
        }
        if !links.isEmpty { context.append(mrkdwn(links.joined(separator: " · "))) }
        if !context.isEmpty { blocks.append(["type": "context", "elements": .array(Array(context.prefix(10)))]) }
        if !card.buttons.isEmpty {
            let elements: [JSON] = card.buttons.prefix(5).map { b in
                var j: JSON = ["type": "button", "action_id": .string(b.action.rawValue), "text": plain(b.label, max: 75),
                               "value": .string(b.value)]
                if b.primary { j = j.setting("style", "primary") }
                return j
            }
            blocks.append(["type": "actions", "block_id": .string("convops.alert.\(episodeID)"), "elements": .array(elements)])
        }
        // The notification text (mobile pushes): escaped like the blocks, so no link or <!channel> comes through.
        let fallback = escape((card.reason.isEmpty ? header : "\(header): \(card.reason)").scalars(upTo: 1500))
        return SlackMessage(text: fallback, blocks: blocks, metadata: alertMetadata(episodeID))
    }

    /// The metadata that names an alert message's episode or group.
    public static func alertMetadata(_ id: String) -> JSON {
        ["event_type": "convops_alert", "event_payload": ["id": .string(id)]]
    }

    /// At most `n` scalars, never cutting inside an escape ("&amp;").
    static func cutWhole(_ s: String, _ n: Int) -> String {
        var cut = s.utf16(upTo: n)
        if cut.count < s.count, let amp = cut.lastIndex(of: "&"), !cut[amp...].contains(";") { cut = String(cut[..<amp]) }
        return cut
    }

    /// An http(s) URL Slack's link syntax cannot be broken out of (no spaces, |, < or >).
    static func isSafeLink(_ url: String) -> Bool {
        (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.count <= 2000
            && !url.contains { $0.isWhitespace || $0 == "|" || $0 == "<" || $0 == ">" || $0.unicodeScalars.contains { $0.value < 0x20 } }
    }
}
