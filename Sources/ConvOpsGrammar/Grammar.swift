import ConvOpsCore
import Foundation

/// Where a rule came from: `commands/en/restart.cmd:7`.
public struct RuleLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// A rule ready to match. A class: matching passes rules around by reference.
final class CompiledRule: Sendable {
    let intent: IntentKind
    let slotTypes: [String: SlotType]
    let elements: [PatternElement]
    let locale: String
    let location: RuleLocation
    /// Words the rule cannot match without.
    let requiredWords: Set<String>
    let program: Program
    /// Vocabulary ids of the words of the first required word element (empty if none).
    let firstWordIDs: [Int32]
    /// How the rule reads in help and suggestions: `restart <target>`.
    let usage: String
    /// The pattern as written in its file, for `convops parse --explain`.
    let pattern: String

    init(intent: IntentKind, slotTypes: [String: SlotType], elements: [PatternElement], locale: String, location: RuleLocation,
         requiredWords: Set<String>, program: Program, firstWordIDs: [Int32], pattern: String) {
        self.pattern = pattern
        self.intent = intent
        self.slotTypes = slotTypes
        self.elements = elements
        self.locale = locale
        self.location = location
        self.requiredWords = requiredWords
        self.program = program
        self.firstWordIDs = firstWordIDs
        usage = elements.usage
    }
}

/// One locale's compiled rules and word tables.
///
/// `@unchecked Sendable`: the `Frozen` buffers are written once, in `init`, only read after,
/// and freed with the grammar (which keeps the rules whose programs the codes point into).
final class LocaleGrammar: @unchecked Sendable {
    /// What trying a rule reads: plain values, no reference taken.
    struct Entry {
        var code: Program.Code
        var intent: IntentKind
    }

    let locale: String
    let tables: LocaleTables
    let rules: [CompiledRule]
    /// The rules by index (`Frozen`).
    let entries: UnsafeBufferPointer<Entry>
    /// `anchorsByID` flattened: the rules anchored on id `i` are
    /// `anchorRules[anchorStarts[i]..<anchorStarts[i + 1]]` (`Frozen`).
    private let anchorStarts: UnsafeBufferPointer<Int32>
    private let anchorRules: UnsafeBufferPointer<Int32>
    /// `unanchored` (`Frozen`).
    let unanchoredRules: UnsafeBufferPointer<Int32>
    /// Rule indexes by vocabulary id, under the words of each rule's first required word
    /// element: a parse tries only rules one of whose words occurs in the text.
    let anchors: [Int32: [Int32]]
    /// `anchors` as an array indexed by vocabulary id, for the parse.
    let anchorsByID: [[Int32]]
    /// Rules without a required word: always tried.
    let unanchored: [Int32]
    let suggestions: SuggestionIndex

    init(locale: String, tables: LocaleTables, rules: [CompiledRule], anchors: [Int32: [Int32]], unanchored: [Int32],
         suggestions: SuggestionIndex) {
        self.locale = locale
        self.tables = tables
        self.rules = rules
        entries = Frozen.copy(rules.map { Entry(code: $0.program.code, intent: $0.intent) })
        self.anchors = anchors
        var byID = Array(repeating: [Int32](), count: tables.classes.count)
        for (id, rules) in anchors where Int(id) < byID.count { byID[Int(id)] = rules }
        anchorsByID = byID
        var starts: [Int32] = [0]
        for rules in byID { starts.append(starts.last! + Int32(rules.count)) }
        anchorStarts = Frozen.copy(starts)
        anchorRules = Frozen.copy(byID.flatMap { $0 })
        self.unanchored = unanchored
        unanchoredRules = Frozen.copy(unanchored)
        self.suggestions = suggestions
    }

    deinit {
        Frozen.free(entries)
        Frozen.free(anchorStarts)
        Frozen.free(anchorRules)
        Frozen.free(unanchoredRules)
    }

