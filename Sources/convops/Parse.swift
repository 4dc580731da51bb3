import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsGrammar
import Foundation

struct Parse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse text into an intent and print it as JSON.",
        discussion: """
            Prints {"intent":…,"slots":{…},"locale":…,"rule":"file:line"} and exits 0, or \
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
            emit(JSON.object([("error", .string("unknown locale '\(locale)'")), ("suggestions", .array(grammar.locales.map(JSON.string)))]))
            throw Exit.refused
        }
        switch grammar.parse(text.joined(separator: " "), locale: locale) {
        case .success(let parsed):
            let slots = parsed.slots.keys.sorted().map { key -> (String, JSON) in
                switch parsed.slots[key]! {
                case .text(let s): (key, .string(s))
                case .number(let n): (key, .number(n))
                }
            }
            let rule = parsed.rule.description
            emit(JSON.object([("intent", .string(parsed.intent.rawValue)), ("slots", .object(slots)),
                              ("locale", .string(parsed.locale)), ("rule", .string(rule))]))
        case .failure(let failure):
            emit(JSON.object([("error", .string(failure.message)), ("suggestions", .array(failure.suggestions.map(JSON.string)))]))
            throw Exit.refused
        }
    }
}

/// A small JSON writer that keeps keys in the order given.
indirect enum JSON {
    case string(String)
    case number(Int)
    case array([JSON])
    case object([(String, JSON)])

    static func object(_ pairs: [(String, JSON)]) -> String { JSON.object(pairs).text }

    var text: String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .number(let n): return String(n)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { "\(Self.quote($0.0)):\($0.1.text)" }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
