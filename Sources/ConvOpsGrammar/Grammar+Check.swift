import ConvOpsCore

extension Grammar {
    /// Load-time checks across rules: two intents that can match the same text (ambiguous),
    /// and a rule every text of which an earlier rule of its intent already matches (unreachable).
    /// Each pattern is expanded into its finite set of word/slot sequences, and the other rule
    /// is run over each one, with a sample value standing in for every slot.
    func overlapDiagnostics() -> [GrammarDiagnostic] {
        var out: [GrammarDiagnostic] = []
        for (_, grammar) in localeGrammars.sorted(by: { $0.key < $1.key }) {
            let samples = grammar.rules.map { Self.samples($0, grammar.words) }
            for (b, rule) in grammar.rules.enumerated() {
                guard !samples[b].isEmpty else { continue }
                for a in 0..<b {
                    let other = grammar.rules[a]
                    let covered = samples[b].filter { sample in
                        var state = MatchState()
                        return Matcher(rule: other, tokens: sample, words: grammar.words, allowMissing: false).run(0, other.elements[...], &state)
                    }
                    guard !covered.isEmpty else { continue }
                    let example = covered[0].map { String($0.raw) }.joined(separator: " ")
                    if other.intent != rule.intent {
                        out.append(GrammarDiagnostic(file: rule.location.file, line: rule.location.line, column: 1,
                            message: "rules overlap ambiguously: “\(example)” matches this rule (\(rule.intent.rawValue)) and \(other.location) (\(other.intent.rawValue))"))
                    } else if covered.count == samples[b].count {
                        out.append(GrammarDiagnostic(file: rule.location.file, line: rule.location.line, column: 1,
                            message: "unreachable rule: everything it matches (such as “\(example)”) is matched by \(other.location) first"))
                    }
                }
            }
        }
        return out
    }

    /// Every word/slot sequence of a rule (capped), with slots filled by sample values.
    static func samples(_ rule: CompiledRule, _ words: LocaleWords) -> [[Token]] {
        var sequences: [[Token]] = [[]]
        func expand(_ elements: [PatternElement], _ prefixes: [[Token]]) -> [[Token]] {
            var current = prefixes
            for element in elements {
                switch element {
                case .word(let options):
                    current = current.flatMap { p in options.map { p + [Token(raw: Substring($0), folded: $0)] } }
                case .slot(let name, let sign):
                    let value = name == "_*" ? ["sample", "reason"] : sampleValue(name == "_" ? .resource : rule.slotTypes[name] ?? .word, sign: sign)
                    current = current.map { p in p + value.map { Token(raw: Substring($0), folded: $0.lowercased()) } }
                case .constant:
                    break
                case .optional(let inner):
                    current = current + expand(inner, current)
                }
                if current.count > 256 { current = Array(current.prefix(256)) }
            }
            return current
        }
        sequences = expand(rule.elements, sequences)
        return sequences
    }

    static func sampleValue(_ type: SlotType, sign: Int) -> [String] {
        if sign != 0 { return ["3"] }
        switch type {
        case .resource: return ["sample-7"]
        case .count: return ["3"]
        case .delta: return ["+2"]
        case .duration: return ["15m"]
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
