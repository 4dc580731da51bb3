/// What a person asked for, as a typed value. Only `commands/` maps text to it
/// (through ConvOpsGrammar); everything downstream speaks `Intent`.
public enum Intent: Sendable, Hashable {
    case status(target: ResourceMention?)
    case restart(target: ResourceMention)
    case stop(target: ResourceMention)
    case start(target: ResourceMention)
    case scale(target: ResourceMention, change: ScaleChange)
    case alarms(state: AlarmStateFilter)
    case logs(target: ResourceMention, sinceSeconds: Int, filter: String?)
    case history(scope: HistoryScope)
    case approve(request: String?)
    case reject(request: String?)
    case cancel
    case help(topic: String?)
    case whoami
    /// Hold back new alert posts for a resource, an alarm or (maintenance) an environment.
    case snooze(SnoozeTarget, SnoozeLength)
    /// The snoozes in force.
    case snoozes
    /// End a snooze (or maintenance) before its time.
    case unsnooze(SnoozeTarget)

    public var kind: IntentKind {
        switch self {
        case .status: .status
        case .restart: .restart
        case .stop: .stop
        case .start: .start
        case .scale: .scale
        case .alarms: .alarms
        case .logs: .logs
        case .history: .history
        case .approve: .approve
        case .reject: .reject
        case .cancel: .cancel
        case .help: .help
        case .whoami: .whoami
        case .snooze(.environment, _): .maintenance
        case .snooze: .snooze
        case .snoozes: .snoozes
        case .unsnooze: .unsnooze
        }
    }

    /// The resource the intent acts on or asks about, if any.
    public var target: ResourceMention? {
        switch self {
        case .status(let t): t
        case .restart(let t), .stop(let t), .start(let t): t
        case .scale(let t, _): t
        case .logs(let t, _, _): t
        case .snooze(.resource(let t), _): t
        case .unsnooze(.resource(let t)): t
        default: nil
        }
    }
}

public enum ScaleChange: Sendable, Hashable {
    case absolute(Int)
    case delta(Int)
}

public enum AlarmStateFilter: String, Sendable, Hashable, CaseIterable {
    case alarm = "ALARM", ok = "OK", insufficientData = "INSUFFICIENT_DATA", any = "ANY"
}

/// What a snooze holds back: alerts about one resource, of one alarm, or from one environment.
public enum SnoozeTarget: Sendable, Hashable {
    case resource(ResourceMention)
    case alarm(String)
    case environment(String)
}

/// How long: a span from now, or until a time of day (minutes after midnight; the next one).
public enum SnoozeLength: Sendable, Hashable {
    case seconds(Int)
    case until(minuteOfDay: Int)
}

public enum HistoryScope: String, Sendable, Hashable, CaseIterable {
    case mine, all
}

/// Optional qualifiers any intent may carry ("in prod", "in eu-central-1", "on account billing").
public struct Qualifiers: Sendable, Hashable {
    public var environment: String?
    public var region: String?
    public var account: String?

    public init(environment: String? = nil, region: String? = nil, account: String? = nil) {
        self.environment = environment
        self.region = region
        self.account = account
    }

    public var isEmpty: Bool { environment == nil && region == nil && account == nil }
}

/// An intent together with its qualifiers: the unit the engine plans from.
public struct Command: Sendable, Hashable {
    public var intent: Intent
    public var qualifiers: Qualifiers

    public init(_ intent: Intent, qualifiers: Qualifiers = Qualifiers()) {
        self.intent = intent
        self.qualifiers = qualifiers
    }
}

extension Intent {
    /// The same intent about another resource ("same for web-2"); intents without one are unchanged.
    public func with(target: ResourceMention) -> Intent {
        switch self {
        case .status: .status(target: target)
        case .restart: .restart(target: target)
        case .stop: .stop(target: target)
        case .start: .start(target: target)
        case .scale(_, let change): .scale(target: target, change: change)
        case .logs(_, let since, let filter): .logs(target: target, sinceSeconds: since, filter: filter)
        case .snooze(.resource, let length): .snooze(.resource(target), length)
        case .unsnooze(.resource): .unsnooze(.resource(target))
        default: self
        }
    }
}

extension Qualifiers {
    /// These qualifiers, with what is not set here taken from `earlier`.
    public func over(_ earlier: Qualifiers) -> Qualifiers {
        Qualifiers(environment: environment ?? earlier.environment, region: region ?? earlier.region, account: account ?? earlier.account)
    }
}
