import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// A running `convops chat` whose input stays open, with its output collected as it comes.
final class LiveChat: @unchecked Sendable {
    // `output` is written by the reader thread and read by the test, always under `lock`.
    private let lock = NSLock()
    private var output = ""
    private let process = Process()
    private let input = Pipe()

    init(as name: String, environment: [String: String]) throws {
        var env = environment
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        process.executableURL = URL(fileURLWithPath: convopsBinary)
        process.arguments = ["chat", "--as", name]
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        let out = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = out.fileHandleForReading
        Thread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                self.lock.withLock { self.output += String(decoding: data, as: UTF8.self) }
            }
        }.start()
    }

    func say(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    var text: String { lock.withLock { output } }

    /// Waits until the output contains `needle`, up to `seconds`.
    func waitFor(_ needle: String, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if text.contains(needle) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return text.contains(needle)
    }

    func end() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct ExpiryEndToEndTests {
    @Test func aPlanWarnsBeforeItExpiresAndCannotBeConfirmedAfter() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto, extra: ["CONVOPS_CONFIRMATION_TIMEOUT": "10"])
        defer { scenario.remove() }
        try await moto.startRecording()
        let chat = try LiveChat(as: "erin", environment: scenario.environment)
        chat.say("restart web-1")
        #expect(await chat.waitFor("The plan expires in 10 seconds.", seconds: 10))
        // Warned once, 5 seconds (half the 10) before it expires…
        #expect(await chat.waitFor("seconds; confirm or approve it now if it is still needed.", seconds: 9))
        // …then expired, and a late confirm runs nothing.
        #expect(await chat.waitFor("expired before it was confirmed; nothing was changed.", seconds: 9))
        chat.say("confirm")
        #expect(await chat.waitFor("You have no plan waiting.", seconds: 5))
        chat.end()
        #expect(chat.text.components(separatedBy: "seconds; confirm or approve").count == 2, "warned exactly once")
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        let audit = try scenario.store().auditEntries(limit: 10)
        #expect(audit.map(\.decision) == [.requested, .expired])
        #expect(audit.last.map { scenario.storeName($0.actor) } == "convops")
    }
}

extension Scenario {
    func storeName(_ pseudonym: String) -> String { (try? store().displayName(pseudonym: pseudonym)) ?? pseudonym }
}
