import ConvOpsCore

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

/// Before matching: compounds joined, qualifiers ("in prod", "on account x") taken out.
extension Grammar {
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
}
