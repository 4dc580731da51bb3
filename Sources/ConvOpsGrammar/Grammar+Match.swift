import ConvOpsCore

/// Matching the analyzed tokens against the compiled rules, and reading slot values.
extension Grammar {
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
        let outcome = match(content, analysis.qualifiers, grammar, text, continues: analysis.continues)
        // "should I restart web-1?", "what happens if I scale api to 0?": try again without the
        // question word and the subject, so the refusal can say what was meant. Only a
        // mutating match is taken, and it is refused: the text questions or supposes it.
        if case .noMatch = outcome, analysis.questionOpening || analysis.guards.contains(.conditional), content.count > 1 {
            // "should I restart…", "sollen wir … stoppen", "if we restart…": drop the question word and the subject.
            let rest = Array(content.drop { !grammar.tables.wordClass($0).isDisjoint(with: [.question, .subject]) })
            if !rest.isEmpty, case .parsed(let parsed, let rule) = match(rest, analysis.qualifiers, grammar, text),
               parsed.intent.changesSomething {
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

        mutating func consider(_ index: Int32, _ entry: LocaleGrammar.Entry, _ matcher: inout Matcher) {
            let ruleIntent = entry.intent
            if intent == ruleIntent, self.index <= index { return }
            guard matcher.matches(entry.code) else { return }
            if intent == nil || intent == ruleIntent {
                self.index = index
                intent = ruleIntent
                captures = matcher.captures
            } else if !otherIntents.contains(ruleIntent) {
                otherIntents.append(ruleIntent)
            }
        }
    }

    func match(_ tokens: [Token], _ qualifiers: [NamedSlot], _ grammar: LocaleGrammar, _ text: TokenizedText,
               findMissing: Bool = true, continues: Bool = false) -> MatchOutcome {
        // Try the rules anchored on a word of the text (and the unanchored ones).
        let best = Matcher.with(tokens, grammar.tables, slotWords) { matcher in
            var best = BestMatch()
            let entries = grammar.entries
            for index in grammar.unanchoredRules {
                best.consider(index, entries[Int(index)], &matcher)
            }
            for token in matcher.tokens where !token.quoted {
                for index in grammar.anchored(token.id) {
                    best.consider(index, entries[Int(index)], &matcher)
                }
            }
            return best
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
        // The first rule that matches if one slot is left out: "restart" says what it needs.
        let lenient = Matcher.with(tokens, grammar.tables, slotWords, allowMissing: true) { matcher -> (CompiledRule, Captures, Int32)? in
            for index in candidateRules(tokens, grammar) where matcher.matches(grammar.entries[Int(index)].code) && matcher.missing >= 0 {
                return (grammar.rules[Int(index)], matcher.captures, matcher.missing)
            }
            return nil
        }
        if let (rule, captures, missingIndex) = lenient {
            let missing = rule.program.slots[Int(missingIndex)]
            // "und jetzt neu starten": no resource named is the one of the last message,
            // which the engine fills in (or asks for).
            // Only where the conversation goes on: "stop" alone is not "stop it".
            if missing.type == .resource, continues {
                if let (slot, type, typed) = outOfRange(rule.program, captures, tokens, grammar, text) {
                    return .outOfRange(rule, slot, type, typed)
                }
                var slots = values(rule.program, captures, tokens, grammar, text)
                slots.append(NamedSlot(name: missing.name, value: .earlier))
                // "restart the service": the earlier one, if it is a service.
                if let kind = tokens.lazy.compactMap({ grammar.tables.kind($0) }).first, !qualifiers.contains(where: { $0.name == "kind" }) {
                    slots.append(NamedSlot(name: "kind", value: .text(kind.rawValue)))
                }
                for q in qualifiers where !slots.contains(where: { $0.name == q.name }) { slots.append(q) }
                if let command = try? Command(kind: rule.intent, slot: { name in slots.first { $0.name == name }?.value }) {
                    return .parsed(ParsedCommand(intent: rule.intent, slotList: slots, locale: rule.locale, rule: rule.location,
                                                 command: command), rule)
                }
            }
            return .missingSlot(rule, missing.name)
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
                let seconds = Matcher.with(tokens, grammar.tables, slotWords) { $0.durationSeconds(Int(capture.start), Int(capture.end)) } ?? 0
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
            case .resource where tables.wordClass(t).contains(.reference): value = .earlier
            case .resource, .requestID: value = .text(text.raw(t))
            case .word: value = .text(text.foldedText(t))
            case .region: value = .text(text.foldedText(t))
            case .count: value = .number(Int(tables.number(t) ?? 0) * (slot.sign == 0 ? 1 : Int(slot.sign)))
            case .delta: value = .number(slot.sign != 0 ? Int(slot.sign) * Int(tables.number(t) ?? 0) : Int(t.signed))
            case .duration:
                value = .number(Int(Matcher.with(tokens, tables, slotWords) { $0.durationSeconds(Int(capture.start), Int(capture.end)) } ?? 0))
            case .time:
                value = .number(Int(Matcher.with(tokens, tables, slotWords) { $0.clockMinutes(Int(capture.start), Int(capture.end)) } ?? 0))
            case .environment: value = .text(vocabulary.text(tables.environment(t.id)))
            case .alarmState: value = .text(slotWords.alarmStates[t.id] ?? AlarmStateFilter.alarm.rawValue)
            case .scope: value = .text(slotWords.scopes[t.id] ?? HistoryScope.mine.rawValue)
            }
            out.append(NamedSlot(name: slot.name, value: value))
        }
        return out
    }
}
