/// One element of a compiled pattern.
indirect enum PatternElement: Sendable, Hashable {
    /// Any one of these words (lowercased), the first being the canonical one.
    case word([String])
    /// A slot filled from the text. `sign` is set for `{delta+}` / `{delta-}`: a plain number
    /// in the text ("up by 2") becomes a signed delta.
    case slot(name: String, sign: Int)
    /// A slot set to a fixed value by the rule itself, matching no words: `{scope=mine}`.
    case constant(name: String, value: String)
    /// Elements that may be left out as a group.
    case optional([PatternElement])
}

/// Parses pattern text such as `(restart|reboot) [the] {target}` into elements.
/// Errors carry the column (1-based, relative to the pattern text) where they were found.
struct PatternParser {
    struct Failure: Error { var column: Int; var message: String }

    private let chars: [Character]
    private var index = 0

    init(_ text: String) { chars = Array(text) }

    static func parse(_ text: String) throws(Failure) -> [PatternElement] {
        var parser = PatternParser(text)
        let elements = try parser.sequence(until: nil, openedAt: 0)
        if elements.isEmpty { throw Failure(column: 1, message: "empty pattern") }
        return elements
    }

    private mutating func sequence(until closer: Character?, openedAt open: Int) throws(Failure) -> [PatternElement] {
        var out: [PatternElement] = []
        while index < chars.count {
            let c = chars[index]
            if c == " " || c == "\t" { index += 1; continue }
            if let closer, c == closer { index += 1; return out }
            switch c {
            case "[":
                let start = index
                index += 1
                let inner = try sequence(until: "]", openedAt: start)
                if inner.isEmpty { throw Failure(column: start + 1, message: "empty optional group '[]'") }
                out.append(.optional(inner))
            case "(":
                out.append(try alternatives())
            case "{":
                out.append(try slot())
            case "]", ")", "}", "|":
                throw Failure(column: index + 1, message: "unexpected '\(c)'")
            default:
                let start = index
                let w = word()
                guard !w.isEmpty else {
                    throw Failure(column: start + 1, message: "unexpected '\(c)' (patterns use words, (a|b), [optional] and {slot})")
                }
                out.append(.word([w]))
            }
        }
        if closer != nil { throw Failure(column: open + 1, message: "missing ']' for this '['") }
        return out
    }

    private mutating func alternatives() throws(Failure) -> PatternElement {
        let open = index
        index += 1
        var words: [String] = []
        var current = ""
        while index < chars.count {
            let c = chars[index]
            index += 1
            if c == "|" || c == ")" {
                if current.isEmpty { throw Failure(column: index, message: "empty alternative in '( … )'") }
                if !words.contains(current) { words.append(current) }
                current = ""
                if c == ")" { return .word(words) }
            } else if Self.isWordCharacter(c) {
                current.append(contentsOf: c.lowercased())
            } else if c != " " {
                throw Failure(column: index, message: "alternatives hold single words; found '\(c)'")
            }
        }
        throw Failure(column: open + 1, message: "missing ')' for this '('")
    }

    private mutating func slot() throws(Failure) -> PatternElement {
        let open = index
        index += 1
        var name = ""
        while index < chars.count, chars[index] != "}" {
            name.append(chars[index])
            index += 1
        }
        guard index < chars.count else { throw Failure(column: open + 1, message: "missing '}' for this '{'") }
        index += 1
        var trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed == "_" || trimmed == "_*" { return .slot(name: trimmed, sign: 0) }
        if let eq = trimmed.firstIndex(of: "=") {
            let slot = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !slot.isEmpty, slot.allSatisfy({ $0.isLetter || $0 == "_" }), !value.isEmpty else {
                throw Failure(column: open + 2, message: "a fixed slot reads {name=value}, as in {scope=mine}")
            }
            return .constant(name: slot, value: value)
        }
        var sign = 0
        if trimmed.hasSuffix("+") || trimmed.hasSuffix("-") {
            sign = trimmed.hasSuffix("+") ? 1 : -1
            trimmed.removeLast()
        }
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isLetter || $0 == "_" }) else {
            throw Failure(column: open + 2, message: "a slot name is letters only, as in {target} (or {delta+} / {delta-})")
        }
        return .slot(name: trimmed, sign: sign)
    }

    private mutating func word() -> String {
        var w = ""
        while index < chars.count, Self.isWordCharacter(chars[index]) {
            w.append(contentsOf: chars[index].lowercased())
            index += 1
        }
        return w
    }

    static func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "-" || c == "'"
    }
}

import Foundation
