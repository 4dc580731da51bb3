import ArgumentParser
import ConvOpsBot
import Foundation

struct GrammarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grammar", abstract: "Work with the rule grammar.",
                                                    subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate every file in commands/ and locales/.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let context = try Context(global)
            do {
                let grammar = try Runtime.grammar(context.configuration)
                let intents = grammar.help(locale: nil).count
                emit("ok: \(intents) intents in \(grammar.locales.joined(separator: ", ")) from \(context.configuration.home)")
            } catch {
                emit("\(error)")
                throw Exit.refused
            }
        }
    }
}