    /// The rules anchored on a word (none for ids past the tables).
    @inline(__always) func anchored(_ id: Int32) -> UnsafeBufferPointer<Int32> {
        guard id >= 0, Int(id) + 1 < anchorStarts.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(rebasing: anchorRules[Int(anchorStarts[Int(id)])..<Int(anchorStarts[Int(id) + 1])])
    }
}

/// The rule grammar, compiled once from `commands/` and `locales/` into an immutable matcher.
public final class Grammar: Sendable {
    let localeGrammars: [String: LocaleGrammar]
    /// The locales, default first: the order ties are broken in.
    let orderedLocales: [LocaleGrammar]
    let vocabulary: Vocabulary
    let slotWords: SlotWords
    let helpKeys: [IntentKind: String]
    public let messages: [String: Messages]
    public let defaultLocale: String
    /// Every locale's words for an environment, lowercased, to its canonical name
    /// ("production" → "prod"): tags are read with the same words people type.
    public let environmentNames: [String: String]

    public var locales: [String] { messages.keys.sorted() }

    /// How many rules the grammar has, over all locales.
    public var ruleCount: Int { localeGrammars.values.reduce(0) { $0 + $1.rules.count } }

    init(localeGrammars: [String: LocaleGrammar], vocabulary: Vocabulary, slotWords: SlotWords, helpKeys: [IntentKind: String],
         messages: [String: Messages], defaultLocale: String, environmentNames: [String: String] = [:]) {
        self.environmentNames = environmentNames
        self.localeGrammars = localeGrammars
        orderedLocales = localeGrammars.values.sorted { a, b in
            a.locale == defaultLocale || (b.locale != defaultLocale && a.locale < b.locale)
        }
        self.vocabulary = vocabulary
        self.slotWords = slotWords
        self.helpKeys = helpKeys
        self.messages = messages
        self.defaultLocale = defaultLocale
    }

    /// The messages for `locale`, or the default locale's.
    public func messages(for locale: String?) -> Messages {
        locale.flatMap { messages[$0] } ?? messages[defaultLocale]!
    }

    /// Loads every `*.cmd` below `commandsDirectory` and every `*.json` in `localesDirectory`,
    /// checks them against each other and against `requiredMessageKeys`, and compiles them.
    /// Throws every mistake found, each as `file:line:column: message`.
    public static func load(commandsDirectory: String, localesDirectory: String,
                            requiredMessageKeys: Set<String> = [],
                            defaultLocale: String = "en") throws(GrammarLoadError) -> Grammar {
        var diagnostics: [GrammarDiagnostic] = []
        let fm = FileManager.default
        // Rules are named relative to the folder that holds commands/, as people see them.
        let base = (commandsDirectory as NSString).deletingLastPathComponent
        func display(_ path: String) -> String {
            path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
        }

        var messages: [String: Messages] = [:]
        var lexicons: [String: Lexicon] = [:]
        if let names = try? fm.contentsOfDirectory(atPath: localesDirectory) {
            for name in names.sorted() where name.hasSuffix(".json") {
                if let (m, lexicon) = Messages.load(path: (localesDirectory as NSString).appendingPathComponent(name), diagnostics: &diagnostics) {
                    messages[m.locale] = m
                    lexicons[m.locale] = lexicon
                }
            }
        } else {
            diagnostics.append(GrammarDiagnostic(file: localesDirectory, line: 0, column: 0,
                message: "cannot read the directory (set CONVOPS_HOME to the folder holding commands/ and locales/)"))
        }

        var commandPaths: [String] = []
        if let enumerator = fm.enumerator(atPath: commandsDirectory) {
            for case let relative as String in enumerator where relative.hasSuffix(".cmd") {
                commandPaths.append((commandsDirectory as NSString).appendingPathComponent(relative))
            }
        } else {
            diagnostics.append(GrammarDiagnostic(file: commandsDirectory, line: 0, column: 0,
                message: "cannot read the directory (set CONVOPS_HOME to the folder holding commands/ and locales/)"))
        }
        commandPaths.sort()
        if commandPaths.isEmpty && diagnostics.isEmpty {
            diagnostics.append(GrammarDiagnostic(file: commandsDirectory, line: 0, column: 0, message: "no *.cmd files"))
        }
        var files: [CommandFile] = []
        for path in commandPaths {
            guard let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(GrammarDiagnostic(file: display(path), line: 1, column: 1, message: "cannot read the file as UTF-8"))
                continue
            }
            if let file = CommandFile.parse(path: display(path), contents: text, diagnostics: &diagnostics) {
                files.append(file)
            }
        }
        if messages[defaultLocale] == nil {
            diagnostics.append(GrammarDiagnostic(file: (localesDirectory as NSString).appendingPathComponent("\(defaultLocale).json"),
                line: 0, column: 0, message: "the default locale '\(defaultLocale)' has no locale file"))
        }

