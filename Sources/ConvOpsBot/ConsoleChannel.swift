import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// A chat in the terminal, like Hubot's shell adapter: type commands, see plans, answer
/// `confirm` or `cancel`. `/as NAME` switches who is typing, for two-person flows.
public struct ConsoleChannel: Sendable {
    let engine: Engine
    let messages: Messages
    let output: @Sendable (String) -> Void
    let interactive: Bool
    let sweepInterval: Duration

    let retentionDays: Int
    /// `convops chat --dry-run`: every plan is shown with its exact calls; nothing is stored or run.
    let dryRun: Bool

    public init(engine: Engine, messages: Messages, interactive: Bool, sweepInterval: Duration = .seconds(1),
                retentionDays: Int = 365, dryRun: Bool = false, output: @escaping @Sendable (String) -> Void) {
        self.engine = engine
        self.dryRun = dryRun
        self.retentionDays = retentionDays
        self.messages = messages
        self.interactive = interactive
        self.sweepInterval = sweepInterval
        self.output = output
    }

    public static let channelID = "console"

    static func person(_ name: String) -> Person { Person(id: "console:\(name)", name: name) }

    /// Runs until the input ends or the person types /quit.
    public func run(as name: String, lines: AsyncStream<String>) async {
        var person = Self.person(name)
        // A dry run touches no stored request: no recovery, no expiry, no retention purge.
        if !dryRun { for reply in await engine.recover() { say(reply) } }
        output(messages.text("console.welcome", ["name": person.name]))
        // Expiry every `sweepInterval`, retention at start and once a day.
        let sweeper = dryRun ? nil : Task { [self] in
            await Sweeper(engine: engine, interval: sweepInterval, retentionDays: retentionDays).run { say($0) }
        }
        defer { sweeper?.cancel() }
        prompt(person)
        for await raw in lines {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { prompt(person); continue }
            if !interactive { output("\(person.name)> \(line)") }
            if line == "/quit" || line == "/exit" { break }
            if line.hasPrefix("/as") {
                let name = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                if name.isEmpty || name.contains(" ") {
                    output(messages.text("console.prompt_hint"))
                } else {
                    person = Self.person(name)
                    output(messages.text("console.as", ["name": name]))
                }
                prompt(person)
                continue
            }
            let words = line.split(separator: " ").map(String.init)
            let replies: [Reply]
            if words.first?.lowercased() == messages.text("console.confirm_word"), words.count <= 2, dryRun {
                replies = [Reply.answer(messages.text("dry_run.decision"))]
            } else if words.first?.lowercased() == messages.text("console.confirm_word"), words.count <= 2 {
                replies = await engine.confirm(by: person, requestID: words.count == 2 ? words[1] : nil,
                                               from: Origin(channel: Self.channelID), locale: messages.locale)
            } else {
                replies = await engine.handle(InboundMessage(text: line, person: person, channel: Self.channelID, dryRun: dryRun))
            }
            for reply in replies { say(reply) }
            prompt(person)
        }
        output(messages.text("console.bye"))
    }

    private func say(_ reply: Reply) {
        output(reply.text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "convops: \($0)" }.joined(separator: "\n"))
    }

    private func prompt(_ person: Person) {
        if interactive { output("\(person.name)> ") }
    }

    /// Lines from standard input, read on a thread of their own so the sweeper keeps running.
    public static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.name = "convops.stdin"
            thread.start()
        }
    }
}
