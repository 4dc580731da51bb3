import ConvOpsTestSupport
import Foundation
import Testing

extension SlackEndToEnd {
/// The real `convops run` binary against the Slack emulator and moto.
@Suite struct RunCommandTests {
    func environment(_ emulator: SlackEmulator, _ scenario: Scenario, extra: [String: String] = [:]) -> [String: String] {
        var env = scenario.environment.merging(["SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken,
                                                "SLACK_BOT_TOKEN": SlackEmulator.botToken, "CONVOPS_LOG_LEVEL": "debug"]) { $1 }
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        return env.merging(extra) { $1 }
    }

    @Test func connectsAnswersAndStopsCleanlyOnSIGTERMWithoutLeakingTokens() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U111", name: "Alice")
        let scenario = try Scenario(moto: moto, config: openMode)
        defer { scenario.remove() }
        let process = try RunningProcess(convopsBinary, ["run"], environment: environment(emulator, scenario), currentDirectory: repositoryRoot)
        try await emulator.wait("two sockets from convops run", timeout: .seconds(30)) { emulator.openSockets.count == 2 }
        let envelope = try emulator.slashCommand("restart web-1", user: "U111")
        try await emulator.wait("the plan card") { emulator.messages.contains { $0.text.contains("asked to restart web-1") } }
        #expect(emulator.acked(envelope))

        process.signal(SIGTERM)
        let result = await process.wait()
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("convops: stopped"))
        // Both sockets were closed with a close frame, so Slack forgets them at once.
        try await emulator.wait("sockets closed") { emulator.openSockets.isEmpty }
        // Tokens appear nowhere: not in the debug log, not in the database or its WAL.
        for token in [SlackEmulator.appToken, SlackEmulator.botToken] {
            #expect(!result.stderr.contains(token))
            #expect(!result.stdout.contains(token))
            for file in [scenario.database, scenario.database + "-wal"] {
                let bytes = FileManager.default.contents(atPath: file) ?? Data()
                #expect(bytes.range(of: Data(token.utf8)) == nil, "\(token.prefix(5)) in \(file)")
            }
        }
    }

    @Test func missingOrSwappedTokensAreRefusedWithWhatToDo() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let scenario = try Scenario(moto: nil)
        defer { scenario.remove() }
        var env = environment(emulator, scenario)
        env["SLACK_APP_TOKEN"] = nil
        let missing = try await convops(["run"], environment: env)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("SLACK_APP_TOKEN must be set to the app-level token (xapp-…"))
        env["SLACK_APP_TOKEN"] = SlackEmulator.botToken
        let swapped = try await convops(["run"], environment: env)
        #expect(swapped.status == 2)
        #expect(swapped.stderr.contains("SLACK_APP_TOKEN must be set"))
        env["SLACK_APP_TOKEN"] = SlackEmulator.appToken
        env["SLACK_CONNECTIONS"] = "11"
        let tooMany = try await convops(["run"], environment: env)
        #expect(tooMany.status == 2)
        #expect(tooMany.stderr.contains("SLACK_CONNECTIONS (slack_connections) must be a whole number from 1 to 10"))
    }

    @Test func aRevokedBotTokenStopsWithTheReason() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let scenario = try Scenario(moto: nil, config: openMode)
        defer { scenario.remove() }
        let result = try await convops(["run"], environment: environment(emulator, scenario, extra: ["SLACK_BOT_TOKEN": "xoxb-revoked"]))
        #expect(result.status == 2)
        #expect(result.stderr.contains("Slack refused the token for auth.test (invalid_auth)"))
    }

    /// Without a policy every member of the workspace could do everything: `run` refuses, and
    /// prints a policy to paste, which works as printed. `"mode": "open"` is the explicit way
    /// out, and is said at start and by `check`.
    @Test func runRefusesToStartWithoutAPolicyAndSaysWhatToPaste() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let bare = try Scenario(moto: nil)
        defer { bare.remove() }
        let refused = try await convops(["run"], environment: environment(emulator, bare))
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("convops run needs a policy: without one, every member of the workspace could restart"))
        #expect(emulator.openSockets.isEmpty)
        // The printed policy is a working config file.
        let text = refused.stderr
        let start = try #require(text.range(of: #"{"policy""#))
        let end = try #require(text.range(of: "}}", range: start.upperBound..<text.endIndex))
        let json = String(text[start.lowerBound..<end.upperBound])
        let pasted = try Scenario(moto: nil, config: json)
        defer { pasted.remove() }
        let check = try await convops(["check"], environment: pasted.environment)
        #expect(check.stdout.contains("policy:   2 rules, mode team"), "\(check.stdout) \(check.stderr)")

        let open = try Scenario(moto: nil, config: openMode)
        defer { open.remove() }
        let openCheck = try await convops(["check"], environment: open.environment)
        #expect(openCheck.stdout.contains("policy:   OPEN (\"mode\": \"open\"): everyone may do everything, without approval"))
        let both = try Scenario(moto: nil, config: #"{"mode": "open", "policy": {"mode": "solo", "rules": [{"who": ["*"], "intents": ["status"]}]}}"#)
        defer { both.remove() }
        let conflict = try await convops(["check"], environment: both.environment)
        #expect(conflict.status == 2)
        #expect(conflict.stderr.contains("both \"mode\": \"open\" and a `policy` section"))
    }
}
}
