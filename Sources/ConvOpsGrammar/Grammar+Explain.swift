import ConvOpsCore

/// What the grammar did with a text, for people writing `commands/` files: every word and
/// what became of it, the words the rules saw, and the rule that matched (or the closest ones
/// and where each stopped). `convops parse --explain` prints it.
public struct Explanation: Sendable {
    public struct Word: Sendable, Hashable {
        /// As typed (a compound's words together).
        public var text: String
        /// What the grammar took it for: "kept", "filler, removed", "qualifier env=prod"…
        public var role: String
    }

    public struct Attempt: Sendable, Hashable {
        public var rule: RuleLocation
        public var intent: IntentKind
        /// The pattern as written in the file.
        public var pattern: String
        /// How many of the words the rules saw it got through.
        public var matchedWords: Int
        /// The first word it could not take, nil when it ran out of pattern or of words.
        public var stoppedAt: String?
    }

    public var locale: String
    public var localeGiven: Bool
    public var words: [Word]
    /// The words left for the rules after filler, guards and qualifiers were taken out.
    public var content: [String]
    public var qualifiers: [(name: String, value: String)]
    public var result: Result<ParsedCommand, ParseFailure>
    /// The rule that matched, when one did.
    public var matched: Attempt?
    /// The rules that got furthest, best first, when none matched (at most three).
    public var closest: [Attempt]
}

extension Grammar {
    public func explain(_ text: String, locale: String? = nil) -> Explanation {
        let result = parse(text, locale: locale)
        let chosen = switch result {
        case .success(let parsed): parsed.locale
        case .failure(let failure): failure.locale
        }
        let grammar = localeGrammars[chosen] ?? localeGrammars[defaultLocale]!
        let tokenized = Tokenizer.tokenize(text, vocabulary)
        let analysis = analyze(tokenized, grammar)
        let content = analysis.content
        let kept = Set(content.map(\.raw.lowerBound))
        let qualifiers = analysis.qualifiers.map { (name: $0.name, value: $0.value.display) }
        var words: [Explanation.Word] = []
        let joined = joinCompounds(tokenized.tokens, grammar.tables)
        var i = 0
        while i < joined.count {
            let token = joined[i]
            // A lexicon phrase ("do the same for", "do not") is removed whole, as analysis does.
            if !kept.contains(token.raw.lowerBound), token.id >= 0, !token.quoted, let phrases = grammar.tables.phrases[token.id],
               let phrase = phrases.first(where: { p in
                   i + p.ids.count <= joined.count && p.ids.indices.allSatisfy { joined[i + $0].id == p.ids[$0] && !joined[i + $0].quoted }
               }) {
                let text = joined[i..<(i + phrase.ids.count)].map { tokenized.raw($0) }.joined(separator: " ")
                words.append(Explanation.Word(text: text, role: "\(Self.className(phrase.wordClass)) (phrase), removed"))
                i += phrase.ids.count
                continue
            }
            words.append(Explanation.Word(text: tokenized.raw(token), role: role(token, kept: kept.contains(token.raw.lowerBound), grammar)))
            i += 1
        }

        var matched: Explanation.Attempt?
        if case .success(let parsed) = result, let rule = grammar.rules.first(where: { $0.location == parsed.rule }) {
            matched = Explanation.Attempt(rule: rule.location, intent: rule.intent, pattern: rule.pattern,
                                          matchedWords: content.count, stoppedAt: nil)
        }
        var closest: [Explanation.Attempt] = []
        if matched == nil {
            var attempts: [Explanation.Attempt] = []
            Matcher.with(content, grammar.tables, slotWords) { matcher in
                for index in candidateRules(content, grammar) {
                    let rule = grammar.rules[Int(index)]
                    _ = matcher.matches(rule.program)
                    let stopped = matcher.furthest < content.count ? tokenized.raw(content[matcher.furthest]) : nil
                    attempts.append(Explanation.Attempt(rule: rule.location, intent: rule.intent, pattern: rule.pattern,
                                                        matchedWords: matcher.furthest, stoppedAt: stopped))
                }
            }
            // Stable: among equals, the rule that comes first in the files.
            closest = Array(attempts.enumerated().sorted { a, b in
                a.element.matchedWords != b.element.matchedWords ? a.element.matchedWords > b.element.matchedWords : a.offset < b.offset
            }.prefix(3).map(\.element))
        }
        return Explanation(locale: chosen, localeGiven: locale != nil, words: words, content: content.map { tokenized.raw($0) },
                           qualifiers: qualifiers, result: result, matched: matched, closest: closest)
    }

    private static let removed: [(WordClass, String)] = [
        (.filler, "filler"), (.polite, "polite"), (.negation, "negation"), (.conditional, "conditional"),
        (.report, "report"), (.outcome, "outcome"), (.same, "same as before"), (.pick, "pick"),
    ]

    private static func className(_ c: WordClass) -> String {
        removed.first { c.contains($0.0) }?.1 ?? "phrase"
    }

    private func role(_ token: Token, kept: Bool, _ grammar: LocaleGrammar) -> String {
        let tables = grammar.tables
        if kept {
            if token.quoted { return "kept (quoted: a name)" }
            if tables.number(token) != nil { return "kept (a number)" }
            if tables.wordClass(token).contains(.reference) { return "kept (stands for the last message's resource)" }
            return tables.knows(token) ? "kept" : "kept (a name)"
        }
        let c = tables.wordClass(token)
        if !c.isDisjoint(with: Self.removed.reduce(into: WordClass()) { $0.formUnion($1.0) }) { return "\(Self.className(c)), removed" }
        if let kind = tables.kind(token) { return "kind \(kind.rawValue), taken out" }
        let qualifier = token.region || (token.id >= 0 && !token.quoted && tables.environment(token.id) >= 0)
            || !c.isDisjoint(with: [.qualifierPreposition, .account, .region, .environmentWord])
        if qualifier { return "qualifier, taken out" }
        if c.contains(.phraseStart) { return "part of a phrase, removed" }
        return "taken out"
    }
}
