import ConvOpsCore

/// Something a person said to the bot, from any channel.
public struct InboundMessage: Sendable {
    public var text: String
    public var person: Person
    public var channel: String
    public var locale: String?
    /// A preview (`convops plan`): resolve and show the exact calls, store and run nothing.
    public var dryRun: Bool

    public init(text: String, person: Person, channel: String, locale: String? = nil, dryRun: Bool = false) {
        self.text = text
        self.person = person
        self.channel = channel
        self.locale = locale
        self.dryRun = dryRun
    }
}

/// Something the bot says back. Channels render it (text in a terminal, Block Kit in Slack).
public struct Reply: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case info
        /// A plan waiting for Confirm or Cancel.
        case plan
        case progress
        case outcome
        case error
    }
    public var kind: Kind
    public var text: String
    public var requestID: String?

    public init(_ kind: Kind, _ text: String, requestID: String? = nil) {
        self.kind = kind
        self.text = text
        self.requestID = requestID
    }
}
