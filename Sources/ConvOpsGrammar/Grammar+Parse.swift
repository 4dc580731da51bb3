import ConvOpsCore

/// A successful parse: the intent, its normalized slots, and which rule matched.
public struct ParsedCommand: Sendable, Hashable {
    public var intent: IntentKind
    public var slots: [String: SlotValue]
    public var locale: String
    public var rule: RuleLocation
    public var command: Command
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
    }
    public var reason: Reason
    public var message: String
    public var suggestions: [String]
    public var locale: String
}

/// The text after tokenizing, classifying and taking out filler and qualifiers.
struct Analysis {
    var content: [Token]
    var qualifiers: [String: SlotValue]
    var guards: WordClass
    var polite: Bool
    var questionMark: Bool
    var questionOpening: Bool

    /// Why a mutating intent must not come of this text, if it must not.
    var notARequest: NotARequest? {
        if guards.contains(.negation) { return .negation }
        if guards.contains(.conditional) { return .conditional }
        if guards.contains(.report) || guards.contains(.outcome) { return .report }
        if questionOpening || (questionMark && !polite) { return .question }
        return nil
    }
}

extension Grammar {
    public func parse(_ text: String, locale: String? = nil) -> Result<ParsedCommand, ParseFailure> {
        let tokenized = Tokenizer.tokenize(text)
        if let locale {
            return parse(tokenized, locale: locale)
        }
        // Detect the locale: the one that knows most of the words, the default on a tie;
        // if that one fails and another parses, take the other.
        let ranked = locales.sorted { a, b in
            let sa = score(tokenized, a), sb = score(tokenized, b)
            if sa != sb { return sa > sb }
            if a == defaultLocale || b == defaultLocale { return a == defaultLocale }
            return a < b
        }
        // The best-scoring locale decides, unless it understood nothing at all: "stop it" that
        // English refuses for a missing target must not become German "stop <it>".
        let best = parse(tokenized, locale: ranked[0])
        guard case .failure(let failure) = best, failure.reason == .noMatch || failure.reason == .empty else { return best }
        let bestScore = score(tokenized, ranked[0])
        for candidate in ranked.dropFirst() where score(tokenized, candidate) >= bestScore {
            let result = parse(tokenized, locale: candidate)
            if case .success = result { return result }
        }
        return best
    }

    func score(_ text: TokenizedText, _ locale: String) -> Int {
        guard let words = localeGrammars[locale]?.words else { return 0 }
        return text.tokens.reduce(0) { $0 + (words.wordClass($1.folded).isEmpty && words.number($1.folded) == nil ? 0 : 1) }
    }

