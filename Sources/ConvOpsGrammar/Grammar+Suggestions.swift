import ConvOpsCore

/// "Did you mean": suggestions when nothing matched, and patterns rendered as text.
extension Grammar {
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
                    let rendered = rule.elements.render(parsed.slots, earlier: grammar.tables.referenceWord)
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
    func render(_ slots: [String: SlotValue], earlier: String = "it") -> String {
        compactMap { element -> String? in
            switch element {
            case .word(let words): words.first
            case .slot("_", _), .slot("_*", _): "…"
            case .slot(let name, let sign):
                switch slots[name] {
                case .text(let s)?: s
                case .number(let n)?: sign == 0 ? String(n) : String(abs(n))
                case .earlier?: earlier
                case nil: "<\(name)>"
                }
            case .constant: nil
            case .optional(let inner):
                inner.slotNames.contains(where: { slots[$0] != nil }) ? inner.render(slots, earlier: earlier) : nil
            }
        }.joined(separator: " ")
    }
}
