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
            emit(JSON.object(["error": .string(failure.message), "suggestions": .array(failure.suggestions.map(JSON.string))]).text)
            throw Exit.refused
        }
    }
}