        // Declarations first, then the files that only add patterns to them.
        var declarations: [IntentKind: CommandFile] = [:]
        for file in files where file.risk != nil {
            if let other = declarations[file.intent] {
                diagnostics.append(GrammarDiagnostic(file: file.path, line: 1, column: 1,
                    message: "intent '\(file.intent.rawValue)' is already declared in \(other.path)"))
                continue
            }
            declarations[file.intent] = file
        }
        var vocabulary = Vocabulary()
        let slotWords = SlotWords(&vocabulary)
        var words: [String: LocaleTablesBuilder] = [:]
        for (locale, lexicon) in lexicons.sorted(by: { $0.key < $1.key }) { words[locale] = LocaleTablesBuilder(lexicon, &vocabulary) }

        var rules: [String: [CompiledRule]] = [:]
        // Keyed by the parsed pattern (its words, slots and groups; spacing as written does not
        // count). It was the pattern printed by reflection, a seventh of the start-up.
        struct PatternKey: Hashable { var locale: String; var elements: [PatternElement] }
        var seen: [PatternKey: RuleLocation] = [:]
        for file in files {
            guard let declaration = declarations[file.intent] else {
                diagnostics.append(GrammarDiagnostic(file: file.path, line: 1, column: 1,
                    message: "intent '\(file.intent.rawValue)' is not declared: add commands/\(file.intent.rawValue).cmd with its risk, help and slots"))
                continue
            }
            for rule in file.rules {
                let location = RuleLocation(file: file.path, line: rule.line)
                func report(_ message: String, column: Int = rule.column) {
                    diagnostics.append(GrammarDiagnostic(file: file.path, line: rule.line, column: column, message: message))
                }
                guard let catalog = messages[rule.locale], let localeWords = words[rule.locale] else {
                    report("no locales/\(rule.locale).json for this pattern's locale '\(rule.locale)'", column: 1)
                    continue
                }
                if let key = declaration.helpKey, !catalog.has(key) {
                    report("help key '\(key)' is missing from locales/\(rule.locale).json", column: 1)
                }
                for name in rule.elements.slotNames where declaration.slots[name] == nil {
                    report("pattern uses slot {\(name)}, which \(declaration.path) does not declare")
                }
                // A word that is always taken out before matching can never be matched.
                let required = rule.elements.requiredWords
                for word in required.sorted() where !localeWords.wordClass(vocabulary.intern(word)).isDisjoint(with: .stripped) {
                    report("unreachable rule: '\(word)' is filler or a guard word in locales/\(rule.locale).json and is removed before matching")
                }
                let key = PatternKey(locale: rule.locale, elements: rule.elements)
                if let first = seen[key] {
                    report("duplicate rule: the same pattern is already at \(first)")
                    continue
                }
                seen[key] = location
                let program = Program(rule.elements, slotTypes: declaration.slots, vocabulary: &vocabulary)
                if program.slots.count > Captures.capacity {
                    report("a rule may have at most \(Captures.capacity) slots; this one has \(program.slots.count)")
                    continue
                }
                let firstWords = (rule.elements.firstRequiredWords ?? []).map { vocabulary.intern($0) }
                rules[rule.locale, default: []].append(CompiledRule(intent: file.intent, slotTypes: declaration.slots,
                    elements: rule.elements, locale: rule.locale, location: location, requiredWords: required, program: program,
                    firstWordIDs: firstWords, pattern: rule.text))
            }
        }
        for (locale, catalog) in messages {
            let missing = requiredMessageKeys.subtracting(catalog.keys).sorted()
            if !missing.isEmpty {
                diagnostics.append(GrammarDiagnostic(file: (localesDirectory as NSString).appendingPathComponent("\(locale).json"),
                    line: 1, column: 1, message: "missing messages: \(missing.joined(separator: ", "))"))
            }
        }
        guard diagnostics.isEmpty else { throw GrammarLoadError(diagnostics) }

