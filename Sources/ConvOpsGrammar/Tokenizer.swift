/// One word of input, located in the text's bytes, with what the grammar needs to know about
/// it worked out once.
struct Token: Sendable {
    /// The word as typed: byte offsets in the input's UTF-8 (punctuation around it trimmed).
    var raw: Range<Int>
    /// How many bytes the folded word has.
    var foldedLength: Int
    /// The vocabulary id, or -1 for a word no locale knows.
    var id: Int32
    /// It was in quotes or backticks: a name, never a command word.
    var quoted: Bool
    /// Letters, digits and `-._:/+=@`, starting with a letter or digit: can be a resource name.
    var nameLike: Bool
    /// Looks like an AWS region code (eu-central-1).
    var region: Bool
    /// Looks like a request id: `r` and 7 letters or digits.
    var requestLike: Bool = false
    /// The value of a token of digits only, else -1. Values past `Token.huge` read as
    /// `Token.huge`, so a number of any length is a number, and too large for every limit.
    var digits: Int32
    /// The value of `+N` or `-N` (saturating at ±`Token.huge`), else 0.
    var signed: Int32
    /// "15m": the amount and the vocabulary id of the unit after it (else -1).
    var gluedAmount: Int32
    var gluedUnit: Int32
    /// "18:00", "9:30", "18.00": minutes after midnight, else -1.
    var clock: Int32 = -1
}

extension Token {
    /// Where typed numbers saturate: larger than any count, delta or duration the grammar takes.
    static let huge: Int32 = 1_000_000_000

    /// Digits as a number, saturating at `huge` instead of overflowing.
    @inline(__always) static func accumulate(_ value: Int32, _ digit: UInt8) -> Int32 {
        value >= huge / 10 ? huge : min(huge, value * 10 + Int32(digit - 0x30))
    }
}

/// A text split into tokens. Tokens point into the text's UTF-8 by offset.
struct TokenizedText: Sendable {
    var text: String
    var tokens: [Token]
    var questionMark: Bool
    /// The message opens as a quotation ("> restart web-1", Slack's "&gt; …"): someone else's words.
    var quotation: Bool = false

    /// The bytes of `range`, read straight from the text's UTF-8.
    private func bytes(_ range: Range<Int>) -> [UInt8] {
        text.utf8.withContiguousStorageIfAvailable { Array($0[range]) } ?? Array(text.utf8.dropFirst(range.lowerBound).prefix(range.count))
    }

    /// The word as typed.
    func raw(_ t: Token) -> String {
        text.utf8.withContiguousStorageIfAvailable { String(decoding: UnsafeBufferPointer(rebasing: $0[t.raw]), as: UTF8.self) }
            ?? String(decoding: bytes(t.raw), as: UTF8.self)
    }

    /// The folded bytes of a word (made again when needed: only slot values and suggestions ask).
    func folded(_ t: Token) -> [UInt8] {
        var b = bytes(t.raw)
        Fold.fold(&b)
        return b
    }

    func foldedText(_ t: Token) -> String { String(decoding: folded(t), as: UTF8.self) }

    /// The words as typed, one space between them, built in one buffer.
    func display(_ tokens: [Token]) -> String {
        let joined = text.utf8.withContiguousStorageIfAvailable { b -> String in
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            for t in tokens {
                if !out.isEmpty { out.append(0x20) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[t.raw]))
            }
            return String(decoding: out, as: UTF8.self)
        }
        return joined ?? tokens.map(raw).joined(separator: " ")
    }
}

