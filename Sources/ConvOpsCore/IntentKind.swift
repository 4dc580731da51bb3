/// The names intents go by in `commands/`, the CLI and the tests.
public enum IntentKind: String, Sendable, Hashable, CaseIterable, Codable, BitwiseCopyable {
    case status, restart, stop, start, scale, alarms, logs, history
    case approve, reject, cancel, help, whoami
    case snooze, maintenance, snoozes, unsnooze

    /// Whether running the intent changes something in AWS. Mutating intents always go
    /// through a plan and a confirmation; `commands/` files must declare the same risk.
    public var risk: Risk {
        switch self {
        case .restart, .stop, .start, .scale: .mutating
        default: .readOnly
        }
    }

    /// Whether it changes something: in AWS (mutating), or what alerts reach people (snoozes).
    /// Negated, questioned or supposed ("don't snooze web-1"), such text is never a request.
    public var changesSomething: Bool { risk == .mutating || self == .snooze || self == .maintenance || self == .unsnooze }

    /// The slots an intent accepts, by name. `commands/` files may only use these.
    public var slots: [SlotSpec] {
        switch self {
        case .status: [SlotSpec("target", .resource, required: false)]
        case .restart, .stop, .start: [SlotSpec("target", .resource, required: true)]
        case .scale: [SlotSpec("target", .resource, required: true),
                      SlotSpec("count", .count, required: false),
                      SlotSpec("delta", .delta, required: false)]
        case .alarms: [SlotSpec("state", .alarmState, required: false)]
        case .logs: [SlotSpec("target", .resource, required: true),
                     SlotSpec("since", .duration, required: false),
                     SlotSpec("filter", .text, required: false)]
        case .history: [SlotSpec("scope", .scope, required: false)]
        case .approve, .reject: [SlotSpec("request", .requestID, required: false)]
        case .cancel, .whoami: []
        case .help: [SlotSpec("topic", .word, required: false)]
        case .snooze: [SlotSpec("target", .resource, required: false), SlotSpec("alarm", .text, required: false),
                       SlotSpec("for", .duration, required: false), SlotSpec("until", .time, required: false)]
        case .maintenance: [SlotSpec("for", .duration, required: false), SlotSpec("until", .time, required: false)]
        case .snoozes: []
        case .unsnooze: [SlotSpec("target", .resource, required: false), SlotSpec("alarm", .text, required: false)]
        }
    }

    /// Qualifier slots every intent may carry.
    public static let qualifierSlots: [SlotSpec] = [
        SlotSpec("env", .environment, required: false),
        SlotSpec("region", .region, required: false),
        SlotSpec("account", .word, required: false),
    ]
}

public enum Risk: String, Sendable, Hashable, Codable, CaseIterable {
    case readOnly = "read-only"
    case mutating
}

public struct SlotSpec: Sendable, Hashable {
    public var name: String
    public var type: SlotType
    public var required: Bool

    public init(_ name: String, _ type: SlotType, required: Bool) {
        self.name = name
        self.type = type
        self.required = required
    }
}

/// The types a slot value can have. The grammar extracts and normalizes each.
public enum SlotType: String, Sendable, Hashable, CaseIterable, Codable, BitwiseCopyable {
    case resource, count, delta, duration, time, text, word, environment, region, alarmState = "alarm-state", scope
    case requestID = "request-id"
}
