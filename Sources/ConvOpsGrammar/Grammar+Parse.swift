import ConvOpsCore

/// A slot the grammar extracted, by name.
public struct NamedSlot: Sendable, Hashable {
    public var name: String
    public var value: SlotValue
}

/// A successful parse: the intent, its normalized slots, and which rule matched.
public struct ParsedCommand: Sendable, Hashable {
    public var intent: IntentKind
    /// The slots in the order the rule captured them, qualifiers last.
    public var slotList: [NamedSlot]
    public var locale: String
    public var rule: RuleLocation
    public var command: Command

    /// The slots by name.
    public var slots: [String: SlotValue] {
        Dictionary(slotList.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public func slot(_ name: String) -> SlotValue? { slotList.first { $0.name == name }?.value }
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
        /// A number or duration past what the grammar takes (`GrammarLimits`).
        case outOfRange(IntentKind, slot: String)
    }
    public var reason: Reason
    public var message: String
    public var suggestions: [String]
    public var locale: String
}

/// The text after tokenizing, classifying and taking out filler and qualifiers.
struct Analysis {
    var content: [Token]
    var qualifiers: [NamedSlot]
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
        let tokenized = Tokenizer.tokenize(text, vocabulary)
        if let locale {
            guard let grammar = localeGrammars[locale] else {
                let catalog = messages(for: nil)
                return .failure(ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": text]),
                                             suggestions: locales, locale: locale))
            }
            return parse(tokenized, grammar)
        }
        // Detect the locale: the one that knows most of the words (the default on a tie). It
        // decides, unless it understood nothing at all and another that knows as many words does.
        var ranked: [(LocaleGrammar, Int)] = orderedLocales.map { ($0, score(tokenized, $0)) }
        ranked.sort { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            if a.0.locale == defaultLocale || b.0.locale == defaultLocale { return a.0.locale == defaultLocale }
            return a.0.locale < b.0.locale
        }
        let best = parse(tokenized, ranked[0].0)
        guard case .failure(let failure) = best, failure.reason == .noMatch || failure.reason == .empty else { return best }
        // A locale that knows none of the words has no rule that can match them.
        for (candidate, score) in ranked.dropFirst() where score >= ranked[0].1 && score > 0 {
            // Only a success can replace the best locale's answer, so skip the suggestions.
            let result = parse(tokenized, candidate, suggest: false)
            if case .success = result { return result }
        }
        return best
    }

    func score(_ text: TokenizedText, _ grammar: LocaleGrammar) -> Int {
        var n = 0
        for t in text.tokens where grammar.tables.knows(t) { n += 1 }
        return n
    }

    func parse(_ text: TokenizedText, _ grammar: LocaleGrammar, suggest: Bool = true) -> Result<ParsedCommand, ParseFailure> {
        let analysis = analyze(text, grammar)
        let outcome = match(analysis, grammar, text)
        if case .parsed(let parsed, _) = outcome, parsed.intent.risk == .readOnly || analysis.notARequest == nil {
            return .success(parsed)
        }
        let catalog = messages(for: grammar.locale)
        switch outcome {
        case .empty:
            return .failure(ParseFailure(reason: .empty, message: catalog.text("grammar.empty"), suggestions: ["help"], locale: grammar.locale))
        case .parsed(let parsed, let rule):
            if parsed.intent.risk == .mutating, let why = analysis.notARequest {
                return .failure(refusal(parsed, rule: rule, why: why, catalog))
            }
            return .success(parsed)
        case .ambiguous(let intents):
            let names = intents.map(\.rawValue)
            return .failure(ParseFailure(reason: .ambiguous(intents),
                message: catalog.text("grammar.ambiguous", ["intents": names.joined(separator: ", ")]),
                suggestions: names, locale: grammar.locale))
        case .outOfRange(let rule, let slot, let type, let typed):
            // "don't scale api to 99999": what decides is that it is not a request. A question
            // ("scale api to 99999?") is told the limit.
            if rule.intent.risk == .mutating, let why = analysis.notARequest, why != .question {
                let message = catalog.text("grammar.not_a_request.\(why.rawValue)", ["intent": rule.intent.rawValue, "target": "",
                                                                                    "canonical": rule.usage])
                return .failure(ParseFailure(reason: .notARequest(rule.intent, why), message: message,
                                             suggestions: why == .negation ? [] : [rule.usage], locale: grammar.locale))
            }
            // Echo at most 40 characters of what was typed: 60,000 nines must not make an
            // answer longer than a chat message may be.
            let shown = typed.count > 40 ? String(typed.prefix(40)) + "…" : typed
            return .failure(ParseFailure(reason: .outOfRange(rule.intent, slot: slot),
                message: catalog.text("grammar.out_of_range.\(type.rawValue)", [
                    "value": shown, "intent": rule.intent.rawValue, "max_count": catalog.number(GrammarLimits.count),
                    "max_days": String(GrammarLimits.lookBackSeconds / 86_400)]),
                suggestions: [rule.usage], locale: grammar.locale))
        case .missingSlot(let rule, let slot):
            if rule.intent.risk == .mutating, analysis.notARequest != nil {
                return .failure(noMatch(text, ["help"], grammar, catalog))
            }
            let usage = rule.elements.usage
            return .failure(ParseFailure(reason: .missingSlot(rule.intent, slot),
                message: catalog.text("grammar.missing_slot", ["intent": rule.intent.rawValue, "slot": slot, "usage": usage]),
                suggestions: [usage], locale: grammar.locale))
        case .noMatch:
            let suggestions = analysis.notARequest == nil && suggest ? self.suggestions(for: analysis, grammar, text) : ["help"]
            return .failure(noMatch(text, suggestions, grammar, catalog))
        }
    }

    private func noMatch(_ text: TokenizedText, _ suggestions: [String], _ grammar: LocaleGrammar, _ catalog: Messages) -> ParseFailure {
        let shown = text.display(text.tokens)
        return ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": shown]),
                            suggestions: suggestions, locale: grammar.locale)
    }

    private func refusal(_ parsed: ParsedCommand, rule: CompiledRule, why: NotARequest, _ catalog: Messages) -> ParseFailure {
        let canonical = rule.elements.render(parsed.slots)
        let target = parsed.slot("target")?.text ?? ""
        let message = catalog.text("grammar.not_a_request.\(why.rawValue)",
                                   ["intent": parsed.intent.rawValue, "target": target, "canonical": canonical])
        return ParseFailure(reason: .notARequest(parsed.intent, why), message: message,
                            suggestions: why == .negation ? [] : [canonical], locale: parsed.locale)
    }

    // MARK: Analysis

    func analyze(_ text: TokenizedText, _ grammar: LocaleGrammar) -> Analysis {
        let tables = grammar.tables
        let tokens = joinCompounds(text.tokens, tables)
        var content: [Token] = []
        content.reserveCapacity(tokens.count)
        var guards: WordClass = []
        var polite = false
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.quoted || token.id < 0 { content.append(token); i += 1; continue }
            let c = tables.wordClass(token.id)
            if c.contains(.phraseStart), let phrases = tables.phrases[token.id], let phrase = phrases.first(where: { matchesIDs($0.ids, tokens, at: i) }) {
                // "do not", "at some point", "bloß nicht": a phrase guards like a word of its class.
                guards.formUnion(phrase.wordClass.intersection(.guards))
                if phrase.wordClass.contains(.polite) { polite = true }
                i += phrase.ids.count
                continue
            }
            if !c.isDisjoint(with: .stripped) {
                guards.formUnion(c.intersection(.guards))
                if c.contains(.polite) { polite = true }
                i += 1
                continue
            }
            content.append(token)
            i += 1
        }
        let questionOpening = content.first.map { tables.wordClass($0).contains(.question) } ?? false
        var qualifiers: [NamedSlot] = []
        content = extractQualifiers(content, text, tables, &qualifiers)
        return Analysis(content: content, qualifiers: qualifiers, guards: guards, polite: polite,
                        questionMark: text.questionMark, questionOpening: questionOpening)
    }

    @inline(__always)
    private func matchesIDs(_ ids: [Int32], _ tokens: [Token], at i: Int) -> Bool {
        guard i + ids.count <= tokens.count else { return false }
        for (k, id) in ids.enumerated() where tokens[i + k].id != id || tokens[i + k].quoted { return false }
        return true
    }

    /// Reads fixed phrases as one word ("never mind" → "nevermind").
    func joinCompounds(_ tokens: [Token], _ tables: LocaleTables) -> [Token] {
        guard !tables.compounds.isEmpty else { return tokens }
        var out: [Token]?
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if t.id >= 0, !t.quoted, tables.wordClass(t.id).contains(.phraseStart), let candidates = tables.compounds[t.id],
               let hit = candidates.first(where: { matchesIDs($0.ids, tokens, at: i) }) {
                if out == nil { out = Array(tokens[..<i]) }
                var joined = t
                joined.id = hit.joined
                joined.raw = t.raw.lowerBound..<tokens[i + hit.ids.count - 1].raw.upperBound
                joined.nameLike = false
                out!.append(joined)
                i += hit.ids.count
            } else {
                out?.append(t)
                i += 1
            }
        }
        return out ?? tokens
    }

    /// Takes "in prod", "on staging", "in eu-central-1", "in region us-east-1", "on account
    /// billing" (and the locale's equivalents) out of the content.
    func extractQualifiers(_ tokens: [Token], _ text: TokenizedText, _ tables: LocaleTables, _ out: inout [NamedSlot]) -> [Token] {
        func has(_ name: String) -> Bool { out.contains { $0.name == name } }
        var kept: [Token]?
        var i = 0
        func cls(_ j: Int) -> WordClass { j < tokens.count ? tables.wordClass(tokens[j]) : [] }
        func drop(_ from: Int, _ to: Int) {
            if kept == nil { kept = Array(tokens[..<from]) }
            i = to
        }
        while i < tokens.count {
            var j = i
            if cls(j).contains(.qualifierPreposition) { j += 1 }
            if cls(j).contains(.account), j + 1 < tokens.count, !has("account") {
                out.append(NamedSlot(name: "account", value: .text(text.raw(tokens[j + 1]))))
                drop(i, j + 2)
                continue
            }
            var r = j
            if cls(r).contains(.region) { r += 1 }
            if r < tokens.count, r > i, tokens[r].region, !has("region") {
                out.append(NamedSlot(name: "region", value: .text(text.foldedText(tokens[r]))))
                drop(i, r + 1)
                continue
            }
            var e = j
            if cls(e).contains(.environmentWord) { e += 1 }
            if e < tokens.count, e > i, tokens[e].id >= 0, !tokens[e].quoted, tables.environments[Int(tokens[e].id)] >= 0, !has("env") {
                out.append(NamedSlot(name: "env", value: .text(vocabulary.text(tables.environments[Int(tokens[e].id)]))))
                var end = e + 1
                if cls(end).contains(.environmentWord) { end += 1 }
                drop(i, end)
                continue
            }
            kept?.append(tokens[i])
            i += 1
        }
        return kept ?? tokens
    }

    // MARK: Matching

    enum MatchOutcome {
        case empty
        case parsed(ParsedCommand, CompiledRule)
        case ambiguous([IntentKind])
        case missingSlot(CompiledRule, String)
        /// The rule matched, but a number in it is past `GrammarLimits`: the slot, its type and what was typed.
        case outOfRange(CompiledRule, String, SlotType, String)
        case noMatch
    }

    func match(_ analysis: Analysis, _ grammar: LocaleGrammar, _ text: TokenizedText) -> MatchOutcome {
        let content = analysis.content
        if content.isEmpty { return analysis.qualifiers.isEmpty && analysis.guards.isEmpty ? .empty : .noMatch }
        // No rule can match text none of whose words the locale knows (typos are suggested later).
        if grammar.unanchored.isEmpty, !content.contains(where: { $0.id >= 0 && !$0.quoted }) { return .noMatch }
        let outcome = match(content, analysis.qualifiers, grammar, text)
        // "should I restart web-1?": try again without the question word, so the refusal can
        // say what was meant.
        if case .noMatch = outcome, analysis.questionOpening, content.count > 1 {
            // "should I restart…", "sollen wir … stoppen": drop the question word and the subject.
            let rest = Array(content.drop { !grammar.tables.wordClass($0).isDisjoint(with: [.question, .subject]) })
            if !rest.isEmpty, case .parsed(let parsed, let rule) = match(rest, analysis.qualifiers, grammar, text),
               parsed.intent.risk == .mutating {
                return .parsed(parsed, rule)
            }
        }
        return outcome
    }

    /// Per intent, the matching rule that comes first in the files.
    struct BestMatch {
        var index: Int32 = -1
        var intent: IntentKind?
        var captures = Captures()
        var otherIntents: [IntentKind] = []

        mutating func consider(_ index: Int32, _ rule: CompiledRule, _ tokens: [Token], _ tables: LocaleTables, _ slotWords: SlotWords) {
            if intent == rule.intent, self.index <= index { return }
            var matcher = Matcher(rule.program, tokens, tables, slotWords)
            guard matcher.matches() else { return }
            if intent == nil || intent == rule.intent {
                self.index = index
                intent = rule.intent
                captures = matcher.captures
            } else if !otherIntents.contains(rule.intent) {
                otherIntents.append(rule.intent)
            }
        }
    }

    func match(_ tokens: [Token], _ qualifiers: [NamedSlot], _ grammar: LocaleGrammar, _ text: TokenizedText,
               findMissing: Bool = true) -> MatchOutcome {
        // Try the rules anchored on a word of the text (and the unanchored ones).
        var best = BestMatch()
        for index in grammar.unanchored {
            best.consider(index, grammar.rules[Int(index)], tokens, grammar.tables, slotWords)
        }
        for token in tokens where token.id >= 0 && !token.quoted && Int(token.id) < grammar.anchorsByID.count {
            for index in grammar.anchorsByID[Int(token.id)] {
                best.consider(index, grammar.rules[Int(index)], tokens, grammar.tables, slotWords)
            }
        }
        if let intent = best.intent, !best.otherIntents.isEmpty {
            return .ambiguous(IntentKind.allCases.filter { $0 == intent || best.otherIntents.contains($0) })
        }
        if best.intent != nil {
            let rule = grammar.rules[Int(best.index)]
            if let (slot, type, typed) = outOfRange(rule.program, best.captures, tokens, grammar, text) {
                return .outOfRange(rule, slot, type, typed)
            }
            var slots = values(rule.program, best.captures, tokens, grammar, text)
            for q in qualifiers where !slots.contains(where: { $0.name == q.name }) { slots.append(q) }
            do {
                let command = try Command(kind: rule.intent) { name in slots.first { $0.name == name }?.value }
                return .parsed(ParsedCommand(intent: rule.intent, slotList: slots, locale: rule.locale, rule: rule.location, command: command), rule)
            } catch {
                return .missingSlot(rule, error.missingSlot)
            }
        }
        guard findMissing else { return .noMatch }
        for index in candidateRules(tokens, grammar) {
            let rule = grammar.rules[Int(index)]
            var matcher = Matcher(rule.program, tokens, grammar.tables, slotWords, allowMissing: true)
            if matcher.matches(), matcher.missing >= 0 {
                return .missingSlot(rule, rule.program.slots[Int(matcher.missing)].name)
            }
        }
        return .noMatch
    }

    /// Rules anchored on a word of the text, plus the unanchored ones, in file order.
    func candidateRules(_ tokens: [Token], _ grammar: LocaleGrammar) -> [Int32] {
        var picked = grammar.unanchored
        for token in tokens where token.id >= 0 && !token.quoted && Int(token.id) < grammar.anchorsByID.count {
            picked += grammar.anchorsByID[Int(token.id)]
        }
        if picked.count < 2 { return picked }
        picked.sort()
        var write = 1
        for read in 1..<picked.count where picked[read] != picked[write - 1] {
            picked[write] = picked[read]
            write += 1
        }
        picked.removeLast(picked.count - write)
        return picked
    }

    /// The first captured count, delta or duration past `GrammarLimits`: its slot name and the
    /// words as typed. Matching takes numbers of any size so that these are refused by name.
    func outOfRange(_ program: Program, _ captures: Captures, _ tokens: [Token], _ grammar: LocaleGrammar,
                    _ text: TokenizedText) -> (String, SlotType, String)? {
        for i in 0..<program.slots.count {
            let capture = captures[i]
            guard capture.start >= 0 else { continue }
            let slot = program.slots[i]
            let span = Array(tokens[Int(capture.start)..<Int(capture.end)])
            let within: Bool
            switch slot.type {
            case .count:
                within = Int(grammar.tables.number(span[0]) ?? 0) <= GrammarLimits.count
            case .delta:
                let n = slot.sign != 0 ? Int(grammar.tables.number(span[0]) ?? 0) : abs(Int(span[0].signed))
                within = n <= GrammarLimits.count
            case .duration:
                let seconds = Matcher(program, tokens, grammar.tables, slotWords).durationSeconds(Int(capture.start), Int(capture.end)) ?? 0
                within = seconds >= 1 && seconds <= Int64(GrammarLimits.lookBackSeconds)
            default:
                within = true
            }
            if !within { return (slot.name, slot.type, text.display(span)) }
        }
        return nil
    }

    /// The normalized values of the slots a match captured.
    func values(_ program: Program, _ captures: Captures, _ tokens: [Token], _ grammar: LocaleGrammar,
                _ text: TokenizedText) -> [NamedSlot] {
        var out: [NamedSlot] = []
        out.reserveCapacity(program.slots.count + 2)
        for i in 0..<program.slots.count {
            let capture = captures[i]
            let slot = program.slots[i]
            if capture.start == -2, let constant = slot.constant { out.append(NamedSlot(name: slot.name, value: constant)); continue }
            guard capture.start >= 0 else { continue }
            let span = tokens[Int(capture.start)..<Int(capture.end)]
            let t = span.first!
            let tables = grammar.tables
            let value: SlotValue
            switch slot.type {
            case .text: value = .text(span.map { text.raw($0) }.joined(separator: " "))
            case .resource, .requestID: value = .text(text.raw(t))
            case .word: value = .text(text.foldedText(t))
            case .region: value = .text(text.foldedText(t))
            case .count: value = .number(Int(tables.number(t) ?? 0) * (slot.sign == 0 ? 1 : Int(slot.sign)))
            case .delta: value = .number(slot.sign != 0 ? Int(slot.sign) * Int(tables.number(t) ?? 0) : Int(t.signed))
            case .duration:
                let matcher = Matcher(program, tokens, tables, slotWords)
                value = .number(Int(matcher.durationSeconds(Int(capture.start), Int(capture.end)) ?? 0))
            case .environment: value = .text(vocabulary.text(tables.environments[Int(t.id)]))
            case .alarmState: value = .text(slotWords.alarmStates[t.id] ?? AlarmStateFilter.alarm.rawValue)
            case .scope: value = .text(slotWords.scopes[t.id] ?? HistoryScope.mine.rawValue)
            }
            out.append(NamedSlot(name: slot.name, value: value))
        }
        return out
    }

    // MARK: Suggestions

    /// "Did you mean": corrections that parse (an unknown word replaced by a near command
    /// word), else the usage of each command that starts like the text, else help.
    func suggestions(for analysis: Analysis, _ grammar: LocaleGrammar, _ text: TokenizedText) -> [String] {
        let tokens = analysis.content
        var out: [String] = []
        var firstNear: [Int32]?
        var tried = 0
        // Only a word the grammar does not know can be a misspelled command word.
        for (i, token) in tokens.enumerated() where token.id < 0 && !token.quoted && token.foldedLength >= 3 {
            let near = grammar.suggestions.near(text.folded(token)[...])
            if i == 0 { firstNear = near }
            for id in near {
                var fixed = tokens
                fixed[i].id = id
                fixed[i].nameLike = false
                if case .parsed(let parsed, let rule) = match(fixed, analysis.qualifiers, grammar, text, findMissing: false) {
                    let rendered = rule.elements.render(parsed.slots)
                    if !out.contains(rendered) { out.append(rendered) }
                }
            }
            tried += 1
            if tried == 3 { break }     // a long sentence is chat, not a mistyped command
        }
        if out.isEmpty, let first = tokens.first, !first.quoted {
            // The usage of each intent whose command starts like the text; an exact first word
            // ("restart now how now") narrows it to that command.
            let starts: [Int32] = first.id >= 0 ? (grammar.tables.wordClass(first.id).contains(.command) ? [first.id] : [])
                : (firstNear ?? grammar.suggestions.near(text.folded(first)[...]))
            // The anchor index already lists the rules by their first required words.
            var indexes: [Int32] = []
            for id in starts where Int(id) < grammar.anchorsByID.count { indexes += grammar.anchorsByID[Int(id)] }
            indexes.sort()
            var intents: [IntentKind] = []
            for index in indexes {
                let rule = grammar.rules[Int(index)]
                guard rule.firstWordIDs.contains(where: starts.contains), !intents.contains(rule.intent) else { continue }
                intents.append(rule.intent)
                out.append(rule.usage)
            }
        }
        return out.isEmpty ? ["help"] : Array(out.prefix(5))
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
