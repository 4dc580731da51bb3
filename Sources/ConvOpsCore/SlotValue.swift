/// A slot as the grammar extracted it: normalized, but not yet interpreted.
public enum SlotValue: Sendable, Hashable {
    case text(String)
    case number(Int)
    /// "it", or no resource named where one is needed: the resource of the person's last
    /// message, which the engine fills in from the conversation (or asks for).
    case earlier

    /// How the slot reads in the CLI's JSON and the corpus.
    public var display: String {
        switch self {
        case .text(let s): s
        case .number(let n): String(n)
        case .earlier: "<earlier>"
        }
    }

    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var number: Int? {
        if case .number(let n) = self { return n }
        return nil
    }
}

/// Why a set of extracted slots does not make an intent.
public struct IntentError: Error, Sendable, Hashable {
    public var kind: IntentKind
    public var missingSlot: String

    public init(kind: IntentKind, missingSlot: String) {
        self.kind = kind
        self.missingSlot = missingSlot
    }
}

extension Command {
    /// Builds the typed command from an intent name and its slots. The grammar has already
    /// checked slot names and types against `IntentKind.slots`; this decides what is missing.
    public init(kind: IntentKind, slots: [String: SlotValue]) throws(IntentError) {
        try self.init(kind: kind, slot: { slots[$0] })
    }

    /// As `init(kind:slots:)`, reading slots through a function (the grammar passes its few
    /// captured slots without building a dictionary).
    public init(kind: IntentKind, slot: (String) -> SlotValue?) throws(IntentError) {
        let named = slot("kind")?.text.flatMap(ResourceKind.init(rawValue:))
        func mention(_ name: String) -> ResourceMention? {
            switch slot(name) {
            case .earlier: ResourceMention.earlier(kind: named)
            case .text(let text): ResourceMention(text, kind: named)
            default: nil
            }
        }
        func required(_ name: String) throws(IntentError) -> ResourceMention {
            guard let m = mention(name) else { throw IntentError(kind: kind, missingSlot: name) }
            return m
        }
        let intent: Intent
        switch kind {
        case .status: intent = .status(target: mention("target"))
        case .restart: intent = .restart(target: try required("target"))
        case .stop: intent = .stop(target: try required("target"))
        case .start: intent = .start(target: try required("target"))
        case .scale:
            let target = try required("target")
            if let n = slot("count")?.number {
                intent = .scale(target: target, change: .absolute(n))
            } else if let d = slot("delta")?.number {
                intent = .scale(target: target, change: .delta(d))
            } else {
                throw IntentError(kind: kind, missingSlot: "count")
            }
        case .alarms:
            let state = slot("state")?.text.flatMap { AlarmStateFilter(rawValue: $0) } ?? .alarm
            intent = .alarms(state: state)
        case .logs:
            intent = .logs(target: try required("target"),
                           sinceSeconds: slot("since")?.number ?? 900,
                           filter: slot("filter")?.text)
        case .history:
            intent = .history(scope: slot("scope")?.text.flatMap { HistoryScope(rawValue: $0) } ?? .mine)
        case .approve: intent = .approve(request: slot("request")?.text)
        case .reject: intent = .reject(request: slot("request")?.text)
        case .cancel: intent = .cancel
        case .help: intent = .help(topic: slot("topic")?.text)
        case .whoami: intent = .whoami
        case .snooze, .maintenance:
            // An hour unless said otherwise: the same as the alert's Snooze button.
            let length: SnoozeLength = if let minute = slot("until")?.number {
                .until(minuteOfDay: minute)
            } else {
                .seconds(slot("for")?.number ?? 3600)
            }
            if kind == .maintenance {
                guard let environment = slot("env")?.text else { throw IntentError(kind: kind, missingSlot: "env") }
                intent = .snooze(.environment(environment), length)
            } else if let alarm = slot("alarm")?.text {
                intent = .snooze(.alarm(alarm), length)
            } else {
                intent = .snooze(.resource(try required("target")), length)
            }
        case .snoozes: intent = .snoozes
        case .unsnooze:
            if let alarm = slot("alarm")?.text {
                intent = .unsnooze(.alarm(alarm))
            } else if let m = mention("target") {
                intent = .unsnooze(.resource(m))
            } else if let environment = slot("env")?.text {
                intent = .unsnooze(.environment(environment))
            } else {
                throw IntentError(kind: kind, missingSlot: "target")
            }
        }
        self.init(intent, qualifiers: Qualifiers(environment: slot("env")?.text,
                                                 region: slot("region")?.text,
                                                 account: slot("account")?.text))
    }
}
