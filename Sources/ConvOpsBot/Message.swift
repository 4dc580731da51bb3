import ConvOpsCore

/// Something a person said to the bot, from any channel.
public struct InboundMessage: Sendable {
    public var text: String
    public var person: Person
    public var channel: String
    public var locale: String?
    /// A preview (`convops plan`): resolve and show the exact calls, store and run nothing.
    public var dryRun: Bool
    /// How the person belongs to the workspace: only full members are "everyone" in the policy.
    public var standing: Standing

    public init(text: String, person: Person, channel: String, locale: String? = nil, dryRun: Bool = false,
                standing: Standing = .member) {
        self.standing = standing
        self.text = text
        self.person = person
        self.channel = channel
        self.locale = locale
        self.dryRun = dryRun
    }
}

extension InboundMessage {
    var origin: Origin { Origin(channel: channel, standing: standing) }
}

/// Where a person's decision came from: the channel they typed or clicked in, and how they
/// belong to the workspace. The policy check needs both.
public struct Origin: Sendable, Hashable {
    public var channel: String
    public var standing: Standing

    public init(channel: String, standing: Standing = .member) {
        self.channel = channel
        self.standing = standing
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
    /// Details for the asker alone (log lines): channels show them privately where they can.
    public var isDetail = false

    public init(_ kind: Kind, _ text: String, requestID: String? = nil) {
        self.kind = kind
        self.text = text
        self.requestID = requestID
    }
}
