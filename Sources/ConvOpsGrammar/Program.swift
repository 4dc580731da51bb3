import ConvOpsCore

/// A pattern compiled to a flat program over vocabulary ids: words, slots and splits, matched
/// by backtracking over indices. Matching allocates nothing and takes no references: what it
/// reads is in `Frozen` buffers that the program owns.
///
/// `@unchecked Sendable`: the buffers are written once, in `init`, and only read after; they
/// are freed with the program.
final class Program: @unchecked Sendable {
    enum Op: Sendable {
        /// One of the ids in `sets[start..<start+count]`.
        case word(start: Int32, count: Int32)
        /// A slot (index into `slots`).
        case slot(Int32)
        /// A slot set by the rule: `{scope=mine}` (its value is the slot's `constant`).
        case constant(Int32)
        /// `{_}`: one name, kept by nobody.
        case anyName
        /// `{_*}`: the rest of the text, kept by nobody.
        case rest
        /// Try the next op; if that fails, continue at `to` (an optional group).
        case split(to: Int32)
    }

    struct Slot: Sendable {
        var name: String
        var type: SlotType
        var sign: Int32
        /// The value a `{name=value}` element sets.
        var constant: SlotValue? = nil
    }

    /// What matching needs of a slot.
    struct Shape {
        var type: SlotType
        var sign: Int32
    }

    /// The program as the matcher reads it: plain values only, valid while the program lives
    /// (whoever keeps a code keeps its program too). Read-only, hence `@unchecked Sendable`.
    struct Code: @unchecked Sendable {
        var ops: UnsafeBufferPointer<Op>
        var sets: UnsafeBufferPointer<Int32>
        var shapes: UnsafeBufferPointer<Shape>
    }

    let slots: [Slot]
    let code: Code

    init(_ elements: [PatternElement], slotTypes: [String: SlotType], vocabulary: inout Vocabulary) {
        var ops: [Op] = [], sets: [Int32] = [], slots: [Slot] = []
        Self.emit(elements, slotTypes, &vocabulary, &ops, &sets, &slots)
        self.slots = slots
        code = Code(ops: Frozen.copy(ops), sets: Frozen.copy(sets), shapes: Frozen.copy(slots.map { Shape(type: $0.type, sign: $0.sign) }))
    }

    deinit {
        Frozen.free(code.ops)
        Frozen.free(code.sets)
        Frozen.free(code.shapes)
    }

    private static func emit(_ elements: [PatternElement], _ types: [String: SlotType], _ vocabulary: inout Vocabulary,
                             _ ops: inout [Op], _ sets: inout [Int32], _ slots: inout [Slot]) {
        for element in elements {
            switch element {
            case .word(let words):
                let start = Int32(sets.count)
                sets += words.map { vocabulary.intern($0) }
                ops.append(.word(start: start, count: Int32(words.count)))
            case .slot("_", _):
                ops.append(.anyName)
            case .slot("_*", _):
                ops.append(.rest)
            case .slot(let name, let sign):
                ops.append(.slot(Int32(slots.count)))
                slots.append(Slot(name: name, type: types[name] ?? .word, sign: Int32(sign)))
            case .constant(let name, let value):
                let v = Int(value).map(SlotValue.number) ?? .text(value)
                ops.append(.constant(Int32(slots.count)))
                slots.append(Slot(name: name, type: types[name] ?? .word, sign: 0, constant: v))
            case .optional(let inner):
                let at = ops.count
                ops.append(.split(to: 0))
                emit(inner, types, &vocabulary, &ops, &sets, &slots)
                ops[at] = .split(to: Int32(ops.count))
            }
        }
    }
}

/// Words that fill alarm-state and scope slots, in every locale, by vocabulary id.
///
/// `@unchecked Sendable`: the `Frozen` flags are written once, in `init`, and freed with it.
final class SlotWords: @unchecked Sendable {
    let alarmStates: [Int32: String]
    let scopes: [Int32: String]
    /// By vocabulary id (ids past the end are neither): what matching asks, without hashing.
    private let isAlarmState: UnsafeBufferPointer<Bool>
    private let isScope: UnsafeBufferPointer<Bool>

    static let alarmStateWords: [String: AlarmStateFilter] = [
        "alarm": .alarm, "alarms": .alarm, "alarming": .alarm,
        "ok": .ok, "okay": .ok, "green": .ok, "grün": .ok,
        "insufficient": .insufficientData, "insufficient_data": .insufficientData, "unknown": .insufficientData, "unbekannt": .insufficientData,
        "all": .any, "every": .any, "alle": .any, "allen": .any, "sämtliche": .any,
    ]
    static let scopeWords: [String: HistoryScope] = [
        "mine": .mine, "my": .mine, "me": .mine, "meine": .mine, "meinen": .mine, "mein": .mine,
        "all": .all, "everyone": .all, "everything": .all, "everybody": .all, "team": .all, "alle": .all, "allen": .all, "aller": .all,
    ]

    init(_ vocabulary: inout Vocabulary) {
        var states: [Int32: String] = [:], scopes: [Int32: String] = [:]
        for (w, v) in Self.alarmStateWords { states[vocabulary.intern(w)] = v.rawValue }
        for (w, v) in Self.scopeWords { scopes[vocabulary.intern(w)] = v.rawValue }
        alarmStates = states
        self.scopes = scopes
        let size = Int(max(states.keys.max() ?? 0, scopes.keys.max() ?? 0)) + 1
        var a = Array(repeating: false, count: size), b = Array(repeating: false, count: size)
        for id in states.keys { a[Int(id)] = true }
        for id in scopes.keys { b[Int(id)] = true }
        isAlarmState = Frozen.copy(a)
        isScope = Frozen.copy(b)
    }

    deinit {
        Frozen.free(isAlarmState)
        Frozen.free(isScope)
    }

    @inline(__always) func alarmState(_ id: Int32) -> Bool { id >= 0 && Int(id) < isAlarmState.count && isAlarmState[Int(id)] }
    @inline(__always) func scope(_ id: Int32) -> Bool { id >= 0 && Int(id) < isScope.count && isScope[Int(id)] }
}

/// Where a slot matched: token indexes `start..<end`, or start -1 for not set (-2: a constant).
struct Capture { var start: Int32 = -1; var end: Int32 = -1 }

/// The captures of one match, inline: no allocation per rule tried. A rule has at most
/// `Captures.capacity` slots (checked when the grammar loads).
struct Captures {
    static let capacity = 8
    private var storage: (Capture, Capture, Capture, Capture, Capture, Capture, Capture, Capture) =
        (Capture(), Capture(), Capture(), Capture(), Capture(), Capture(), Capture(), Capture())

    subscript(_ i: Int) -> Capture {
        get { withUnsafeBytes(of: storage) { $0.load(fromByteOffset: i * MemoryLayout<Capture>.stride, as: Capture.self) } }
        set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: i * MemoryLayout<Capture>.stride, as: Capture.self) } }
    }
}