        var compiled: [String: LocaleGrammar] = [:]
        for (locale, localeTables) in words {
            var builder = localeTables
            let localeRules = rules[locale] ?? []
            var anchors: [Int32: [Int32]] = [:]
            var unanchored: [Int32] = []
            var commandWords: Set<Int32> = []
            for (i, rule) in localeRules.enumerated() {
                for word in rule.elements.literalWords {
                    let id = vocabulary.intern(word)
                    builder.resize(to: vocabulary.count)
                    builder.classes[Int(id)].insert(.command)
                    commandWords.insert(id)
                }
                if let first = rule.elements.firstRequiredWords {
                    for word in first { anchors[vocabulary.intern(word), default: []].append(Int32(i)) }
                } else {
                    unanchored.append(Int32(i))
                }
            }
            builder.resize(to: vocabulary.count)
            let tables = LocaleTables(builder)
            let sortedWords = commandWords.sorted()
            compiled[locale] = LocaleGrammar(locale: locale, tables: tables, rules: localeRules, anchors: anchors,
                                             unanchored: unanchored,
                                             suggestions: SuggestionIndex(sortedWords, vocabulary))
        }
        vocabulary.addTransliterations()
        var environmentNames: [String: String] = [:]
        for (_, lexicon) in lexicons.sorted(by: { $0.key < $1.key }) {
            for (canonical, synonyms) in lexicon.environments {
                for word in [canonical] + synonyms where environmentNames[word.lowercased()] == nil {
                    environmentNames[word.lowercased()] = canonical.lowercased()
                }
            }
        }
        let grammar = Grammar(localeGrammars: compiled, vocabulary: vocabulary, slotWords: slotWords,
                              helpKeys: declarations.mapValues { $0.helpKey ?? "" },
                              messages: messages, defaultLocale: defaultLocale, environmentNames: environmentNames)
        let overlaps = grammar.overlapDiagnostics()
        guard overlaps.isEmpty else { throw GrammarLoadError(overlaps) }
        return grammar
    }

    /// Usage lines and help text for each intent the locale has rules for, in intent order.
    public func help(locale: String?) -> [(intent: IntentKind, usage: [String], text: String)] {
        let locale = locale.flatMap { localeGrammars[$0] != nil ? $0 : nil } ?? defaultLocale
        let catalog = messages(for: locale)
        let rules = localeGrammars[locale]?.rules ?? []
        return IntentKind.allCases.compactMap { kind in
            var usages: [String] = []
            for rule in rules where rule.intent == kind {
                let usage = rule.elements.usage
                if !usages.contains(usage) { usages.append(usage) }
            }
            guard !usages.isEmpty, let key = helpKeys[kind] else { return nil }
            return (kind, usages, catalog.text(key))
        }
    }
}

extension Array where Element == PatternElement {
    var literalWords: Set<String> {
        reduce(into: []) { out, element in
            switch element {
            case .word(let w): out.formUnion(w)
            case .slot, .constant: break
            case .optional(let inner): out.formUnion(inner.literalWords)
            }
        }
    }

    /// The words of the first element outside optional groups that is a word: every match
    /// contains one of them.
    var firstRequiredWords: [String]? {
        for element in self { if case .word(let w) = element { return w } }
        return nil
    }

    /// Words that every match contains: single-word elements outside optional groups.
    var requiredWords: Set<String> {
        reduce(into: []) { out, element in
            if case .word(let w) = element, w.count == 1 { out.insert(w[0]) }
        }
    }
}
