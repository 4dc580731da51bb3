@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Logging
import Testing

/// Stopping while a plan runs: Slack stops taking envelopes (events stay unacknowledged, for
/// Slack to redeliver; slash commands are told to try again), the run finishes and its card is
/// updated, and only then do the sockets close.
@Suite struct SlackDrainTests {
    static let policy = AccessPolicy(mode: .team, groups: ["oncall": ["U-alice"]],
                                     rules: [.init(who: ["*"], intents: [.status, .help, .cancel]),
                                             .init(who: ["group:oncall"], intents: [.restart], environments: ["staging"])])
    static let staging = ResourceEnvironment(name: "staging", source: .account(alias: "stg"))

    struct Rig {
        let bot: Bot
        let emulator: SlackEmulator
        let channel: SlackChannel
        let api: SlackWebAPI
        let serving: Task<String, Never>

        static func start(drain: Duration) async throws -> Rig {
            let bot = try Bot(policy: SlackDrainTests.policy)
            let emulator = try SlackEmulator()
            emulator.addUser("U-alice", name: "alice")
            var logger = Logger(label: "test.drain")
            logger.logLevel = .critical
            let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy.production.allowing(endpoint: emulator.apiURL)),
                                  logger: logger)
            let api = SlackWebAPI(http: http, baseURL: emulator.apiURL, botToken: SlackToken(SlackEmulator.botToken)!,
                                  appToken: SlackToken(SlackEmulator.appToken), logger: logger)
            // These tests are about draining, not liveness: under a loaded CI run a starved
            // process must not count its own socket dead (a 10 s pong deadline) and replace it.
            var options = SocketModeClient.Options(connections: 1, tick: .milliseconds(100), allowLoopback: true)
            options.machine.pongTimeout = 120
            options.machine.helloTimeout = 120
            options.machine.silenceTimeout = 240
            let socket = try SocketModeClient(api: api, options: options, logger: logger)
            let channel = SlackChannel(engine: bot.engine, api: api, socket: socket, messages: sharedGrammar.messages(for: "en"),
                                       options: .init(drain: drain), logger: logger)
            let serving = Task { await channel.serve() }
            try await emulator.wait("a socket that said hello", timeout: .seconds(90)) { emulator.openSockets.count == 1 && socket.stats.ready >= 1 }
            return Rig(bot: bot, emulator: emulator, channel: channel, api: api, serving: serving)
        }

        /// A stored plan with its card, clicked Confirm on: its run is under way (and held).
        func clickedPlan() async throws -> (Request, MessageRef) {
            bot.aws.hold()
            let r = try bot.request(Engine.newRequestID(), state: .awaitingConfirmation, environment: SlackDrainTests.staging,
                                    by: Person(id: "U-alice", name: "alice"), in: "C111", policy: SlackDrainTests.policy)
            let ts = try await api.postMessage(channel: "C111", BlockKit.text("plan \(r.id)"))
            let card = MessageRef(role: .request, channel: "C111", ts: ts)
            try await bot.engine.record(card: card, for: r.id)
            try await emulator.wait("a live socket for the click") { !emulator.openSockets.isEmpty }
            try emulator.click("convops.confirm", value: r.id, user: "U-alice", channel: "C111", messageTS: ts)
            try await emulator.wait("the run under way") { bot.aws.running == 1 }
            return (r, card)
        }

        func remove() {
            emulator.shutdown()
            bot.remove()
        }
    }

    @Test func aRunInHandFinishesAndIsShownBeforeTheSocketsClose() async throws {
        let rig = try await Rig.start(drain: .seconds(30))
        defer { rig.remove() }
        let (r, card) = try await rig.clickedPlan()
        let draining = Task { await rig.channel.drain() }
        try await rig.emulator.wait("intake stopped") { !rig.channel.socket.takesEnvelopes }
        // Taking no more. Slack does not retry a slash command: it is answered, with what
        // happened. It does retry an event: that one is left unacknowledged for the next process.
        let late = try rig.emulator.slashCommand("help", user: "U-alice", channel: "C111")
        let event = try rig.emulator.mention("help", user: "U-alice", channel: "C111")
        // The emulator notes an ack the moment it arrives and its text a little later: wait for the text.
        try await rig.emulator.wait("the slash command answered") {
            rig.emulator.ackFrames.contains { $0.contains(late) && $0.contains("ConvOps is restarting, so nothing was done") }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!rig.emulator.acked(event))
        #expect(try rig.bot.store.auditEntries(limit: 50).allSatisfy { $0.action != "help" })
        #expect(rig.emulator.openSockets.count == 1, "the socket stays open while the run is in hand")
        rig.bot.aws.release()
        await draining.value
        #expect(await rig.serving.value == ConnectionMachine.shutDownReason)
        #expect(try rig.bot.store.request(id: r.id)?.state == .succeeded)
        let shown = rig.emulator.messages.first { $0.ts == card.ts }?.text ?? ""
        #expect(shown.contains("Done:"), "the card shows the outcome: \(shown)")
        try await rig.emulator.wait("the socket closed") { rig.emulator.openSockets.isEmpty }
    }

    @Test func aRunThatOutlastsTheBoundIsLeftForTheNextStartToFind() async throws {
        let rig = try await Rig.start(drain: .milliseconds(500))
        defer { rig.remove() }
        let (r, _) = try await rig.clickedPlan()
        let started = ContinuousClock.now
        await rig.channel.drain()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(await rig.serving.value == ConnectionMachine.shutDownReason)
        // Still executing as stored: the next start marks it outcome unknown and never runs it again.
        #expect(try rig.bot.store.request(id: r.id)?.state == .executing)
        rig.bot.aws.release()
    }
}
