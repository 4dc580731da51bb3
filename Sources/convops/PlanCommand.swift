import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import Foundation

/// `convops plan TEXT`: the dry run. What TEXT would do, resolved against AWS, with the exact
/// calls, and nothing stored or run.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry run: show what a command would do (the resource and the exact AWS calls) without storing or running it.",
        discussion: "The same as typing the command in 'convops chat --dry-run'.")

    @Option(name: .customLong("as"), help: "Who is asking (the policy applies to them).")
    var name: String = ProcessInfo.processInfo.environment["USER"] ?? "operator"

    @Argument(parsing: .remaining, help: "The command, as typed in chat: restart web-1")
    var words: [String]

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try Context(global)
        let runtime = try context.runtime()
        let message = InboundMessage(text: words.joined(separator: " "), person: Person(id: "console:\(name)", name: name),
                                     channel: ConsoleChannel.channelID, dryRun: true)
        let replies = await runtime.engine.handle(message)
        for reply in replies { emit(reply.text) }
        if replies.contains(where: \.isRefusal) { throw Exit.refused }
    }
}
