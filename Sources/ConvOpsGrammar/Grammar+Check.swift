import ConvOpsCore

extension Grammar {
    /// Load-time checks across rules: two intents that can match the same text (ambiguous),
    /// and a rule every text of which an earlier rule of its intent already matches (unreachable).
    /// Each pattern is written out as its finite set of sample texts (a sample value standing in
    /// for every slot), and the other rule is run over each one.
    /// The locales one after the other: checked side by side, the second thread's malloc arena
    /// kept 3 MB for the life of the process and start-up was no faster.
    func overlapDiagnostics() -> [GrammarDiagnostic] {
        localeGrammars.sorted(by: { $0.key < $1.key }).flatMap { overlapDiagnostics($0.value) }
    }

    private func overlapDiagnostics(_ grammar: LocaleGrammar) -> [GrammarDiagnostic] {
        var out: [GrammarDiagnostic] = []
        // Each sample word is tokenized once: the tokens of a text are those of its words in
        // turn (the tokenizer reads each word alone), and the samples share most words.
        var tokenized: [String: [Token]] = [:]
        func tokens(_ words: [String]) -> [Token] {
            words.flatMap { word in
                if let known = tokenized[word] { return known }
                let made = Tokenizer.tokenize(word, vocabulary).tokens
                tokenized[word] = made
                return made
            }
        }
        let texts = grammar.rules.map(Self.sampleWords)
        let samples = texts.map { $0.map(tokens) }
        // Only rules sharing an anchor word (or unanchored ones) can match the same text.
        for (b, rule) in grammar.rules.enumerated() where !samples[b].isEmpty {
            var others: Set<Int32> = Set(grammar.unanchored)
            for word in rule.elements.literalWords {
                if let id = vocabulary.id(word), let rules = grammar.anchors[id] { others.formUnion(rules) }
            }
            for a in others.sorted() where a < b {
                let other = grammar.rules[Int(a)]
                let covered = samples[b].indices.filter { i in
                    Matcher.with(samples[b][i], grammar.tables, slotWords) { $0.matches(other.program) }
                }
                guard let first = covered.first else { continue }
                let example = texts[b][first].joined(separator: " ")
                if other.intent != rule.intent {
                    out.append(GrammarDiagnostic(file: rule.location.file, line: rule.location.line, column: 1,
                        message: "rules overlap ambiguously: “\(example)” matches this rule (\(rule.intent.rawValue)) and \(other.location) (\(other.intent.rawValue))"))
                } else if covered.count == samples[b].count {
                    out.append(GrammarDiagnostic(file: rule.location.file, line: rule.location.line, column: 1,
                        message: "unreachable rule: everything it matches (such as “\(example)”) is matched by \(other.location) first"))
                }
            }
        }
        return out
    }

    /// Every text a rule's words and slots spell out (capped), with sample slot values, as words.
    static func sampleWords(_ rule: CompiledRule) -> [[String]] {
        func expand(_ elements: [PatternElement], _ prefixes: [[String]]) -> [[String]] {
            var current = prefixes
            for element in elements {
                switch element {
                case .word(let options):
                    current = current.flatMap { p in options.map { p + [$0] } }
                case .slot("_*", _):
                    current = current.map { $0 + ["sample", "reason"] }
                case .slot(let name, let sign):
                    let value = sampleValue(name == "_" ? .resource : rule.slotTypes[name] ?? .word, sign: sign)
                    current = current.map { $0 + value }
                case .constant:
                    break
                case .optional(let inner):
                    current = current + expand(inner, current)
                }
                if current.count > 256 { current = Array(current.prefix(256)) }
            }
            return current
        }
        return expand(rule.elements, [[]])
    }

    static func sampleValue(_ type: SlotType, sign: Int) -> [String] {
        if sign != 0 { return ["3"] }
        switch type {
        case .resource: return ["sample-7"]
        case .count: return ["3"]
        case .delta: return ["+2"]
        case .duration: return ["15m"]
        case .time: return ["18:00"]
        case .text: return ["sample", "text"]
        case .word: return ["sample"]
        case .environment: return ["prod"]
        case .region: return ["eu-central-1"]
        case .alarmState: return ["ok"]
        case .scope: return ["all"]
        case .requestID: return ["rsample7"]
        }
    }
}