    func parse(_ text: TokenizedText, locale: String) -> Result<ParsedCommand, ParseFailure> {
        let catalog = messages(for: locale)
        guard let grammar = localeGrammars[locale] else {
            return .failure(ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": ""]),
                                         suggestions: locales, locale: locale))
        }
        let analysis = analyze(text, grammar)
        switch match(analysis, grammar) {
        case .empty:
            return .failure(ParseFailure(reason: .empty, message: catalog.text("grammar.empty"), suggestions: ["help"], locale: locale))
        case .parsed(let parsed, let rule):
            if parsed.intent.risk == .mutating, let why = analysis.notARequest {
                return .failure(refusal(parsed, rule: rule, why: why, catalog))
            }
            return .success(parsed)
        case .ambiguous(let intents):
            let names = intents.map(\.rawValue)
            return .failure(ParseFailure(reason: .ambiguous(intents),
                message: catalog.text("grammar.ambiguous", ["intents": names.joined(separator: ", ")]),
                suggestions: names, locale: locale))
        case .missingSlot(let rule, let slot):
            if rule.intent.risk == .mutating, analysis.notARequest != nil {
                return .failure(ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": display(text)]),
                                             suggestions: ["help"], locale: locale))
            }
            let usage = rule.elements.usage
            return .failure(ParseFailure(reason: .missingSlot(rule.intent, slot),
                message: catalog.text("grammar.missing_slot", ["intent": rule.intent.rawValue, "slot": slot, "usage": usage]),
                suggestions: [usage], locale: locale))
        case .noMatch:
            return .failure(ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": display(text)]),
                                         suggestions: analysis.notARequest == nil ? suggestions(for: analysis, grammar) : ["help"],
                                         locale: locale))
        }
    }

    private func display(_ text: TokenizedText) -> String {
        text.tokens.map { String($0.raw) }.joined(separator: " ")
    }

    private func refusal(_ parsed: ParsedCommand, rule: CompiledRule, why: NotARequest, _ catalog: Messages) -> ParseFailure {
        let canonical = rule.elements.render(parsed.slots)
        let target = parsed.slots["target"]?.text ?? ""
        let message = catalog.text("grammar.not_a_request.\(why.rawValue)",
                                   ["intent": parsed.intent.rawValue, "target": target, "canonical": canonical])
        return ParseFailure(reason: .notARequest(parsed.intent, why), message: message,
                            suggestions: why == .negation ? [] : [canonical], locale: parsed.locale)
    }

    // MARK: Analysis

    func analyze(_ text: TokenizedText, _ grammar: LocaleGrammar) -> Analysis {
        let words = grammar.words
        var content: [Token] = []
        var guards: WordClass = []
        var polite = false
        let tokens = joinCompounds(text.tokens, words)
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.quoted { content.append(token); i += 1; continue }
            if let phrases = words.phrases[token.folded],
               let phrase = phrases.first(where: { p in
                   i + p.words.count <= tokens.count && zip(p.words, tokens[i..<(i + p.words.count)]).allSatisfy { $0 == $1.folded && !$1.quoted }
               }) {
                // "do not", "at some point", "bloß nicht": a phrase guards like a word of its class.
                guards.formUnion(phrase.wordClass.intersection(.guards))
                if phrase.wordClass.contains(.polite) { polite = true }
                i += phrase.words.count
                continue
            }
            let c = words.wordClass(token.folded)
            if !c.isDisjoint(with: .stripped) {
                guards.formUnion(c.intersection(.guards))
                if c.contains(.polite) { polite = true }
                i += 1
                continue
            }
            content.append(token)
            i += 1
        }
        let questionOpening = content.first.map { !$0.quoted && words.wordClass($0.folded).contains(.question) } ?? false
        var qualifiers: [String: SlotValue] = [:]
        content = extractQualifiers(content, words, &qualifiers)
        return Analysis(content: content, qualifiers: qualifiers, guards: guards, polite: polite,
                        questionMark: text.questionMark, questionOpening: questionOpening)
    }

    /// Reads fixed phrases as one word ("never mind" → "nevermind").
    func joinCompounds(_ tokens: [Token], _ words: LocaleWords) -> [Token] {
        guard !words.compounds.isEmpty else { return tokens }
        var out: [Token] = []
        out.reserveCapacity(tokens.count)
        var i = 0
        while i < tokens.count {
            if !tokens[i].quoted, let candidates = words.compounds[tokens[i].folded],
               let hit = candidates.first(where: { c in
                   i + c.words.count <= tokens.count && zip(c.words, tokens[i..<(i + c.words.count)]).allSatisfy { $0 == $1.folded && !$1.quoted }
               }) {
                out.append(Token(raw: Substring(hit.joined), folded: hit.joined))
                i += hit.words.count
            } else {
                out.append(tokens[i])
                i += 1
            }
        }
        return out
    }

    /// Takes "in prod", "on staging", "in eu-central-1", "in region us-east-1", "on account
    /// billing" (and the locale's equivalents) out of the content.
    func extractQualifiers(_ tokens: [Token], _ words: LocaleWords, _ out: inout [String: SlotValue]) -> [Token] {
        var kept: [Token] = []
        var i = 0
        func cls(_ j: Int) -> WordClass { j < tokens.count && !tokens[j].quoted ? words.wordClass(tokens[j].folded) : [] }
        while i < tokens.count {
            var j = i
            if cls(j).contains(.qualifierPreposition) { j += 1 }
            // account alias
            if cls(j).contains(.account), j + 1 < tokens.count, out["account"] == nil {
                out["account"] = .text(String(tokens[j + 1].raw))
                i = j + 2
                continue
            }
            // region, with or without the word "region"
            var r = j
            if cls(r).contains(.region) { r += 1 }
            if r < tokens.count, (r > i), SlotExtraction.isRegion(tokens[r].folded), out["region"] == nil {
                out["region"] = .text(tokens[r].folded)
                i = r + 1
                continue
            }
            // environment: "in prod", "in the prod env", "env staging", "prod environment"
            var e = j
            if cls(e).contains(.environmentWord) { e += 1 }
            if e < tokens.count, e > i, let env = words.environments[tokens[e].folded], out["env"] == nil {
                out["env"] = .text(env)
                i = e + 1
                if cls(i).contains(.environmentWord) { i += 1 }
                continue
            }
            kept.append(tokens[i])
            i += 1
        }
        return kept
    }

    // MARK: Matching

    enum MatchOutcome {
        case empty
        case parsed(ParsedCommand, CompiledRule)
        case ambiguous([IntentKind])
        case missingSlot(CompiledRule, String)
        case noMatch
    }

    func match(_ analysis: Analysis, _ grammar: LocaleGrammar) -> MatchOutcome {
        let content = analysis.content
        if content.isEmpty { return analysis.qualifiers.isEmpty && analysis.guards.isEmpty ? .empty : .noMatch }
        let outcome = match(content, qualifiers: analysis.qualifiers, grammar)
        // "should I restart web-1?": try again without the question word, so the refusal can
        // say what was meant.
        if case .noMatch = outcome, analysis.questionOpening, content.count > 1 {
            if case .parsed(let parsed, let rule) = match(Array(content.dropFirst()), qualifiers: analysis.qualifiers, grammar),
               parsed.intent.risk == .mutating {
                return .parsed(parsed, rule)
            }
        }
        return outcome
    }

    func match(_ tokens: [Token], qualifiers: [String: SlotValue], _ grammar: LocaleGrammar) -> MatchOutcome {
        let candidates = candidateRules(tokens, grammar)
        var found: [(CompiledRule, [String: SlotValue])] = []
        for index in candidates {
            let rule = grammar.rules[index]
            var state = MatchState()
            if Matcher(rule: rule, tokens: tokens, words: grammar.words, allowMissing: false).run(0, rule.elements[...], &state) {
                if !found.contains(where: { $0.0.intent == rule.intent }) { found.append((rule, state.slots)) }
            }
        }
        if found.count > 1 {
            return .ambiguous(IntentKind.allCases.filter { k in found.contains { $0.0.intent == k } })
        }
        if let (rule, slots) = found.first {
            let all = slots.merging(qualifiers) { a, _ in a }
            do {
                let command = try Command(kind: rule.intent, slots: all)
                return .parsed(ParsedCommand(intent: rule.intent, slots: all, locale: rule.locale, rule: rule.location, command: command), rule)
            } catch {
                return .missingSlot(rule, error.missingSlot)
            }
        }
        for index in candidates {
            let rule = grammar.rules[index]
            var state = MatchState()
            if Matcher(rule: rule, tokens: tokens, words: grammar.words, allowMissing: true).run(0, rule.elements[...], &state),
               let slot = state.missing.first {
                return .missingSlot(rule, slot)
            }
        }
        return .noMatch
    }

    /// Rules anchored on a word of the text, plus the unanchored ones, in file order.
    func candidateRules(_ tokens: [Token], _ grammar: LocaleGrammar) -> [Int] {
        var picked = grammar.unanchored
        for token in tokens where !token.quoted {
            if let rules = grammar.anchors[token.folded] { picked += rules }
        }
        if picked.count < 2 { return picked }
        picked.sort()
        var unique: [Int] = []
        unique.reserveCapacity(picked.count)
        for i in picked where unique.last != i { unique.append(i) }
        return unique
    }

    // MARK: Suggestions

    /// "Did you mean": corrections that parse (one word replaced by a close command word),
    /// else the usage of commands whose first word is close to the first word typed, else help.
    func suggestions(for analysis: Analysis, _ grammar: LocaleGrammar) -> [String] {
        let tokens = analysis.content
        let commandWords = grammar.words.classes.filter { $0.value.contains(.command) }.keys.sorted()
        var out: [String] = []
        for (i, token) in tokens.enumerated() where token.folded.count >= 3 && !token.quoted {
            let limit = Self.limit(token.folded)
            for word in commandWords where word != token.folded && editDistance(word, token.folded, limit: limit) <= limit {
                var fixed = tokens
                fixed[i] = Token(raw: Substring(word), folded: word)
                if case .parsed(let parsed, let rule) = match(fixed, qualifiers: analysis.qualifiers, grammar) {
                    let text = rule.elements.render(parsed.slots)
                    if !out.contains(text) { out.append(text) }
                }
            }
        }
        if out.isEmpty, let first = tokens.first?.folded, first.count >= 3 {
            // The usage of each intent whose command starts like the text; an exact first word
            // ("restart now how now") narrows it to that command.
            let starting = grammar.rules.filter { $0.elements.firstRequiredWords?.contains(first) == true }
            let close = starting.isEmpty ? grammar.rules.filter { rule in
                rule.elements.firstRequiredWords?.contains { editDistance($0, first, limit: Self.limit(first)) <= Self.limit(first) } == true
            } : starting
            var intents: Set<IntentKind> = []
            for rule in close where intents.insert(rule.intent).inserted {
                out.append(rule.elements.usage)
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
    let words: LocaleWords
    /// Let slots match nothing, recording them as missing (for "restart" with no target).
    let allowMissing: Bool

    func run(_ ti: Int, _ elements: ArraySlice<PatternElement>, _ state: inout MatchState) -> Bool {
        guard let first = elements.first else { return ti == tokens.count }
        let rest = elements.dropFirst()
        switch first {
        case .word(let options):
            guard ti < tokens.count, !tokens[ti].quoted, options.contains(tokens[ti].folded) else { return false }
            return run(ti + 1, rest, &state)
        case .optional(let inner):
            var attempt = state
            if run(ti, ArraySlice(inner + rest), &attempt) {
                state = attempt
                return true
            }
            return run(ti, rest, &state)
        case .constant(let name, let value):
            var attempt = state
            attempt.slots[name] = Int(value).map(SlotValue.number) ?? .text(value)
            if run(ti, rest, &attempt) { state = attempt; return true }
            return false
        case .slot("_*", _):
            // `{_*}`: the rest of the text, kept by nobody ("reject r9x2m1pq, wrong target").
            return ti < tokens.count && rest.isEmpty
        case .slot("_", _):
            // `{_}`: one name that the rule mentions but the intent does not keep ("who restarted web-1").
            guard ti < tokens.count, SlotExtraction.value(.resource, from: tokens[ti..<(ti + 1)], words: words) != nil else { return false }
            return run(ti + 1, rest, &state)
        case .slot(let name, let sign):
            let type = rule.slotTypes[name] ?? .word
            // A duration takes the most words it can; free text the fewest that leave the rest
            // matchable ("matching timeout since 1h": the filter is "timeout").
            let longest = min(tokens.count - ti, SlotExtraction.maxTokens(type))
            let lengths: [Int] = longest < 1 ? [] : (type == .text ? Array(1...longest) : Array((1...longest).reversed()))
            for length in lengths {
                if let value = SlotExtraction.value(type, sign: sign, from: tokens[ti..<(ti + length)], words: words) {
                    var attempt = state
                    attempt.slots[name] = value
                    if run(ti + length, rest, &attempt) { state = attempt; return true }
                }
            }
            if allowMissing {
                var attempt = state
                attempt.missing.append(name)
                if run(ti, rest, &attempt) { state = attempt; return true }
            }
            return false
        }
    }
}

extension Array where Element == PatternElement {
    /// The rule written out with the slot values it matched: what the person should type.
    func render(_ slots: [String: SlotValue]) -> String {
        compactMap { element -> String? in
            switch element {
            case .word(let words): words.first
            case .slot("_", _), .slot("_*", _): "…"
            case .slot(let name, let sign):
                switch slots[name] {
                case .text(let s)?: s
                case .number(let n)?: sign == 0 ? String(n) : String(abs(n))
                case nil: "<\(name)>"
                }
            case .constant: nil
            case .optional(let inner):
                inner.slotNames.contains(where: { slots[$0] != nil }) ? inner.render(slots) : nil
            }
        }.joined(separator: " ")
    }
}
