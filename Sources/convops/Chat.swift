import ArgumentParser
import ConvOpsBot
import Foundation

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with ConvOps in the terminal (the console channel).",
        discussion: "Type commands such as 'restart web-1', answer 'confirm' or 'cancel'. '/as NAME' switches who is typing; '/quit' leaves.")

    @Option(name: .customLong("as"), help: "Who is typing.")
    var name: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

    @Flag(name: .customLong("dry-run"), help: "Show every plan with the exact AWS calls it would make; store and run nothing.")
    var dryRun = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try Context(global)
        let runtime = try context.runtime()
        let interactive = isatty(STDIN_FILENO) == 1
        let console = ConsoleChannel(engine: runtime.engine, messages: runtime.grammar.messages(for: context.configuration.locale),
                                     interactive: interactive, retentionDays: context.configuration.retentionDays, dryRun: dryRun,
                                     output: { emit($0) })
        await console.run(as: name, lines: ConsoleChannel.standardInputLines())
        await Audit.signHead(runtime)
    }
}
