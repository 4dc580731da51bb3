import ConvOpsCore

/// One `commands/*.cmd` file, parsed but not yet checked against other files.
///
/// ```
/// intent restart
/// risk   mutating
/// help   help.restart
/// slot   target resource
/// en: (restart|reboot) [the] {target}
/// ```
struct CommandFile: Sendable {
    struct Rule: Sendable {
        var locale: String
        var elements: [PatternElement]
        var text: String
        var line: Int
        var column: Int
    }

    var path: String
    var intent: IntentKind
    /// nil for a file that only adds patterns to an intent declared in another file.
    var risk: Risk?
    var helpKey: String?
    var slots: [String: SlotType]
    var rules: [Rule]

    /// Parses one file, appending every mistake to `diagnostics`. Returns nil when the file
    /// is too broken to compile.
    static func parse(path: String, contents: String, diagnostics: inout [GrammarDiagnostic]) -> CommandFile? {
        var intent: IntentKind?
        var risk: Risk?
        var helpKey: String?
        var slots: [String: SlotType] = [:]
        var slotLines: [String: Int] = [:]
        var rules: [Rule] = []
        var intentLine = 1
        let before = diagnostics.count

        func report(_ line: Int, _ column: Int, _ message: String) {
            diagnostics.append(GrammarDiagnostic(file: path, line: line, column: column, message: message))
        }

        for (offset, rawLine) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = String(rawLine)
            let indent = line.prefix(while: { $0 == " " || $0 == "\t" }).count
            let body = line.dropFirst(indent)
            if body.isEmpty || body.hasPrefix("#") { continue }

            // `en: pattern` — a rule for a locale.
            if let colon = body.firstIndex(of: ":"), body[..<colon].allSatisfy({ $0.isLetter || $0 == "-" }),
               !body[..<colon].isEmpty {
                let locale = String(body[..<colon])
                let patternStart = body.index(after: colon)
                let pattern = body[patternStart...]
                let leading = pattern.prefix(while: { $0 == " " || $0 == "\t" }).count
                let column = indent + body.distance(from: body.startIndex, to: patternStart) + leading + 1
                let text = pattern.trimmingCharacters(in: .whitespaces)
                do {
                    let elements = try PatternParser.parse(text)
                    rules.append(Rule(locale: locale, elements: elements, text: text, line: lineNumber, column: column))
                } catch {
                    report(lineNumber, column + error.column - 1, error.message)
                }
                continue
            }

            let words = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let keyword = words[0]
            func argumentColumn(_ i: Int) -> Int {
                guard i < words.count, let r = line.range(of: words[i], range: line.index(line.startIndex, offsetBy: indent + keyword.count)..<line.endIndex) else {
                    return line.count + 1
                }
                return line.distance(from: line.startIndex, to: r.lowerBound) + 1
            }
            switch keyword {
            case "intent":
                guard words.count == 2 else { report(lineNumber, indent + 1, "'intent' takes one name, as in 'intent restart'"); continue }
                guard let kind = IntentKind(rawValue: words[1]) else {
                    let known = IntentKind.allCases.map(\.rawValue).joined(separator: ", ")
                    report(lineNumber, argumentColumn(1), "unknown intent '\(words[1])' (known: \(known))")
                    continue
                }
                if intent != nil { report(lineNumber, indent + 1, "a file declares one intent; this is the second"); continue }
                intent = kind
                intentLine = lineNumber
            case "risk":
                guard words.count == 2, let r = Risk(rawValue: words[1]) else {
                    report(lineNumber, argumentColumn(1), "'risk' is 'read-only' or 'mutating'")
                    continue
                }
                risk = r
            case "help":
                guard words.count == 2 else { report(lineNumber, indent + 1, "'help' takes one message key, as in 'help help.restart'"); continue }
                helpKey = words[1]
            case "slot":
                guard words.count == 3 else {
                    report(lineNumber, indent + 1, "'slot' takes a name and a type, as in 'slot target resource'")
                    continue
                }
                guard let type = SlotType(rawValue: words[2]) else {
                    let known = SlotType.allCases.map(\.rawValue).joined(separator: ", ")
                    report(lineNumber, argumentColumn(2), "unknown slot type '\(words[2])' (known: \(known))")
                    continue
                }
                if slotLines[words[1]] != nil {
                    report(lineNumber, argumentColumn(1), "slot '\(words[1])' is declared twice (first on line \(slotLines[words[1]]!))")
                    continue
                }
                slots[words[1]] = type
                slotLines[words[1]] = lineNumber
            default:
                report(lineNumber, indent + 1, "unknown directive '\(keyword)' (expected intent, risk, help, slot, or 'LOCALE: pattern')")
            }
        }

        guard let intent else {
            report(1, 1, "missing 'intent NAME' line")
            return nil
        }
        // A file with only `intent` and patterns extends the intent declared elsewhere
        // (commands/LOCALE/restart.cmd next to commands/restart.cmd).
        if risk == nil, helpKey == nil, slotLines.isEmpty {
            if rules.isEmpty && diagnostics.count == before {
                report(intentLine, 1, "no patterns: add a line such as 'en: \(intent.rawValue)'")
            }
            guard diagnostics.count == before else { return nil }
            return CommandFile(path: path, intent: intent, risk: nil, helpKey: nil, slots: [:], rules: rules)
        }
        // Slots must agree with the typed intent the code builds from them.
        let allowed = Dictionary(uniqueKeysWithValues: (intent.slots + IntentKind.qualifierSlots).map { ($0.name, $0.type) })
        for (name, type) in slots {
            guard let expected = allowed[name] else {
                report(slotLines[name]!, 1, "intent '\(intent.rawValue)' has no slot '\(name)' (it takes: \(allowed.keys.sorted().joined(separator: ", ")))")
                continue
            }
            if expected != type {
                report(slotLines[name]!, 1, "slot '\(name)' of '\(intent.rawValue)' is of type '\(expected.rawValue)', not '\(type.rawValue)'")
            }
        }
        if risk == nil { report(intentLine, 1, "missing 'risk read-only' or 'risk mutating' line") }
        if let risk, risk != intent.risk {
            report(intentLine, 1, "intent '\(intent.rawValue)' is \(intent.risk.rawValue); the file says \(risk.rawValue)")
        }
        if helpKey == nil { report(intentLine, 1, "missing 'help KEY' line naming its help text in locales/") }
        for rule in rules {
            for name in rule.elements.slotNames where slots[name] == nil {
                report(rule.line, rule.column, "pattern uses slot {\(name)}, which no 'slot' line declares")
            }
        }
        guard diagnostics.count == before, let risk, let helpKey else { return nil }
        return CommandFile(path: path, intent: intent, risk: risk, helpKey: helpKey, slots: slots, rules: rules)
    }
}

extension Array where Element == PatternElement {
    var slotNames: [String] {
        flatMap { element -> [String] in
            switch element {
            case .word: []
            case .slot("_", _), .slot("_*", _): []
            case .slot(let name, _), .constant(let name, _): [name]
            case .optional(let inner): inner.slotNames
            }
        }
    }

    /// Usage text: `restart <target>`, canonical words only, optional filler words left out.
    var usage: String {
        compactMap { element -> String? in
            switch element {
            case .word(let words): words.first
            case .slot("_", _): "<name>"
            case .slot("_*", _): nil
            case .slot(let name, _): "<\(name)>"
            case .constant: nil
            case .optional(let inner): inner.slotNames.isEmpty ? nil : "[\(inner.usage)]"
            }
        }.joined(separator: " ")
    }
}

import Foundation
