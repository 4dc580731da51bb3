import ConvOpsBot
import ConvOpsCore
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Logging
import ServiceLifecycle

/// A whole ConvOps in this process, talking to the Slack emulator and moto over real sockets:
/// the same Runtime and SlackChannel as `convops run`.
struct SlackRig {
    let emulator: SlackEmulator
    let runtime: Runtime
    let channel: SlackChannel
    let scenario: Scenario
    let services: ServiceGroup
    let task: Task<Void, Never>

    static func start(moto: MotoServer, config: String? = nil, users: [String: String] = ["U111": "Alice", "U222": "Bob", "U333": "Carol"],
                      extra: [String: String] = [:]) async throws -> SlackRig {
        let emulator = try SlackEmulator()
        for (id, name) in users { emulator.addUser(id, name: name) }
        var env: [String: String] = [
            "SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken, "SLACK_BOT_TOKEN": SlackEmulator.botToken,
            "CONVOPS_DATA_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        ].merging(extra) { $1 }
        let dir = try makeTemporaryDirectory("slack")
        if let config {
            try config.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
            env["CONVOPS_CONFIG"] = dir + "/convops.json"
        }
        let scenario = try Scenario(moto: moto, extra: env)
        let configuration = try Configuration.load(environment: scenario.environment, currentDirectory: repositoryRoot)
        var logger = Logger(label: "test.slack")
        logger.logLevel = ProcessInfo.processInfo.environment["CONVOPS_TEST_LOG"] == "1" ? .debug : .critical
        let runtime = try Runtime.start(configuration, environment: scenario.environment, logger: logger)
        let channel = try runtime.slack(environment: scenario.environment, logger: logger)
        // The services `convops run` runs (audit, sweeper, Slack), stopped by the test, not by a signal.
        let whatsApp = try runtime.whatsApp(environment: scenario.environment, logger: logger)
        let services = runtime.services(slack: channel, whatsApp: whatsApp, signals: [], logger: logger)
        let task = Task { do { try await services.run() } catch { logger.critical("services stopped: \(error)") } }
        let rig = SlackRig(emulator: emulator, runtime: runtime, channel: channel, scenario: scenario, services: services, task: task)
        try await emulator.wait("two Socket Mode connections") { emulator.openSockets.count == 2 }
        return rig
    }

    /// `keepingData`: the database stays for the test to look at (it removes the scenario itself).
    func stop(keepingData: Bool = false) async {
        await services.triggerGracefulShutdown()
        _ = await task.value
        emulator.shutdown()
        if !keepingData { scenario.remove() }
    }

    /// The newest card ConvOps posted with a button of this action id, and the button's value.
    func card(with action: BlockKit.ActionID, in channel: String = "C111") -> (ts: String, value: String)? {
        emulator.card(with: action, in: channel)
    }

    func waitForCard(_ action: BlockKit.ActionID, in channel: String = "C111") async throws -> (ts: String, value: String) {
        try await emulator.wait("a card with \(action.rawValue)") { card(with: action, in: channel) != nil }
        return card(with: action, in: channel)!
    }

    func message(_ ts: String) -> SlackEmulator.Message? { emulator.messages.first { $0.ts == ts } }

    /// Whether the message at `ts` still shows buttons.
    func hasButtons(_ ts: String) -> Bool {
        message(ts)?.blocks.array?.contains { $0["type"]?.string == "actions" } ?? false
    }

    func store() throws -> Store { runtime.store }
}

extension SlackEmulator {
    /// The newest card posted in `channel` with a button of this action id, and the button's value.
    func card(with action: BlockKit.ActionID, in channel: String = "C111") -> (ts: String, value: String)? {
        for message in messages.reversed() where message.channel == channel {
            for block in message.blocks.array ?? [] where block["type"]?.string == "actions" {
                for element in block["elements"]?.array ?? [] where element["action_id"]?.string == action.rawValue {
                    if let value = element["value"]?.string { return (message.ts, value) }
                }
            }
        }
        return nil
    }
}
