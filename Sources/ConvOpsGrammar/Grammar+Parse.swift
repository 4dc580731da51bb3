import ConvOpsCore

/// From text to a typed command: tokenize, analyze, match a rule, or say why not.
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
        // Detect the locale: the one that knows most of the words (the default on a tie:
        // `orderedLocales` is in tie-break order). It decides, unless it understood nothing at
        // all and another that knows as many words does.
        var bestIndex = 0, bestScore = -1
        for (i, candidate) in orderedLocales.enumerated() {
            let n = score(tokenized, candidate)
            if n > bestScore { bestIndex = i; bestScore = n }
        }
        let best = parse(tokenized, orderedLocales[bestIndex])
        guard case .failure(let failure) = best, failure.reason == .noMatch || failure.reason == .empty, bestScore > 0 else { return best }
        // A locale that knows none of the words has no rule that can match them.
        for (i, candidate) in orderedLocales.enumerated() where i != bestIndex && score(tokenized, candidate) == bestScore {
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
        if let followUp = followUp(analysis, grammar, text) {
            return .failure(ParseFailure(reason: .followUp(followUp), message: messages(for: grammar.locale).text("grammar.follow_up"),
                                         suggestions: [], locale: grammar.locale))
        }
        let outcome = match(analysis, grammar, text)
        if case .parsed(let parsed, _) = outcome, !parsed.intent.changesSomething || analysis.notARequest == nil {
            return .success(parsed)
        }
        let catalog = messages(for: grammar.locale)
        switch outcome {
        case .empty:
            return .failure(ParseFailure(reason: .empty, message: catalog.text("grammar.empty"), suggestions: ["help"], locale: grammar.locale))
        case .parsed(let parsed, let rule):
            if parsed.intent.changesSomething, let why = analysis.notARequest {
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
            if rule.intent.changesSomething, let why = analysis.notARequest, why != .question {
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
            if rule.intent.changesSomething, analysis.notARequest != nil {
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

    /// "same for web-2", "dasselbe für web-2", "the one in prod", "in prod": what changes from
    /// the last request. Nil when the text is not of that shape (it is matched against the rules).
    func followUp(_ analysis: Analysis, _ grammar: LocaleGrammar, _ text: TokenizedText) -> FollowUp? {
        guard analysis.same || analysis.pick || (analysis.content.isEmpty && !analysis.qualifiers.isEmpty) else { return nil }
        // "should I do the same for web-2?", "I did the same for web-2": a question or a report.
        let content = analysis.content.filter { grammar.tables.wordClass($0).isDisjoint(with: [.question, .subject]) }
        var notARequest = analysis.notARequest
        if notARequest == nil, content.count < analysis.content.count {
            let subject = analysis.content.contains { grammar.tables.wordClass($0).contains(.subject) }
            notARequest = subject && !analysis.questionOpening ? .report : .question
        }
        let slots = analysis.qualifiers
        func slot(_ name: String) -> String? { slots.first { $0.name == name }?.value.text }
        let kind = slot("kind").flatMap(ResourceKind.init(rawValue:))
        let target: ResourceMention?
        switch content.count {
        case 0:
            // "the one in prod" narrows the last request; "same for" and "the one" must say for what.
            guard slots.contains(where: { $0.name != "kind" }) else { return nil }
            target = nil
        case 1:
            let t = content[0]
            guard (t.nameLike || t.quoted) && !grammar.tables.knows(t) else { return nil }
            target = ResourceMention(text.raw(t), kind: kind)
        default:
            return nil
        }
        return FollowUp(target: target,
                        qualifiers: Qualifiers(environment: slot("env"), region: slot("region"), account: slot("account")),
                        notARequest: notARequest)
    }

    private func noMatch(_ text: TokenizedText, _ suggestions: [String], _ grammar: LocaleGrammar, _ catalog: Messages) -> ParseFailure {
        let shown = text.display(text.tokens)
        return ParseFailure(reason: .noMatch, message: catalog.text("grammar.no_match", ["text": shown]),
                            suggestions: suggestions, locale: grammar.locale)
    }

    private func refusal(_ parsed: ParsedCommand, rule: CompiledRule, why: NotARequest, _ catalog: Messages) -> ParseFailure {
        let canonical = rule.elements.render(parsed.slots, earlier: localeGrammars[parsed.locale]?.tables.referenceWord ?? "it")
        let target = parsed.slot("target")?.text ?? ""
        let message = catalog.text("grammar.not_a_request.\(why.rawValue)",
                                   ["intent": parsed.intent.rawValue, "target": target, "canonical": canonical])
        return ParseFailure(reason: .notARequest(parsed.intent, why), message: message,
                            suggestions: why == .negation ? [] : [canonical], locale: parsed.locale)
    }
}