enum Tokenizer {
    /// Splits on white space; drops Slack mentions (`<@U123>`, `@convops`), emoji and
    /// `:shortcodes:`; strips punctuation around words and keeps the characters resource
    /// names use (`web-1`, `i-0abc`, `arn:aws:ec2:…/i-0abc`) intact.
    static func tokenize(_ text: String, _ vocabulary: Vocabulary) -> TokenizedText {
        var text = text
        // Cap the work on hostile input: nobody types a 64 KB command.
        if text.utf8.count > 65_536 {
            var cut = text.utf8.index(text.utf8.startIndex, offsetBy: 65_536)
            while cut > text.startIndex, !text.unicodeScalars.indices.contains(cut) { cut = text.utf8.index(before: cut) }
            text = String(text[..<cut])
        }
        let scanned: Scanned
        if let done = text.utf8.withContiguousStorageIfAvailable({ scan($0, vocabulary) }) {
            scanned = done
        } else {
            var copy = text
            copy.makeContiguousUTF8()
            scanned = copy.utf8.withContiguousStorageIfAvailable { scan($0, vocabulary) } ?? Scanned()
            text = copy
        }
        return TokenizedText(text: text, tokens: scanned.tokens, questionMark: scanned.questionMark, quotation: scanned.quotation)
    }

    private struct Scanned {
        var tokens: [Token] = []
        var questionMark = false
        var quotation = false
    }

