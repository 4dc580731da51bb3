import ConvOpsCore

/// A slot the grammar extracted, by name.
public struct NamedSlot: Sendable, Hashable {
    public var name: String
    public var value: SlotValue
}

/// A successful parse: the intent, its normalized slots, and which rule matched.
public struct ParsedCommand: Sendable, Hashable {
    public var intent: IntentKind
    /// The slots in the order the rule captured them, qualifiers last.
    public var slotList: [NamedSlot]
    public var locale: String
    public var rule: RuleLocation
    public var command: Command

    /// The slots by name.
    public var slots: [String: SlotValue] {
        Dictionary(slotList.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public func slot(_ name: String) -> SlotValue? { slotList.first { $0.name == name }?.value }
}

/// Why a mutating command was recognised but not taken as a request.
public enum NotARequest: String, Sendable, Hashable {
    case negation, question, conditional, report
    /// Quoted ("> restart web-1"): someone else's words, passed on.
    case quote
}

/// Why text did not parse, in words for the person who typed it, with what to try instead.
public struct ParseFailure: Error, Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        case empty
        case noMatch
        case missingSlot(IntentKind, String)
        case ambiguous([IntentKind])
        /// The text names a mutating action but negates, questions, supposes or reports it.
        case notARequest(IntentKind, NotARequest)
        /// A number or duration past what the grammar takes (`GrammarLimits`).
        case outOfRange(IntentKind, slot: String)
        /// "same for web-2", "the one in prod": only the conversation can make a command of it.
        case followUp(FollowUp)
    }
    public var reason: Reason
    public var message: String
    public var suggestions: [String]
    public var locale: String
}

/// "same for web-2", "dasselbe für web-2 in prod", "the one in prod": the person's last request
/// again, with another resource or place. The grammar reads what changes; the engine, which
/// knows the conversation, makes the command (or says it has nothing to go on).
public struct FollowUp: Sendable, Hashable {
    /// The new resource, if one is named ("same for web-2"); nil: the last one, narrowed.
    public var target: ResourceMention?
    /// Where, as typed now ("in prod"); what is not typed comes from the last request.
    public var qualifiers: Qualifiers
    /// Whether it was negated, questioned, supposed or reported: then it may only read.
    public var notARequest: NotARequest?

    public init(target: ResourceMention?, qualifiers: Qualifiers, notARequest: NotARequest?) {
        self.target = target
        self.qualifiers = qualifiers
        self.notARequest = notARequest
    }
}
