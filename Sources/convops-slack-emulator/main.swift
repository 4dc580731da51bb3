import ConvOpsSlack
import ConvOpsTestSupport
import Foundation

/// The Slack emulator as a process, for trying ConvOps without a Slack workspace:
///   convops-slack-emulator [--port N] [--env FILE]
/// It prints (or writes to FILE) the environment `convops run` needs, then reads commands:
///   /convops TEXT          a slash command from the current user
///   @convops TEXT          a mention in the channel
///   confirm|cancel|approve|reject   click that button on the newest card that has it
///   /as USER               act as another user (U111 Alice, U222 Bob, U333 Carol)
///   disconnect REASON | drop | stall   misbehave on the first open socket
///   /quit
/// and shows every message ConvOps posts, updates, or sends privately.

let arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

nonisolated(unsafe) let emulator = try SlackEmulator()
for (id, name) in [("U111", "Alice"), ("U222", "Bob"), ("U333", "Carol")] { emulator.addUser(id, name: name) }
let environment = """
    SLACK_API_URL=\(emulator.apiURL)
    SLACK_APP_TOKEN=\(SlackEmulator.appToken)
    SLACK_BOT_TOKEN=\(SlackEmulator.botToken)

    """
if let file = option("--env") {
    try environment.write(toFile: file, atomically: true, encoding: .utf8)
} else {
    print(environment, terminator: "")
}
print("slack emulator on 127.0.0.1:\(emulator.port); type /convops restart web-1, then confirm. /quit leaves.")

/// Prints what ConvOps said since last time.
final class Printer: @unchecked Sendable {
    // Used from the one printing task only.
    var seenVersions: [String: Int] = [:]
    var seenEphemerals = 0

    func flush() {
        for message in emulator.messages {
            let seen = seenVersions[message.ts] ?? 0
            guard message.versions.count > seen else { continue }
            seenVersions[message.ts] = message.versions.count
            let verb = seen == 0 ? "posted in" : "updated in"
            let buttons = (message.blocks.array ?? []).flatMap { $0["elements"]?.array ?? [] }
                .compactMap { $0["action_id"]?.string?.replacingOccurrences(of: "convops.", with: "") }
            print("convops \(verb) \(message.channel): \(message.text)" + (buttons.isEmpty ? "" : "  [\(buttons.joined(separator: "] ["))]"))
        }
        let ephemerals = emulator.ephemerals
        for e in ephemerals.dropFirst(seenEphemerals) { print("convops (only to \(e.user ?? "you")): \(e.text)") }
        seenEphemerals = ephemerals.count
    }
}
let printer = Printer()
let watcher = Task {
    while !Task.isCancelled {
        printer.flush()
        try? await Task.sleep(for: .milliseconds(100))
    }
}

print("waiting for convops run to connect…")
do {
    try await emulator.wait("convops run to connect", timeout: .seconds(120)) { !emulator.openSockets.isEmpty }
    print("connected. You are Alice (U111) in #C111.")
} catch {
    print("convops run did not connect within 2 minutes; see .demo/convops.log")
    exit(1)
}

var user = "U111"
let channel = "C111"
while let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces) {
    do {
        switch line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? "" {
        case "": continue
        case "/quit", "/exit": exit(0)
        case "/convops":
            try emulator.slashCommand(String(line.dropFirst("/convops".count)).trimmingCharacters(in: .whitespaces), user: user, channel: channel)
        case "@convops":
            try emulator.mention(String(line.dropFirst("@convops".count)).trimmingCharacters(in: .whitespaces), user: user, channel: channel)
        case "/as":
            user = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
            print("now acting as \(user)")
        case "confirm", "cancel", "approve", "reject":
            let action = "convops." + line
            let card = emulator.messages.reversed().lazy.compactMap { message -> (String, String, String)? in
                for block in message.blocks.array ?? [] {
                    for element in block["elements"]?.array ?? [] where element["action_id"]?.string == action {
                        if let value = element["value"]?.string { return (message.channel, message.ts, value) }
                    }
                }
                return nil
            }.first
            guard let (cardChannel, ts, value) = card else { print("no card with a \(line) button"); continue }
            try emulator.click(action, value: value, user: user, channel: cardChannel, messageTS: ts)
        case "disconnect":
            guard let socket = emulator.openSockets.first else { print("no open socket"); continue }
            try await emulator.disconnect(socket, reason: String(line.dropFirst("disconnect".count)).trimmingCharacters(in: .whitespaces))
        case "drop":
            if let socket = emulator.openSockets.first { emulator.dropTCP(socket) }
        case "stall":
            if let socket = emulator.openSockets.first { emulator.stall(socket) }
        default:
            print("commands: /convops TEXT, @convops TEXT, confirm, cancel, approve, reject, /as USER, disconnect REASON, drop, stall, /quit")
        }
    } catch {
        print("emulator: \(error)")
    }
    try? await Task.sleep(for: .milliseconds(300))
    printer.flush()
}
watcher.cancel()
