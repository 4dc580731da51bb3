import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// What each person last asked about in each channel and thread, so that "restart it", "same
/// for web-2" and "the one in prod" mean something. Kept in memory only, for a few minutes,
/// never written anywhere: a turn is as private as the message it came from.
struct Conversations {
    struct Key: Hashable {
        var person: String
        var channel: String
        /// A Slack thread's parent ts; nil for the channel's top level (and DMs, WhatsApp).
        var thread: String? = nil

        /// Where this message was said.
        init(_ message: InboundMessage) {
            self.init(person: message.person.id, channel: message.channel, thread: message.thread)
        }

        init(person: String, channel: String, thread: String? = nil) {
            self.person = person
            self.channel = channel
            self.thread = thread
        }

        /// Every key a message's turn is remembered under: where it was said, and the thread
        /// its answer opens.
        static func all(_ message: InboundMessage) -> [Key] {
            var keys = [Key(message)]
            if let opened = message.opensThread, opened != message.thread {
                keys.append(Key(person: message.person.id, channel: message.channel, thread: opened))
            }
            return keys
        }
    }

    struct Turn {
        /// The last command that named a resource, as it was understood (its target filled in).
        var command: Command
        /// Where the person said, across follow-ups ("in prod"), without what was filled in.
        var typed: Qualifiers
        /// The resource it turned out to be, once one was found.
        var resource: ResourceRef?
        var at: Date
        /// Which message noted it (`InboundMessage.turn`).
        var seq = 0
    }

    /// How long a turn answers "it".
    static let lifetime: TimeInterval = 300
    /// At most this many people-and-channels are remembered; the oldest go first.
    static let capacity = 10_000

    private(set) var turns: [Key: Turn] = [:]
    /// Notes since expired turns were last dropped: they go every `capacity / 10` notes, so a
    /// turn outlives its five minutes only until the next sweep, not until the memory is full.
    private var notesSincePrune = 0
    /// Numbers the messages that note a turn.
    private var lastSeq = 0

    /// A number for the next message's turn, unique in this process.
    mutating func nextTurn() -> Int {
        lastSeq += 1
        return lastSeq
    }

    func last(_ key: Key, now: Date) -> Turn? {
        guard let turn = turns[key], now.timeIntervalSince(turn.at) <= Self.lifetime, turn.at <= now else { return nil }
        return turn
    }

    /// Remembers a command that names a resource (others leave the conversation as it was).
    mutating func note(_ command: Command, typed: Qualifiers, _ key: Key, now: Date, seq: Int = 0) {
        guard command.intent.target != nil else { return }
        notesSincePrune += 1
        if notesSincePrune >= Self.capacity / 10 || (turns.count >= Self.capacity && turns[key] == nil) { prune(now: now) }
        turns[key] = Turn(command: command, typed: typed, resource: nil, at: now, seq: seq)
    }

    /// The resource `mention` turned out to be, if it is still the last command's and that
    /// command is still the one message `seq` noted: a slow answer to an earlier message (the
    /// same name asked about elsewhere, say) must not pin its resource onto a newer one.
    mutating func found(_ resource: ResourceRef, for mention: ResourceMention, _ key: Key, seq: Int = 0) {
        guard let turn = turns[key], turn.command.intent.target == mention, turn.seq == seq else { return }
        turns[key]?.resource = resource
    }

    /// Drops what has expired and, if still full, the oldest quarter.
    mutating func prune(now: Date) {
        notesSincePrune = 0
        turns = turns.filter { now.timeIntervalSince($0.value.at) <= Self.lifetime }
        guard turns.count >= Self.capacity else { return }
        let oldest = turns.sorted { $0.value.at < $1.value.at }.prefix(Self.capacity / 4).map(\.key)
        for key in oldest { turns[key] = nil }
    }

    /// "restart it": the command with its target filled in from the last turn, or nil when
    /// there is nothing to refer to.
    static func filled(_ command: Command, from turn: Turn?) -> (command: Command, typed: Qualifiers)? {
        guard let wanted = command.intent.target, wanted.refersBack else { return (command, command.qualifiers) }
        guard let turn, let earlier = turn.command.intent.target else { return nil }
        var mention: ResourceMention
        var qualifiers = command.qualifiers
        // Pinned only where nothing new is said about the place: "restart it in prod" after a
        // staging web-1 means prod's web-1, found again.
        if let resource = turn.resource, wanted.kind == nil || wanted.kind == resource.kind, qualifiers.isEmpty {
            // The very resource it was: by id, where it lives.
            mention = ResourceMention(resource.id, kind: resource.kind)
            qualifiers = Qualifiers(region: resource.region, account: resource.account)
        } else {
            mention = earlier
            mention.kind = wanted.kind ?? earlier.kind
            qualifiers = qualifiers.over(turn.typed)
        }
        mention.refersBack = false
        mention.recalled = .earlier
        return (Command(command.intent.with(target: mention), qualifiers: qualifiers), command.qualifiers.over(turn.typed))
    }

    /// "same for web-2", "the one in prod": the last command again, for the resource and place
    /// named now; nil when there is no last command.
    static func repeated(_ followUp: FollowUp, from turn: Turn?) -> (command: Command, typed: Qualifiers)? {
        guard let turn, var mention = turn.command.intent.target else { return nil }
        let typed = followUp.qualifiers.over(turn.typed)
        if let target = followUp.target {
            mention = target
            mention.recalled = .sameAgain
        } else {
            // Narrowed, not pinned, when a place is said: it decides which resource it is.
            if let resource = turn.resource, typed == turn.typed { mention = ResourceMention(resource.id, kind: resource.kind) }
            mention.recalled = .earlier
        }
        return (Command(turn.command.intent.with(target: mention), qualifiers: typed), typed)
    }
}
