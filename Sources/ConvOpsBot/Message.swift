import ConvOpsCore
import ConvOpsStore

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
    /// The Slack thread it was said in (its parent's ts); nil at a channel's top level, in a DM
    /// and elsewhere. "restart it" in one thread never means what another thread was about.
    public var thread: String?
    /// The thread its answer opens (a top-level mention is answered under itself): what it was
    /// about is remembered there too, so "restart it" typed into that thread refers to it.
    public var opensThread: String?
    /// The number of the conversation turn it noted (set by the engine), so that what its
    /// lookups find is pinned to that turn only.
    var turn = 0

    public init(text: String, person: Person, channel: String, locale: String? = nil, dryRun: Bool = false,
                standing: Standing = .member, thread: String? = nil, opensThread: String? = nil) {
        self.standing = standing
        self.thread = thread
        self.opensThread = opensThread
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

/// What the engine tells a channel, typed: a channel renders each case its own way (lines in a
/// terminal, Block Kit cards in Slack) and never reads the store to find out what happened.
public enum Reply: Sendable, Hashable {
    /// An answer to what the person asked: help, status, whoami, alarms.
    case answer(String)
    /// Details for the asker alone where the channel can (log lines, places not searched).
    case detail(String)
    /// A refusal or an error: for the asker alone; it may name roles and ARNs.
    case refused(String)
    /// Something happened to a stored request: its card shows it.
    case request(RequestUpdate)
    /// A refusal that asks the person to pick one of several (resources that share a name):
    /// channels that can offer a pick list do (WhatsApp); the rest show the text.
    case choose(String, [Choice])

    /// One of the things to pick: what it is, and what saying it means.
    public struct Choice: Sendable, Hashable {
        public var label: String
        public var detail: String?
        /// The words that pick it, as if typed ("the one i-0abc…").
        public var say: String

        public init(label: String, detail: String? = nil, say: String) {
            self.label = label
            self.detail = detail
            self.say = say
        }
    }

    public var text: String {
        switch self {
        case .answer(let t), .detail(let t), .refused(let t), .choose(let t, _): t
        case .request(let update): update.text
        }
    }

    /// A refusal or an error.
    public var isRefusal: Bool {
        switch self {
        case .refused, .choose: true
        default: false
        }
    }
}

/// A request's news: the request after the change (as stored; should storing an outcome fail,
/// that is logged and the outcome still shown), where its cards are, and the words for it in
/// the person's language.
public struct RequestUpdate: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        /// A new plan waiting for Confirm or Cancel: post its card.
        case planned
        /// Confirmed, now waiting for a second person: update the card, post the approval card.
        case awaitingApproval
        /// Running, or a step of the run.
        case progress
        /// Succeeded, failed, cancelled, rejected, expired or outcome unknown.
        case finished
        /// The bot's note about it (expiry near, what AWS shows after a restart): under its card.
        case note
    }

    public var step: Step
    public var request: Request
    /// Where its cards were posted, as recorded (none yet for a new plan).
    public var cards: [MessageRef]
    public var text: String

    public init(_ step: Step, _ request: Request, cards: [MessageRef], text: String) {
        self.step = step
        self.request = request
        self.cards = cards
        self.text = text
    }

    /// The card the requester sees.
    public var card: MessageRef? { cards.first { $0.role == .request } }
}
