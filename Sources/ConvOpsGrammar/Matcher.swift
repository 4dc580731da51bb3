import ConvOpsCore

/// What matching needs to know of one content token in one locale, looked up once per text
/// rather than once per rule tried.
struct TokenFacts {
    /// The token's word class here ([] when it is quoted or no locale knows it).
    var wordClass: WordClass
    /// A word of this locale (so it can't be a name).
    var known: Bool
    /// The number it stands for (digits or a number word), else -1.
    var number: Int32
    /// The seconds of the unit it names ("hours"), else 0. Read also when quoted, as before.
    var unitSeconds: Int32
    /// "15m": the seconds of the glued unit, else 0.
    var gluedUnitSeconds: Int32
    var environment: Bool
    var alarmState: Bool
    var scope: Bool

    init(_ t: Token, _ tables: LocaleTables, _ slotWords: SlotWords) {
        let plain = t.id >= 0 && !t.quoted
        wordClass = tables.wordClass(t)
        known = tables.knows(t)
        number = tables.number(t) ?? -1
        unitSeconds = tables.unit(t.id)
        gluedUnitSeconds = t.gluedAmount >= 0 ? tables.unit(t.gluedUnit) : 0
        environment = plain && tables.environment(t.id) >= 0
        alarmState = plain && slotWords.alarmState(t.id)
        scope = plain && slotWords.scope(t.id)
    }
}

/// Runs programs over the content tokens of one text: one matcher serves every rule a parse
/// tries (`matches(_:)`). It reads only buffers of plain values (the program's, the tokens
/// and their facts), so trying a rule takes no reference and allocates nothing; reference
/// counting for every rule tried was a fifth of a parse's time. Made by `Matcher.with`, and
/// valid only inside it (it cannot be copied out).
struct Matcher: ~Copyable {
    private var ops: UnsafeBufferPointer<Program.Op>
    private var sets: UnsafeBufferPointer<Int32>
    private var shapes: UnsafeBufferPointer<Program.Shape>
    let tokens: UnsafeBufferPointer<Token>
    let facts: UnsafeBufferPointer<TokenFacts>
    /// Let slots match nothing, recording them as missing (for "restart" with no target).
    let allowMissing: Bool
    var captures = Captures()
    var missing: Int32 = -1
    /// How many tokens the furthest attempt got past (for `convops parse --explain`).
    var furthest = 0

    private init(_ tokens: UnsafeBufferPointer<Token>, _ facts: UnsafeBufferPointer<TokenFacts>, allowMissing: Bool) {
        ops = UnsafeBufferPointer(start: nil, count: 0)
        sets = UnsafeBufferPointer(start: nil, count: 0)
        shapes = UnsafeBufferPointer(start: nil, count: 0)
        self.tokens = tokens
        self.facts = facts
        self.allowMissing = allowMissing
    }

    /// A matcher over `tokens` in the locale of `tables`, for the length of `body`.
    static func with<R>(_ tokens: [Token], _ tables: LocaleTables, _ slotWords: SlotWords, allowMissing: Bool = false,
                        _ body: (inout Matcher) throws -> R) rethrows -> R {
        try tokens.withUnsafeBufferPointer { tp in
            try withUnsafeTemporaryAllocation(of: TokenFacts.self, capacity: max(tp.count, 1)) { fp in
                for (i, t) in tp.enumerated() { (fp.baseAddress! + i).initialize(to: TokenFacts(t, tables, slotWords)) }
                var matcher = Matcher(tp, UnsafeBufferPointer(rebasing: fp[0..<tp.count]), allowMissing: allowMissing)
                return try body(&matcher)
            }
        }
    }

    /// Whether `program` matches all the tokens, forgetting what an earlier program captured.
    mutating func matches(_ program: Program) -> Bool { matches(program.code) }

    mutating func matches(_ code: Program.Code) -> Bool {
        ops = code.ops
        sets = code.sets
        shapes = code.shapes
        captures = Captures()
        missing = -1
        furthest = 0
        return run(0, 0)
    }

