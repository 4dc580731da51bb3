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
    }
    public var reason: Reason
    public var message: String
    public var suggestions: [String]
    public var locale: String
}
