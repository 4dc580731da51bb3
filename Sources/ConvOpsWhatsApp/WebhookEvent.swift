import Foundation

/// What one webhook POST said, entry by entry and change by change (Meta batches up to 1,000
/// updates in one POST, but does not promise to).
public enum WebhookEvent: Sendable, Hashable {
    case message(InboundMessage)
    case status(DeliveryStatus)
    /// `value.errors[]`: a problem of the app or the number, not of one message.
    case error(WhatsAppErrorDetail)
    /// A change field or message shape ConvOps does not act on: logged, stored, acknowledged.
    case unknown(String)

    /// A person's message to the business number.
    public struct InboundMessage: Sendable, Hashable {
        public enum Content: Sendable, Hashable {
            case text(String)
            /// A tap on a reply button of an interactive message: the id and title we sent.
            case buttonReply(id: String, title: String)
            /// A row picked from a list message.
            case listReply(id: String, title: String)
            /// A tap on a template's quick-reply button: the payload we set when sending.
            case templateButton(payload: String, text: String)
            /// `system` / `user_changed_number`: the person's new WhatsApp id.
            case numberChanged(newWaID: String)
            /// Media, reactions, locations, `unsupported`…: the type, nothing else.
            case other(type: String)
        }

        /// The `wamid.…`: the key a redelivery is recognised by.
        public var id: String
        /// The sender's WhatsApp id (digits, no "+"); empty for people who use a username.
        public var from: String
        /// The business-scoped user id (`US.…`), when Meta sends it.
        public var userID: String?
        public var timestamp: Date
        public var content: Content
        /// The business message this one replies to, or whose button was tapped.
        public var contextID: String?
        public var forwarded: Bool
        /// The business number it was sent to (`metadata.phone_number_id`).
        public var phoneNumberID: String
    }
}

/// Where a message we sent has got to. Statuses arrive in any order and more than once; the
/// rank keeps a message's state from moving backwards (sent < delivered < read; failed ends it).
public struct DeliveryStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case sent, delivered, read, played, failed

        public var rank: Int {
            switch self {
            case .sent: 1
            case .delivered: 2
            case .read, .played: 3
            case .failed: 4
            }
        }

        /// The state after `self` when `next` arrives: the higher rank wins; a failure is final.
        public func advanced(by next: State) -> State { next.rank > rank ? next : self }
    }

    public var messageID: String
    public var state: State
    public var timestamp: Date
    public var recipient: String
    public var errors: [WhatsAppErrorDetail]
    /// `biz_opaque_callback_data`, echoed from the send (ConvOps puts its own reference there).
    public var callbackData: String?
    public var phoneNumberID: String

    public init(messageID: String, state: State, timestamp: Date, recipient: String, errors: [WhatsAppErrorDetail] = [],
                callbackData: String? = nil, phoneNumberID: String) {
        self.messageID = messageID
        self.state = state
        self.timestamp = timestamp
        self.recipient = recipient
        self.errors = errors
        self.callbackData = callbackData
        self.phoneNumberID = phoneNumberID
    }
}

/// One error as the Graph API and webhooks report it. Branch on `code` (Meta: the subcode is
/// deprecated and the HTTP status is 400 for most of them).
public struct WhatsAppErrorDetail: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var title: String
    public var details: String?

    public init(code: Int, title: String, details: String? = nil) {
        self.code = code
        self.title = title
        self.details = details
    }

    public var description: String { "(#\(code)) \(title)" + (details.map { ": \($0)" } ?? "") }
}