    private mutating func run(_ pc: Int, _ ti: Int) -> Bool {
        if ti > furthest { furthest = ti }
        guard pc < ops.count else { return ti == tokens.count }
        switch ops[pc] {
        case .word(let start, let count):
            guard ti < tokens.count else { return false }
            let t = tokens[ti]
            guard t.id >= 0, !t.quoted else { return false }
            var k = Int(start)
            let end = k + Int(count)
            while k < end {
                if sets[k] == t.id { return run(pc + 1, ti + 1) }
                k += 1
            }
            return false
        case .split(let to):
            if run(pc + 1, ti) { return true }
            return run(Int(to), ti)
        case .constant(let index):
            let saved = captures[Int(index)]
            captures[Int(index)] = Capture(start: -2, end: -2)
            if run(pc + 1, ti) { return true }
            captures[Int(index)] = saved
            return false
        case .anyName:
            guard ti < tokens.count, tokens[ti].nameLike || tokens[ti].quoted, !facts[ti].known else { return false }
            return run(pc + 1, ti + 1)
        case .rest:
            return ti < tokens.count && pc + 1 == ops.count
        case .slot(let index):
            let slot = shapes[Int(index)]
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
    private mutating func attempt(_ index: Int32, _ slot: Program.Shape, _ pc: Int, _ ti: Int, _ length: Int) -> Bool {
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
    func accepts(_ slot: Program.Shape, _ ti: Int, _ length: Int) -> Bool {
        switch slot.type {
        case .text: return true
        case .duration: return durationSeconds(ti, ti + length) != nil
        case .time: return clockMinutes(ti, ti + length) != nil
        default: break
        }
        guard length == 1 else { return false }
        let t = tokens[ti], f = facts[ti]
        switch slot.type {
        // "restart it": the resource of the last message, which the engine fills in.
        // A number before a unit is an amount of time ("for 4 hours"), never a resource's name.
        case .resource:
            if t.digits >= 0, !t.quoted, ti + 1 < tokens.count, facts[ti + 1].unitSeconds > 0 { return false }
            return ((t.nameLike || t.quoted) && !f.known) || f.wordClass.contains(.reference)
        case .requestID: return t.nameLike && !f.known && t.requestLike
        case .word: return true
        // Any size matches here; `Grammar.outOfRange` refuses what is too large, by name.
        case .count: return f.number >= 0
        case .delta:
            if slot.sign != 0 { return f.number > 0 }
            return t.signed != 0
        case .environment: return f.environment
        case .region: return t.region
        case .alarmState: return f.alarmState
        case .scope: return f.scope
        case .text, .duration, .time: return false
        }
    }

    /// "18:00", "18:00 Uhr", "18 Uhr": minutes after midnight.
    func clockMinutes(_ start: Int, _ end: Int) -> Int32? {
        let t = tokens[start]
        if end - start == 1 { return t.clock >= 0 && !t.quoted ? t.clock : nil }
        guard end - start == 2, facts[start + 1].wordClass.contains(.clockWord) else { return nil }
        if t.clock >= 0 { return t.clock }
        let hour = facts[start].number
        guard (0...24).contains(hour) else { return nil }
        return (hour % 24) * 60
    }

    /// "15m", "15 minutes", "last 2 hours", "since 30 minutes ago", "seit 30 Minuten",
    /// "the last hour": duration words around one amount, every token used. Any length is
    /// read (in Int64: amounts and units are both below 2^31, so the product cannot overflow);
    /// `Grammar.outOfRange` refuses what is longer than the grammar looks back.
    func durationSeconds(_ start: Int, _ end: Int) -> Int64? {
        var i = start
        func isWord(_ k: Int) -> Bool { facts[k].wordClass.contains(.durationWord) }
        while i < end, isWord(i) { i += 1 }
        guard i < end else { return nil }
        let t = tokens[i], f = facts[i]
        var seconds: Int64 = 0
        if !t.quoted, f.unitSeconds > 0 {
            seconds = Int64(f.unitSeconds)                                          // "last hour"
            i += 1
        } else if f.number >= 0, i + 1 < end, facts[i + 1].unitSeconds > 0 {
            seconds = Int64(f.number) * Int64(facts[i + 1].unitSeconds)             // "2 hours", "zwei Stunden"
            i += 2
        } else if f.gluedUnitSeconds > 0 {
            seconds = Int64(t.gluedAmount) * Int64(f.gluedUnitSeconds)              // "15m"
            i += 1
        } else {
            return nil
        }
        while i < end, isWord(i) { i += 1 }
        guard i == end else { return nil }
        return seconds
    }
}
