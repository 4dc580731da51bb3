import Foundation
import ConvOpsCore

/// A message for chat.postMessage / chat.update: fallback text plus Block Kit blocks.
public struct SlackMessage: Sendable, Hashable {
    /// Shown in notifications and where blocks can't be (chat.update caps it at 4,000 chars).
    public var text: String
    public var blocks: [JSON]
    /// Slack's message metadata (`event_type`, `event_payload`): ConvOps marks its alert
    /// messages with their id, to find one a crash left unrecorded instead of posting it twice.
    public var metadata: JSON?

    public init(text: String, blocks: [JSON] = [], metadata: JSON? = nil) {
        self.text = text.utf16(upTo: 3900)
        self.blocks = blocks
        self.metadata = metadata
    }

    /// The same message with its buttons left off (posted first, so that no click can come
    /// before the card is recorded).
    public var withoutButtons: SlackMessage {
        SlackMessage(text: text, blocks: blocks.filter { $0["type"]?.string != "actions" }, metadata: metadata)
    }

    var body: [String: JSON] {
        var b: [String: JSON] = ["text": .string(text)]
        // Always send blocks, even none: chat.update keeps the old blocks (and buttons) otherwise.
        b["blocks"] = .array(blocks)
        if let metadata { b["metadata"] = metadata }
        return b
    }
}

/// The words on buttons and in dialogs, in the person's language (from locales/).
public struct BlockKitLabels: Sendable, Hashable {
    public var confirm: String
    public var cancel: String
    public var approve: String
    public var reject: String
    public var dialogTitle: String
    public var dialogText: String
    public var dialogConfirm: String
    public var dialogDeny: String
    public var resource: String
    public var account: String
    public var region: String
    public var calls: String

    public init(confirm: String, cancel: String, approve: String, reject: String, dialogTitle: String, dialogText: String,
                dialogConfirm: String, dialogDeny: String, resource: String, account: String, region: String, calls: String) {
        self.confirm = confirm
        self.cancel = cancel
        self.approve = approve
        self.reject = reject
        self.dialogTitle = dialogTitle
        self.dialogText = dialogText
        self.dialogConfirm = dialogConfirm
        self.dialogDeny = dialogDeny
        self.resource = resource
        self.account = account
        self.region = region
        self.calls = calls
    }
}

/// Block Kit for plans, approvals and outcomes. Buttons carry only the opaque request id;
/// everything a click means is looked up again, and authorized, when it arrives.
public enum BlockKit {
    public enum ActionID: String, Sendable, CaseIterable {
        case confirm = "convops.confirm"
        case cancel = "convops.cancel"
        case approve = "convops.approve"
        case reject = "convops.reject"
    }

    /// A plan waiting for its requester: what will run, on what, where, and the exact calls,
    /// with Confirm and Cancel. `highRisk` adds a confirmation dialog to Confirm.
    public static func plan(_ request: Request, headline: String, highRisk: Bool, _ l: BlockKitLabels) -> SlackMessage {
        var confirm = button(l.confirm, .confirm, request.id, style: "primary")
        if highRisk {
            confirm = confirm.setting("confirm", [
                "title": plain(l.dialogTitle, max: 100), "text": plain(l.dialogText, max: 300),
                "confirm": plain(l.dialogConfirm, max: 30), "deny": plain(l.dialogDeny, max: 30), "style": "danger",
            ])
        }
        let blocks = summary(request, headline: headline, l) + [
            ["type": "actions", "block_id": .string("convops.plan.\(request.id)"),
             "elements": [confirm, button(l.cancel, .cancel, request.id)]],
        ]
        return SlackMessage(text: headline, blocks: blocks)
    }

    /// An approval request for the approvers' channel, with Approve and Reject.
    public static func approval(_ request: Request, headline: String, _ l: BlockKitLabels) -> SlackMessage {
        let blocks = summary(request, headline: headline, l) + [
            ["type": "actions", "block_id": .string("convops.approval.\(request.id)"),
             "elements": [button(l.approve, .approve, request.id, style: "primary"),
                          button(l.reject, .reject, request.id, style: "danger")]],
        ]
        return SlackMessage(text: headline, blocks: blocks)
    }

    /// The same card once decided or under way: no buttons, and the status line under it.
    public static func status(_ request: Request, headline: String, status: String, _ l: BlockKitLabels) -> SlackMessage {
        let blocks = summary(request, headline: headline, l) + [
            ["type": "section", "text": mrkdwn(escape(status))],
        ]
        return SlackMessage(text: "\(headline)\n\(status)", blocks: blocks)
    }

    /// Plain text in one section (answers, errors, help).
    public static func text(_ text: String) -> SlackMessage {
        // Section text is capped at 3,000 characters, counted after escaping (one "&" is five):
        // escape first, then cut, at a line end where there is one and never inside an entity.
        var blocks: [JSON] = []
        var rest = Substring(escape(text))
        while !rest.isEmpty, blocks.count < 45 {
            var chunk = rest.prefix(2900)
            if chunk.count < rest.count {
                if let cut = chunk.lastIndex(of: "\n"), cut > chunk.startIndex {
                    chunk = rest[rest.startIndex..<cut]
                } else if let amp = chunk.lastIndex(of: "&"), amp > chunk.startIndex, !chunk[amp...].contains(";") {
                    chunk = rest[rest.startIndex..<amp]
                }
            }
            blocks.append(["type": "section", "text": mrkdwn(String(chunk))])
            rest = rest[chunk.endIndex...].drop(while: { $0 == "\n" })
        }
        return SlackMessage(text: text, blocks: blocks)
    }

    // MARK: -

    static func summary(_ request: Request, headline: String, _ l: BlockKitLabels) -> [JSON] {
        let r = request.plan.resource
        let calls = request.plan.apiCalls.map { "`\(escape($0.description))`" }.joined(separator: "\n")
        return [
            ["type": "section", "text": mrkdwn("*\(escape(headline))*")],
            ["type": "section", "fields": [
                mrkdwn("*\(l.resource)*\n\(escape(r.kind.noun)) \(escape(r.name ?? r.id)) (`\(escape(r.id))`)"),
                mrkdwn("*\(l.region)*\n\(escape(r.region))"),
                mrkdwn("*\(l.account)*\n\(escape(r.account ?? "-"))"),
            ]],
            ["type": "context", "elements": [mrkdwn("\(l.calls): \(calls.isEmpty ? "-" : calls)")]],
        ]
    }

    static func button(_ label: String, _ action: ActionID, _ requestID: String, style: String? = nil) -> JSON {
        var b: JSON = ["type": "button", "action_id": .string(action.rawValue), "text": plain(label, max: 75),
                       "value": .string(requestID)]
        if let style { b = b.setting("style", .string(style)) }
        return b
    }

    /// Slack's limits count UTF-16 units; a cut counts them too, and never splits a scalar.
    static func plain(_ text: String, max: Int) -> JSON { ["type": "plain_text", "text": .string(text.utf16(upTo: max)), "emoji": true] }

    static func mrkdwn(_ text: String) -> JSON { ["type": "mrkdwn", "text": .string(text.utf16(upTo: 2900))] }

    /// Slack's mrkdwn needs &, < and > escaped, or "<!channel>" in a name would ping everyone.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
