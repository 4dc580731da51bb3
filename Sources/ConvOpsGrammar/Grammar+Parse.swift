import ConvOpsCore

/// A successful parse: the intent, its normalized slots, and which rule matched.
public struct ParsedCommand: Sendable, Hashable {
    public var intent: IntentKind
    public var slots: [String: SlotValue]
    public var locale: String
    public var rule: RuleLocation
    public var command: Command
}

/// Why text did not parse, in words for the person who typed it, with what to try instead.
public struct ParseFailure: Error, Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        case empty
        case noMatch
        case missingSlot(IntentKind, String)
        case ambiguous([IntentKind])
    }
    public var reason: Reason
    public var message: String
    public var suggestions: [String]
    public var locale: String
}

extension Grammar {
    public func parse(_ text: String, locale: String? = nil) -> Result<ParsedCommand, ParseFailure> {
        let tokens = Tokenizer.tokenize(text)
        let candidates = locale.map { [$0] } ?? ([defaultLocale] + locales.filter { $0 != defaultLocale })
        var firstFailure: ParseFailure?
        for candidate in candidates {
            let result = parse(tokens: tokens, locale: candidate)
            if case .success = result { return result }
            if case .failure(let f) = result, firstFailure == nil { firstFailure = f }
        }
        return .failure(firstFailure!)
    }

    func parse(tokens: [Token], locale: String) -> Result<ParsedCommand, ParseFailure> {
        let catalog = messages(for: locale)
        switch match(tokens: tokens, locale: locale) {
        case .empty:
            return .failure(ParseFailure(reason: .empty, message: catalog.text("grammar.empty"),
                                         suggestions: ["help"], locale: locale))
        case .parsed(let parsed):
            return .success(parsed)
        case .ambiguous(let intents):
            let names = intents.map(\.rawValue).sorted()
            return .failure(ParseFailure(reason: .ambiguous(intents),
                message: catalog.text("grammar.ambiguous", ["intents": names.joined(separator: ", ")]),
                suggestions: names, locale: locale))
        case .missingSlot(let rule, let slot):
            return .failure(missingSlot(rule, slot, catalog))
        case .noMatch:
            return .failure(ParseFailure(reason: .noMatch,
                message: catalog.text("grammar.no_match", ["text": tokens.map { String($0.raw) }.joined(separator: " ")]),
                suggestions: suggestions(for: tokens, locale: locale), locale: locale))
        }
    }

    enum MatchOutcome {
        case empty
        case parsed(ParsedCommand)
        case ambiguous([IntentKind])
        case missingSlot(CompiledRule, String)
        case noMatch
    }

    /// Matches tokens against the locale's rules. Pure and non-recursive: suggestions call it too.
    func match(tokens: [Token], locale: String) -> MatchOutcome {
        guard !tokens.isEmpty else { return .empty }
        let rules = self.rules[locale] ?? []
        var matches: [(CompiledRule, [String: SlotValue])] = []
        for rule in rules {
            var state = MatchState()
            if Matcher(rule: rule, tokens: tokens, allowMissing: false).run(0, 0, rule.elements[...], &state) {
                matches.append((rule, state.slots))
            }
        }
        let intents = Set(matches.map(\.0.intent))
        if intents.count > 1 {
            return .ambiguous(IntentKind.allCases.filter(intents.contains))
        }
        if let (rule, slots) = matches.first {
            do {
                let command = try Command(kind: rule.intent, slots: slots)
                return .parsed(ParsedCommand(intent: rule.intent, slots: slots, locale: locale, rule: rule.location, command: command))
            } catch {
                return .missingSlot(rule, error.missingSlot)
            }
        }
        // The command words were right but a required slot is missing ("restart").
        for rule in rules {
            var state = MatchState()
            if Matcher(rule: rule, tokens: tokens, allowMissing: true).run(0, 0, rule.elements[...], &state),
               let slot = state.missing.first {
                return .missingSlot(rule, slot)
            }
        }
        return .noMatch
    }

    private func missingSlot(_ rule: CompiledRule, _ slot: String, _ catalog: Messages) -> ParseFailure {
        let usage = rule.elements.usage
        return ParseFailure(reason: .missingSlot(rule.intent, slot),
            message: catalog.text("grammar.missing_slot", ["intent": rule.intent.rawValue, "slot": slot, "usage": usage]),
            suggestions: [usage], locale: rule.locale)
    }

    /// "Did you mean": corrections that parse (one word replaced by a close command word),
    /// else the usage of commands whose first word is close to the first word typed, else help.
    func suggestions(for tokens: [Token], locale: String) -> [String] {
        let words = commandWords[locale] ?? []
        var out: [String] = []
        for (i, token) in tokens.enumerated() where token.folded.count >= 3 {
            for word in words where word != token.folded && editDistance(word, token.folded, limit: Self.limit(token.folded)) <= Self.limit(token.folded) {
                var fixed = tokens
                fixed[i] = Token(raw: Substring(word), folded: word)
                if case .parsed = match(tokens: fixed, locale: locale) {
                    let text = fixed.map { String($0.raw) }.joined(separator: " ")
                    if !out.contains(text) { out.append(text) }
                }
            }
        }
        if out.isEmpty, let first = tokens.first?.folded, first.count >= 3 {
            for rule in rules[locale] ?? [] {
                guard case .word(let starts)? = rule.elements.first,
                      starts.contains(where: { editDistance($0, first, limit: Self.limit(first)) <= Self.limit(first) }) else { continue }
                let usage = rule.elements.usage
                if !out.contains(usage) { out.append(usage) }
            }
        }
        return out.isEmpty ? ["help"] : Array(out.prefix(5))
    }

    private static func limit(_ word: String) -> Int { word.count <= 5 ? 1 : 2 }
}

struct MatchState {
    var slots: [String: SlotValue] = [:]
    var missing: [String] = []
}

/// Backtracking match of one rule against the whole token list.
struct Matcher {
    let rule: CompiledRule
    let tokens: [Token]
    /// Let slots match nothing, recording them as missing (for "restart" with no target).
    let allowMissing: Bool

    func run(_ ti: Int, _ depth: Int, _ elements: ArraySlice<PatternElement>, _ state: inout MatchState) -> Bool {
        guard let first = elements.first else { return ti == tokens.count }
        let rest = elements.dropFirst()
        switch first {
        case .word(let words):
            guard ti < tokens.count, words.contains(tokens[ti].folded) else { return false }
            return run(ti + 1, depth, rest, &state)
        case .optional(let inner):
            var attempt = state
            if run(ti, depth, ArraySlice(Array(inner) + Array(rest)), &attempt) {
                state = attempt
                return true
            }
            return run(ti, depth, rest, &state)
        case .slot(let name):
            let type = rule.slotTypes[name] ?? .word
            if type == .text {
                // Free text takes as many tokens as leave the rest matchable, longest first.
                var end = tokens.count
                while end > ti {
                    var attempt = state
                    let text = tokens[ti..<end].map { String($0.raw) }.joined(separator: " ")
                    attempt.slots[name] = .text(text)
                    if run(end, depth, rest, &attempt) { state = attempt; return true }
                    end -= 1
                }
            } else if ti < tokens.count, let value = SlotExtraction.value(type, from: tokens[ti]) {
                var attempt = state
                attempt.slots[name] = value
                if run(ti + 1, depth, rest, &attempt) { state = attempt; return true }
            }
            if allowMissing {
                var attempt = state
                attempt.missing.append(name)
                if run(ti, depth, rest, &attempt) { state = attempt; return true }
            }
            return false
        }
    }
}
