import ConvOpsCore

/// The text after tokenizing, classifying and taking out filler and qualifiers.
struct Analysis {
    var content: [Token]
    var qualifiers: [NamedSlot]
    var guards: WordClass
    var polite: Bool
    var questionMark: Bool
    var questionOpening: Bool
    var quotation: Bool = false
    /// A word that carries the conversation on ("und jetzt", "then") was there.
    var continues: Bool = false
    /// "same for web-2", "dasselbe für web-2": the last request again.
    var same: Bool = false
    /// "the one (in prod)": a pick among the last answer's candidates.
    var pick: Bool = false

    /// Why a mutating intent must not come of this text, if it must not.
    var notARequest: NotARequest? {
        if quotation { return .quote }
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
        var same = false, pick = false, continues = false
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.quoted || token.id < 0 { content.append(token); i += 1; continue }
            let c = tables.wordClass(token.id)
            if c.contains(.phraseStart), let phrases = tables.phrases[token.id], let phrase = phrases.first(where: { matchesIDs($0.ids, tokens, at: i) }) {
                // "do not", "at some point", "bloß nicht": a phrase guards like a word of its class.
                guards.formUnion(phrase.wordClass.intersection(.guards))
                if phrase.wordClass.contains(.polite) { polite = true }
                if phrase.wordClass.contains(.same) { same = true }
                if phrase.wordClass.contains(.pick) { pick = true; continues = true }
                if phrase.wordClass.contains(.continuation) { continues = true }
                i += phrase.ids.count
                continue
            }
            if !c.isDisjoint(with: [.same, .pick]) {
                same = same || c.contains(.same)
                pick = pick || c.contains(.pick)
                i += 1
                continue
            }
            if !c.isDisjoint(with: .stripped) {
                if c.contains(.continuation) { continues = true }
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
        content = extractKind(content, tables, &qualifiers)
        return Analysis(content: content, qualifiers: qualifiers, guards: guards, polite: polite,
                        questionMark: text.questionMark, questionOpening: questionOpening, quotation: text.quotation,
                        continues: continues, same: same, pick: pick)
    }

    /// "the api service", "instance i-0abc…", "die Datenbank billing-db": a kind noun next to
    /// a name is taken out and narrows the search to that kind. Alone ("restart the service")
    /// it stays, for the rules to read.
    func extractKind(_ tokens: [Token], _ tables: LocaleTables, _ out: inout [NamedSlot]) -> [Token] {
        guard tokens.count > 1 else { return tokens }
        func isName(_ j: Int) -> Bool {
            // Not a number: "to 1 instance" counts instances, it names none.
            j >= 0 && j < tokens.count && (tokens[j].nameLike || tokens[j].quoted) && !tables.knows(tokens[j]) && tokens[j].digits < 0
        }
        for i in tokens.indices {
            guard let kind = tables.kind(tokens[i]), isName(i + 1) || isName(i - 1) else { continue }
            out.append(NamedSlot(name: "kind", value: .text(kind.rawValue)))
            var kept = tokens
            kept.remove(at: i)
            // "starte eine Instanz web-1 neu": the article before the noun goes with it.
            if i > 0, tokens[i - 1].digits < 0, tables.number(tokens[i - 1]) == 1 { kept.remove(at: i - 1) }
            return kept
        }
        return tokens
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
            if e < tokens.count, e > i, tokens[e].id >= 0, !tokens[e].quoted, tables.environment(tokens[e].id) >= 0, !has("env") {
                out.append(NamedSlot(name: "env", value: .text(vocabulary.text(tables.environment(tokens[e].id)))))
                var end = e + 1
                if cls(end).contains(.environmentWord) { end += 1 }
                drop(i, end)
                continue
            }
            // "status billing-db prod": an environment last, right after a name, without "in".
            if i == tokens.count - 1, i > 0, !has("env"), tokens[i].id >= 0, !tokens[i].quoted, tables.environment(tokens[i].id) >= 0,
               tokens[i - 1].nameLike || tokens[i - 1].quoted, !tables.knows(tokens[i - 1]), tokens[i - 1].digits < 0 {
                out.append(NamedSlot(name: "env", value: .text(vocabulary.text(tables.environment(tokens[i].id)))))
                drop(i, i + 1)
                continue
            }
            kept?.append(tokens[i])
            i += 1
        }
        return kept ?? tokens
    }
}
