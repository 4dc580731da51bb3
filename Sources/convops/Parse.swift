import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsGrammar
import Foundation

struct Parse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse text into an intent and print it as JSON.",
        discussion: """
            Prints {"intent":…,"locale":…,"rule":"file:line","slots":{…}} and exits 0, or \
            {"error":…,"suggestions":[…]} and exits 1.
            """)

    @Option(help: "The locale of the text (default: detected).")
    var locale: String?

    @Flag(help: "Show, for people writing commands/ files, what each word became, which rule matched, or the closest rules and where they stopped.")
    var explain = false

    @Argument(parsing: .remaining, help: "The text to parse.")
    var text: [String]

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try Context(global)
        let grammar: Grammar
        do {
            grammar = try Runtime.grammar(context.configuration)
        } catch {
            Context.fail("the grammar did not load:\n\(error)")
            throw Exit.setup
        }
        if let locale, !grammar.locales.contains(locale) {
            emit(JSON.object(["error": .string("unknown locale '\(locale)'"), "suggestions": .array(grammar.locales.map(JSON.string))]).text)
            throw Exit.refused
        }
        if explain {
            let explanation = grammar.explain(text.joined(separator: " "), locale: locale)
            emit(Self.render(explanation))
            if case .failure = explanation.result { throw Exit.refused }
            return
        }
        switch grammar.parse(text.joined(separator: " "), locale: locale) {
        case .success(let parsed):
            let slots = parsed.slots.mapValues { value -> JSON in
                switch value {
                case .number(let n): .number(Double(n))
                default: .string(value.display)
                }
            }
            let rule = parsed.rule.description
            emit(JSON.object(["intent": .string(parsed.intent.rawValue), "slots": .object(slots),
                              "locale": .string(parsed.locale), "rule": .string(rule)]).text)
        case .failure(let failure):
            var object: [String: JSON] = ["error": .string(failure.message), "suggestions": .array(failure.suggestions.map(JSON.string))]
            if case .followUp(let followUp) = failure.reason {
                var change: [String: JSON] = [:]
                if let target = followUp.target { change["target"] = .string(target.text) }
                if let environment = followUp.qualifiers.environment { change["env"] = .string(environment) }
                if let region = followUp.qualifiers.region { change["region"] = .string(region) }
                if let account = followUp.qualifiers.account { change["account"] = .string(account) }
                object["follow_up"] = .object(change)
            }
            emit(JSON.object(object).text)
            throw Exit.refused
        }
    }

    /// The explanation as lines a person reads.
    static func render(_ e: Explanation) -> String {
        var lines = ["locale:  \(e.locale)\(e.localeGiven ? "" : " (detected)")", "words:"]
        let width = min(24, e.words.map(\.text.count).max() ?? 0)
        for word in e.words {
            lines.append("  " + word.text.padding(toLength: max(width, word.text.count), withPad: " ", startingAt: 0) + "  " + word.role)
        }
        lines.append("rules saw: " + (e.content.isEmpty ? "(nothing)" : e.content.joined(separator: " ")))
        if !e.qualifiers.isEmpty {
            lines.append("qualifiers: " + e.qualifiers.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
        switch e.result {
        case .success(let parsed):
            lines.append("result:  \(parsed.intent.rawValue)")
            if let m = e.matched { lines.append("rule:    \(m.rule)  \(m.pattern)") }
            let slots = parsed.slotList.map { "\($0.name)=\($0.value.display)" }
            if !slots.isEmpty { lines.append("slots:   " + slots.joined(separator: " ")) }
        case .failure(let failure):
            lines.append("result:  no command. \(failure.message)")
            if !e.closest.isEmpty {
                lines.append("closest rules:")
                for a in e.closest {
                    let stop = a.stoppedAt.map { "stopped at “\($0)”" } ?? "ran out of pattern or of words"
                    lines.append("  \(a.rule)  \(a.pattern)\n      took \(a.matchedWords) of \(e.content.count) words, \(stop)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
