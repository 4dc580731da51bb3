import ConvOpsCore
import Foundation

/// Where a rule came from: `commands/restart.cmd:7`.
public struct RuleLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

struct CompiledRule: Sendable {
    var intent: IntentKind
    var slotTypes: [String: SlotType]
    var elements: [PatternElement]
    var locale: String
    var location: RuleLocation
}

/// The rule grammar, compiled once from `commands/` and `locales/` into an immutable matcher.
public final class Grammar: Sendable {
    let rules: [String: [CompiledRule]]
    /// Words that start or make up commands, per locale: what "did you mean" draws from.
    let commandWords: [String: [String]]
    let helpKeys: [IntentKind: String]
    public let messages: [String: Messages]
    public let defaultLocale: String

    public var locales: [String] { messages.keys.sorted() }

    init(rules: [String: [CompiledRule]], commandWords: [String: [String]], helpKeys: [IntentKind: String],
         messages: [String: Messages], defaultLocale: String) {
        self.rules = rules
        self.commandWords = commandWords
        self.helpKeys = helpKeys
        self.messages = messages
        self.defaultLocale = defaultLocale
    }

    /// The messages for `locale`, or the default locale's.
    public func messages(for locale: String?) -> Messages {
        locale.flatMap { messages[$0] } ?? messages[defaultLocale]!
    }

    /// Loads every `*.cmd` in `commandsDirectory` and every `*.json` in `localesDirectory`,
    /// checks them against each other and against `requiredMessageKeys`, and compiles them.
    /// Throws every mistake found, each as `file:line:column: message`.
    public static func load(commandsDirectory: String, localesDirectory: String,
                            requiredMessageKeys: Set<String> = [],
                            defaultLocale: String = "en") throws(GrammarLoadError) -> Grammar {
        var diagnostics: [GrammarDiagnostic] = []
        let fm = FileManager.default

        func files(in directory: String, ext: String) -> [String] {
            guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
                diagnostics.append(GrammarDiagnostic(file: directory, line: 0, column: 0,
                    message: "cannot read the directory (set CONVOPS_HOME to the folder holding commands/ and locales/)"))
                return []
            }
            return names.filter { $0.hasSuffix(ext) }.sorted().map { (directory as NSString).appendingPathComponent($0) }
        }

        var messages: [String: Messages] = [:]
        for path in files(in: localesDirectory, ext: ".json") {
            if let m = Messages.load(path: path, diagnostics: &diagnostics) { messages[m.locale] = m }
        }
        var commandFiles: [CommandFile] = []
        let commandPaths = files(in: commandsDirectory, ext: ".cmd")
        if commandPaths.isEmpty && diagnostics.isEmpty {
            diagnostics.append(GrammarDiagnostic(file: commandsDirectory, line: 0, column: 0, message: "no *.cmd files"))
        }
        for path in commandPaths {
            guard let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(GrammarDiagnostic(file: path, line: 1, column: 1, message: "cannot read the file as UTF-8"))
                continue
            }
            if let file = CommandFile.parse(path: path, contents: text, diagnostics: &diagnostics) {
                commandFiles.append(file)
            }
        }
        if messages[defaultLocale] == nil {
            diagnostics.append(GrammarDiagnostic(file: (localesDirectory as NSString).appendingPathComponent("\(defaultLocale).json"),
                line: 0, column: 0, message: "the default locale '\(defaultLocale)' has no locale file"))
        }

        var rules: [String: [CompiledRule]] = [:]
        var seen: [String: RuleLocation] = [:]
        var intentFiles: [IntentKind: String] = [:]
        var helpKeys: [IntentKind: String] = [:]
        var words: [String: Set<String>] = [:]
        for file in commandFiles {
            if let other = intentFiles[file.intent] {
                diagnostics.append(GrammarDiagnostic(file: file.path, line: 1, column: 1,
                    message: "intent '\(file.intent.rawValue)' is already declared in \(other)"))
                continue
            }
            intentFiles[file.intent] = file.path
            helpKeys[file.intent] = file.helpKey
            for rule in file.rules {
                guard let catalog = messages[rule.locale] else {
                    diagnostics.append(GrammarDiagnostic(file: file.path, line: rule.line, column: 1,
                        message: "no locales/\(rule.locale).json for this pattern's locale '\(rule.locale)'"))
                    continue
                }
                if !catalog.has(file.helpKey) {
                    diagnostics.append(GrammarDiagnostic(file: file.path, line: rule.line, column: 1,
                        message: "help key '\(file.helpKey)' is missing from locales/\(rule.locale).json"))
                }
                let location = RuleLocation(file: file.path, line: rule.line)
                let key = "\(rule.locale) \(rule.elements)"
                if let first = seen[key] {
                    diagnostics.append(GrammarDiagnostic(file: file.path, line: rule.line, column: rule.column,
                        message: "duplicate rule: the same pattern is already at \(first)"))
                    continue
                }
                seen[key] = location
                rules[rule.locale, default: []].append(CompiledRule(intent: file.intent, slotTypes: file.slots,
                    elements: rule.elements, locale: rule.locale, location: location))
                words[rule.locale, default: []].formUnion(rule.elements.literalWords)
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
        return Grammar(rules: rules, commandWords: words.mapValues { $0.sorted() }, helpKeys: helpKeys,
                       messages: messages, defaultLocale: defaultLocale)
    }

    /// Usage lines and help text for each intent the locale has rules for, in intent order.
    public func help(locale: String?) -> [(intent: IntentKind, usage: [String], text: String)] {
        let locale = locale.flatMap { rules[$0] != nil ? $0 : nil } ?? defaultLocale
        let catalog = messages(for: locale)
        return IntentKind.allCases.compactMap { kind in
            let usages = (rules[locale] ?? []).filter { $0.intent == kind }.map { $0.elements.usage }
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
            case .slot: break
            case .optional(let inner): out.formUnion(inner.literalWords)
            }
        }
    }
}
