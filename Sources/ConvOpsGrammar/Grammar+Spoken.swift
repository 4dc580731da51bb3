import ConvOpsCore

/// A command written out in a locale's own words, for answers that say what to type.
extension Grammar {
    /// The command as a person could type it in `locale` ("starte web-2 neu in prod"): the
    /// first rule of its intent, in file order, written with its values, that reads back as
    /// the same command. Where none does (a command no rule of that locale can say), the
    /// first such rule written out; with no rule at all, the intent's name and its target.
    public func spoken(_ command: Command, locale: String?) -> String {
        let code = locale.flatMap { localeGrammars[$0] == nil ? nil : $0 } ?? defaultLocale
        guard let grammar = localeGrammars[code] else { return Self.plain(command) }
        // What is compared is what the person would type: not how the target was recalled.
        let wanted = Self.asTyped(command)
        var slots: [String: SlotValue] = [:]
        if let target = wanted.intent.target {
            // "api service": the kind noun after the name keeps the kind ("the api service").
            let noun = target.kind.flatMap { grammar.tables.kindWords[$0] }
            slots["target"] = .text(noun.map { "\(target.text) \($0)" } ?? target.text)
        }
        switch command.intent {
        case .scale(_, .absolute(let n)): slots["count"] = .number(n)
        case .scale(_, .delta(let d)): slots["delta"] = .number(d)
        default: break
        }
        let place = Self.qualifierText(command.qualifiers, grammar.tables)
        var unchecked: String?
        for rule in grammar.rules where rule.intent == command.intent.kind {
            // A rule that can say every value of the command; one that needs more is written
            // with a "<slot>" or "…" and passed over.
            // (Checked on the pattern, not on the text: a name may itself hold a "<".)
            let names = rule.elements.slotNames
            guard slots.keys.allSatisfy(names.contains), rule.elements.allSatisfy({ element in
                switch element {
                case .slot("_", _), .slot("_*", _): false
                case .slot(let name, _): slots[name] != nil
                default: true
                }
            }) else { continue }
            let written = rule.elements.render(slots, earlier: grammar.tables.referenceWord)
            guard !written.contains("…") else { continue }
            let text = place.isEmpty ? written : written + " " + place
            if case .success(let parsed) = parse(text, locale: code), Self.asTyped(parsed.command) == wanted { return text }
            if unchecked == nil { unchecked = text }
        }
        return unchecked ?? Self.plain(command)
    }

    /// "in prod in eu-west-1 in account billing": where, in words every locale reads.
    static func qualifierText(_ q: Qualifiers, _ tables: LocaleTables) -> String {
        var words: [String] = []
        if let environment = q.environment { words.append("in \(environment)") }
        if let region = q.region { words.append("in \(region)") }
        if let account = q.account { words.append("in \(tables.accountWord) \(account)") }
        return words.joined(separator: " ")
    }

    /// The command without what the conversation added to it (how its target was recalled).
    static func asTyped(_ command: Command) -> Command {
        guard var target = command.intent.target else { return command }
        target.recalled = nil
        target.refersBack = false
        return Command(command.intent.with(target: target), qualifiers: command.qualifiers)
    }

    /// The intent's name, its target, its count and its place: what is left when no rule of
    /// the locale can write the command.
    static func plain(_ command: Command) -> String {
        var words = [command.intent.kind.rawValue]
        if let target = command.intent.target { words.append(target.text) }
        switch command.intent {
        case .scale(_, .absolute(let n)): words.append("to \(n)")
        case .scale(_, .delta(let d)): words.append(d >= 0 ? "+\(d)" : "\(d)")
        default: break
        }
        if let environment = command.qualifiers.environment { words.append("in \(environment)") }
        if let region = command.qualifiers.region { words.append("in \(region)") }
        if let account = command.qualifiers.account { words.append("on account \(account)") }
        return words.joined(separator: " ")
    }
}