    /// The words of the text's bytes. Its state is local and closures here don't escape, so
    /// no access is checked at run time (captured variables of a nested function were).
    private static func scan(_ b: UnsafeBufferPointer<UInt8>, _ vocabulary: Vocabulary) -> Scanned {
        var out = Scanned()
        out.tokens.reserveCapacity(12)
        // Folding never makes a word longer: a scratch buffer the size of the text holds any word.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(b.count, 1)) { f in
            let n = b.count
            var i = 0
            while i < n {
                while i < n, isSpace(b, i) { i += b[i] == 0xC2 ? 2 : 1 }
                guard i < n else { break }
                var end = i
                while end < n, !isSpace(b, end) { end += 1 }
                if !out.quotation, isQuoteMark(b, i, end) { out.quotation = true }
                if let token = piece(b, i, end, f, &out.questionMark, vocabulary) { out.tokens.append(token) }
                i = end
            }
        }
        return out
    }

    /// Whether a word starts with ">" or Slack's escaped "&gt;" (after any zero-width
    /// characters): a quotation, anywhere in the message ("hey\n> restart web-1", "bot: > …").
    @inline(__always)
    private static func isQuoteMark(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var k = start
        // U+200B…U+200D, U+2060, U+FEFF.
        while k + 2 < end, (b[k] == 0xE2 && ((b[k + 1] == 0x80 && (0x8B...0x8D).contains(b[k + 2])) || (b[k + 1] == 0x81 && b[k + 2] == 0xA0)))
            || (b[k] == 0xEF && b[k + 1] == 0xBB && b[k + 2] == 0xBF) { k += 3 }
        guard k < end else { return false }
        if b[k] == 0x3E { return true }
        return k + 3 < end && b[k] == 0x26 && b[k + 1] == 0x67 && b[k + 2] == 0x74 && b[k + 3] == 0x3B
    }

    @inline(__always)
    private static func isSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let c = b[i]
        if c == 0x20 || (c >= 0x09 && c <= 0x0D) { return true }
        return c == 0xC2 && i + 1 < b.count && b[i + 1] == 0xA0 // no-break space
    }

    private static func piece(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ f: UnsafeMutableBufferPointer<UInt8>,
                              _ questionMark: inout Bool, _ vocabulary: Vocabulary) -> Token? {
        var quoted = b[start] == 0x27
        var ascii = true
        for k in start..<end {
            let c = b[k]
            if c < 0x80 {
                if c == 0x3F { questionMark = true } else if c == 0x22 || c == 0x60 { quoted = true }
            } else {
                ascii = false
                if c == 0xE2, k + 2 < end, b[k + 1] == 0x80, b[k + 2] == 0x9C || b[k + 2] == 0x9D || b[k + 2] == 0x9E { quoted = true }
                if c == 0xC2, k + 1 < end, b[k + 1] == 0xBF { questionMark = true }
            }
        }
        // Mentions: <@U024BE7LH>, <!here>, @convops.
        if b[start] == 0x40 || (b[start] == 0x3C && start + 1 < end && (b[start + 1] == 0x40 || b[start + 1] == 0x21)) { return nil }
        // :shortcode:
        if end - start > 2, b[start] == 0x3A, b[end - 1] == 0x3A {
            var inner = false
            for k in (start + 1)..<(end - 1) where b[k] == 0x3A { inner = true; break }
            if !inner { return nil }
        }
        var s = start, e = end
        if ascii {
            while s < e, isEdgeASCII(b[s]) { s += 1 }
            while s < e, isEdgeASCII(b[e - 1]) { e -= 1 }
            var any = false
            for k in s..<e where isAlnum(b[k]) { any = true; break }
            guard s < e, any else { return nil }
        } else {
            while s < e, let len = edgeLength(b, s, e, forward: true) { s += len }
            while s < e, let len = edgeLength(b, s, e, forward: false) { e -= len }
            guard s < e, hasLetterOrDigit(b, s, e) else { return nil }
        }

        // Fold and hash (FNV-1a, as the vocabulary does) in one pass.
        var k = s
        var o = 0
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func put(_ byte: UInt8) {
            f[o] = byte
            o += 1
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        while k < e {
            let c = b[k]
            if c >= 0x41 && c <= 0x5A {
                put(c | 0x20); k += 1
            } else if c < 0x80 {
                put(c); k += 1
            } else if c == 0xC3, k + 1 < e, b[k + 1] >= 0x80, b[k + 1] <= 0x9E, b[k + 1] != 0x97 {
                put(0xC3); put(b[k + 1] + 0x20); k += 2
            } else if c == 0xE2, k + 2 < e, b[k + 1] == 0x80, b[k + 2] == 0x98 || b[k + 2] == 0x99 {
                put(0x27); k += 3
            } else {
                put(c); k += 1
            }
        }
        let folded = UnsafeBufferPointer(rebasing: f[0..<o])
        var token = Token(raw: s..<e, foldedLength: o, id: vocabulary.lookup(folded, hash: h) ?? -1, quoted: quoted && o > 0,
                          nameLike: false, region: false, digits: -1, signed: 0, gluedAmount: -1, gluedUnit: -1)
        facts(&token, UnsafeBufferPointer(rebasing: b[s..<e]), folded, vocabulary)
        // "web-1's logs": the name without its possessive, unless the whole is a word ("what's").
        if token.id < 0, !token.quoted, let cut = possessive(b, s, e), let name = piece(b, s, cut, f, &questionMark, vocabulary),
           name.nameLike, name.id < 0 {
            return name
        }
        return token
    }

    /// Where a trailing "'s" or "’s" starts, if the word has one after at least one character.
    @inline(__always)
    private static func possessive(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int? {
        guard e - s >= 3, b[e - 1] == 0x73 || b[e - 1] == 0x53 else { return nil }
        if b[e - 2] == 0x27 { return e - 2 }
        if e - s >= 5, b[e - 4] == 0xE2, b[e - 3] == 0x80, b[e - 2] == 0x99 { return e - 4 }
        return nil
    }

    /// "H:MM", "HH:MM" or "HH.MM" (24-hour) as minutes after midnight, else -1.
    @inline(__always)
    static func clockMinutes(_ f: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard f.count == 4 || f.count == 5 else { return -1 }
        let sep = f.count - 3
        guard f[sep] == 0x3A || f[sep] == 0x2E else { return -1 }
        var hours: Int32 = 0, minutes: Int32 = 0
        for k in 0..<sep {
            guard f[k] >= 0x30, f[k] <= 0x39 else { return -1 }
            hours = hours * 10 + Int32(f[k] - 0x30)
        }
        for k in (sep + 1)..<f.count {
            guard f[k] >= 0x30, f[k] <= 0x39 else { return -1 }
            minutes = minutes * 10 + Int32(f[k] - 0x30)
        }
        return hours < 24 && minutes < 60 ? hours * 60 + minutes : -1
    }

    /// Works out the numeric and name facts of a token once.
    private static func facts(_ t: inout Token, _ raw: UnsafeBufferPointer<UInt8>, _ f: UnsafeBufferPointer<UInt8>, _ vocabulary: Vocabulary) {
        if let first = raw.first, isAlnum(first), raw.count <= 2048 {
            var ok = true
            for c in raw where !(isAlnum(c) || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x3A || c == 0x2F || c == 0x2B || c == 0x3D || c == 0x40) {
                ok = false
                break
            }
            t.nameLike = ok
        }
        var digitCount = 0
        var value: Int32 = 0
        for c in f {
            guard c >= 0x30 && c <= 0x39 else { break }
            value = Token.accumulate(value, c)
            digitCount += 1
        }
        if digitCount > 0 {
            if digitCount == f.count {
                t.digits = value
            } else if let unit = vocabulary.lookup(UnsafeBufferPointer(rebasing: f[digitCount...])) {
                t.gluedAmount = value
                t.gluedUnit = unit
            }
        }
        if let sign = f.first, sign == 0x2B || sign == 0x2D, f.count >= 2 {
            var v: Int32 = 0
            var ok = true
            for c in f.dropFirst() {
                guard c >= 0x30 && c <= 0x39 else { ok = false; break }
                v = Token.accumulate(v, c)
            }
            if ok { t.signed = sign == 0x2D ? -v : v }
        }
        t.clock = clockMinutes(f)
        t.region = f.count >= 9 && f.count <= 20 && isRegion(f)
        if f.count == 8, f[0] == 0x72 {
            var ok = true
            for c in f where !isAlnum(c) { ok = false; break }
            t.requestLike = ok
        }
    }

    /// `xx-name-N` (and `xx-gov-name-N`): two letters, words of letters, one digit.
    static func isRegion<C: Collection>(_ f: C) -> Bool where C.Element == UInt8 {
        guard f.count >= 9, f.count <= 20 else { return false }
        let parts = f.split(separator: 0x2D, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].count == 2, parts[0].allSatisfy(isLower),
              let last = parts.last, last.count == 1, let d = last.first, d >= 0x30 && d <= 0x39 else { return false }
        return parts.dropFirst().dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy(isLower) }
    }

    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    private static func hasLetterOrDigit(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var k = s
        while k < e {
            if isAlnum(b[k]) { return true }
            if b[k] >= 0x80, let (scalar, len) = scalar(b, k, e) {
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil { return true }
                k += len
            } else {
                k += 1
            }
        }
        return false
    }

    /// The length of the punctuation or symbol at the edge of a word, or nil when the edge is
    /// part of the word.
    private static func edgeLength(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, forward: Bool) -> Int? {
        if forward {
            let c = b[s]
            if c < 0x80 { return isEdgeASCII(c) ? 1 : nil }
            guard let (scalar, len) = scalar(b, s, e) else { return 1 }
            return isEdgeScalar(scalar) ? len : nil
        }
        let c = b[e - 1]
        if c < 0x80 { return isEdgeASCII(c) ? 1 : nil }
        var start = e - 1
        while start > s, b[start] & 0xC0 == 0x80 { start -= 1 }
        guard let (scalar, len) = scalar(b, start, e), start + len == e else { return 1 }
        return isEdgeScalar(scalar) ? len : nil
    }

    @inline(__always)
    private static func isEdgeASCII(_ c: UInt8) -> Bool {
        switch c {
        case 0x3F, 0x21, 0x2E, 0x2C, 0x3B, 0x3A, 0x22, 0x27, 0x60, 0x28, 0x29, 0x3C, 0x3E, 0x2A, 0x5F, 0x5B, 0x5D, 0x7B, 0x7D, 0x7E, 0x23:
            true
        default:
            false
        }
    }

    /// Emoji, curly quotes, „ … ¿ ¡ and other symbols: anything that is not a letter or digit.
    private static func isEdgeScalar(_ s: Unicode.Scalar) -> Bool {
        !(s.properties.isAlphabetic || s.properties.numericType != nil)
    }

    private static func scalar(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ e: Int) -> (Unicode.Scalar, Int)? {
        let c = b[i]
        let len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
        guard len > 1, i + len <= e else { return nil }
        var v = UInt32(c) & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07)
        for k in 1..<len { v = v << 6 | UInt32(b[i + k] & 0x3F) }
        return Unicode.Scalar(v).map { ($0, len) }
    }
}
