import ConvOpsCore

/// A pattern compiled to a flat program over vocabulary ids: words, slots and splits, matched
/// by backtracking over indices. Matching allocates nothing.
final class Program: Sendable {
    enum Op: Sendable {
        /// One of the ids in `sets[start..<start+count]`.
        case word(start: Int32, count: Int32)
        /// A slot (index into `slots`).
        case slot(Int32)
        /// A slot set by the rule: `{scope=mine}`.
        case constant(Int32, SlotValue)
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

    let ops: [Op]
    let sets: [Int32]
    let slots: [Slot]

    init(_ elements: [PatternElement], slotTypes: [String: SlotType], vocabulary: inout Vocabulary) {
        var ops: [Op] = [], sets: [Int32] = [], slots: [Slot] = []
        Self.emit(elements, slotTypes, &vocabulary, &ops, &sets, &slots)
        self.ops = ops
        self.sets = sets
        self.slots = slots
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
                ops.append(.constant(Int32(slots.count), v))
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
final class SlotWords: Sendable {
    let alarmStates: [Int32: String]
    let scopes: [Int32: String]

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
    }
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

/// Runs one program over the content tokens of one text.
struct Matcher {
    let program: Program
    let tokens: [Token]
    let tables: LocaleTables
    let slotWords: SlotWords
    /// Let slots match nothing, recording them as missing (for "restart" with no target).
    let allowMissing: Bool
    var captures = Captures()
    var missing: Int32 = -1
    /// How many tokens the furthest attempt got past (for `convops parse --explain`).
    var furthest = 0

    init(_ program: Program, _ tokens: [Token], _ tables: LocaleTables, _ slotWords: SlotWords, allowMissing: Bool = false) {
        self.program = program
        self.tokens = tokens
        self.tables = tables
        self.slotWords = slotWords
        self.allowMissing = allowMissing
    }

    mutating func matches() -> Bool { run(0, 0) }

    private mutating func run(_ pc: Int, _ ti: Int) -> Bool {
        if ti > furthest { furthest = ti }
        guard pc < program.ops.count else { return ti == tokens.count }
        switch program.ops[pc] {
        case .word(let start, let count):
            guard ti < tokens.count else { return false }
            let t = tokens[ti]
            guard t.id >= 0, !t.quoted else { return false }
            var k = Int(start)
            let end = k + Int(count)
            while k < end {
                if program.sets[k] == t.id { return run(pc + 1, ti + 1) }
                k += 1
            }
            return false
        case .split(let to):
            if run(pc + 1, ti) { return true }
            return run(Int(to), ti)
        case .constant(let index, _):
            let saved = captures[Int(index)]
            captures[Int(index)] = Capture(start: -2, end: -2)
            if run(pc + 1, ti) { return true }
            captures[Int(index)] = saved
            return false
        case .anyName:
            guard ti < tokens.count, tokens[ti].nameLike || tokens[ti].quoted, !tables.knows(tokens[ti]) else { return false }
            return run(pc + 1, ti + 1)
        case .rest:
            return ti < tokens.count && pc + 1 == program.ops.count
        case .slot(let index):
            let slot = program.slots[Int(index)]
            let available = tokens.count - ti
            let longest = min(available, Self.maxTokens(slot.type))
            let saved = captures[Int(index)]
            if longest >= 1 {
                if slot.type == .text {
                    // Free text takes the fewest words that leave the rest matchable.
                    for length in 1...longest where attempt(index, slot, pc, ti, length) { return true }
                } else {
                    // A duration takes the most it can.
                    var length = longest
                    while length >= 1 {
                        if attempt(index, slot, pc, ti, length) { return true }
                        length -= 1
                    }
                }
            }
            captures[Int(index)] = saved
            if allowMissing {
                let savedMissing = missing
                if missing < 0 { missing = index }
                if run(pc + 1, ti) { return true }
                missing = savedMissing
            }
            return false
        }
    }

    @inline(__always)
    private mutating func attempt(_ index: Int32, _ slot: Program.Slot, _ pc: Int, _ ti: Int, _ length: Int) -> Bool {
        guard accepts(slot, ti, length) else { return false }
        captures[Int(index)] = Capture(start: Int32(ti), end: Int32(ti + length))
        return run(pc + 1, ti + length)
    }

    static func maxTokens(_ type: SlotType) -> Int {
        switch type {
        case .duration: 6
        case .time: 2
        case .text: 64
        default: 1
        }
    }

    /// Whether tokens `ti..<ti+length` can fill the slot.
    func accepts(_ slot: Program.Slot, _ ti: Int, _ length: Int) -> Bool {
        switch slot.type {
        case .text: return true
        case .duration: return durationSeconds(ti, ti + length) != nil
        case .time: return clockMinutes(ti, ti + length) != nil
        default: break
        }
        guard length == 1 else { return false }
        let t = tokens[ti]
        switch slot.type {
        // "restart it": the resource of the last message, which the engine fills in.
        // A number before a unit is an amount of time ("for 4 hours"), never a resource's name.
        case .resource:
            if t.digits >= 0, !t.quoted, ti + 1 < tokens.count, tokens[ti + 1].id >= 0, tables.units[Int(tokens[ti + 1].id)] > 0 { return false }
            return ((t.nameLike || t.quoted) && !tables.knows(t)) || tables.wordClass(t).contains(.reference)
        case .requestID: return t.nameLike && !tables.knows(t) && Self.isRequestID(t)
        case .word: return true
        // Any size matches here; `Grammar.outOfRange` refuses what is too large, by name.
        case .count:
            return tables.number(t) != nil
        case .delta:
            if slot.sign != 0 { return (tables.number(t) ?? 0) > 0 }
            return t.signed != 0
        case .environment: return t.id >= 0 && !t.quoted && tables.environments[Int(t.id)] >= 0
        case .region: return t.region
        case .alarmState: return t.id >= 0 && !t.quoted && slotWords.alarmStates[t.id] != nil
        case .scope: return t.id >= 0 && !t.quoted && slotWords.scopes[t.id] != nil
        case .text, .duration, .time: return false
        }
    }

    /// "18:00", "18:00 Uhr", "18 Uhr": minutes after midnight.
    func clockMinutes(_ start: Int, _ end: Int) -> Int32? {
        let t = tokens[start]
        if end - start == 1 { return t.clock >= 0 && !t.quoted ? t.clock : nil }
        guard end - start == 2, tables.wordClass(tokens[start + 1]).contains(.clockWord) else { return nil }
        if t.clock >= 0 { return t.clock }
        guard let hour = tables.number(t), (0...24).contains(hour) else { return nil }
        return Int32(hour % 24) * 60
    }

    /// Request ids as the engine makes them: `r` and 7 letters or digits.
    static func isRequestID(_ t: Token) -> Bool { t.requestLike }

    /// "15m", "15 minutes", "last 2 hours", "since 30 minutes ago", "seit 30 Minuten",
    /// "the last hour": duration words around one amount, every token used. Any length is
    /// read (in Int64: amounts and units are both below 2^31, so the product cannot overflow);
    /// `Grammar.outOfRange` refuses what is longer than the grammar looks back.
    func durationSeconds(_ start: Int, _ end: Int) -> Int64? {
        var i = start
        func isWord(_ k: Int) -> Bool { tables.wordClass(tokens[k]).contains(.durationWord) }
        while i < end, isWord(i) { i += 1 }
        guard i < end else { return nil }
        let t = tokens[i]
        var seconds: Int64 = 0
        if t.id >= 0, !t.quoted, tables.units[Int(t.id)] > 0 {
            seconds = Int64(tables.units[Int(t.id)])                                 // "last hour"
            i += 1
        } else if let n = tables.number(t), i + 1 < end, tokens[i + 1].id >= 0, tables.units[Int(tokens[i + 1].id)] > 0 {
            seconds = Int64(n) * Int64(tables.units[Int(tokens[i + 1].id)])         // "2 hours", "zwei Stunden"
            i += 2
        } else if t.gluedAmount >= 0, t.gluedUnit >= 0, Int(t.gluedUnit) < tables.units.count, tables.units[Int(t.gluedUnit)] > 0 {
            seconds = Int64(t.gluedAmount) * Int64(tables.units[Int(t.gluedUnit)])  // "15m"
            i += 1
        } else {
            return nil
        }
        while i < end, isWord(i) { i += 1 }
        guard i == end else { return nil }
        return seconds
    }
}
