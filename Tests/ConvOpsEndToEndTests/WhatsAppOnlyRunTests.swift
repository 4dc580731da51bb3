import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// The shipped `convops run` with WhatsApp and no Slack at all (a Solo customer who lives on
/// WhatsApp): the Graph API emulator and moto on loopback, no Slack tokens, no Slack emulator.
@Suite struct WhatsAppOnlyRunTests {
    static let alice = "491701234567"

    func environment(_ scenario: Scenario) -> [String: String] {
        var env = scenario.environment.merging([
            "WHATSAPP_TOKEN": WhatsAppEmulator.token, "WHATSAPP_APP_SECRET": WhatsAppEmulator.appSecret,
            "WHATSAPP_VERIFY_TOKEN": WhatsAppEmulator.verifyToken, "CONVOPS_WAIT_POLL_SECONDS": "0.2",
        ]) { $1 }
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        return env
    }

    /// Alice is known only on WhatsApp: the policy names her by her number.
    static func config(_ wa: WhatsAppEmulator, port: Int, extra: String = "") -> String {
        """
        {"policy": {"mode": "solo", "rules": [{"who": ["+\(alice)"], "intents": ["*"], "environments": ["*"]}]},
         "whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)",
                      "api_url": "\(wa.apiURL)", "listen": "127.0.0.1:\(port)",
                      "people": [{"number": "+\(alice)", "name": "Alice"}]}\(extra)}
        """
    }

    @Test func whatsAppAloneServesAPlanItsTapAndParksWhatMetaWouldNotDeliver() async throws {
        let moto = try await SeededMoto.shared.get("WhatsAppOnly")
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let port = try FreePort.pick()
        let scenario = try Scenario(moto: moto, config: Self.config(wa, port: port))
        defer { scenario.remove() }
        let env = environment(scenario)
        let process = try RunningProcess(convopsBinary, ["run"], environment: env, currentDirectory: repositoryRoot)
        let url = "http://127.0.0.1:\(port)/whatsapp/webhook"
        let probe = Data(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
        var status = 0
        for _ in 0..<400 where status != 200 {
            status = (try? await wa.post(probe, to: url)) ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(status == 200, "the webhook of a process without Slack")

        #expect(try await wa.post(try wa.textWebhook(from: Self.alice, text: "restart web-1"), to: url) == 200)
        try await wa.wait("the plan with its buttons") { wa.accepted.contains { $0.type == "interactive" } }
        let plan = try #require(wa.accepted.last { $0.type == "interactive" })
        let buttons = (plan.body["interactive"]?["action"]?["buttons"]?.array ?? []).compactMap { $0["reply"]?["id"]?.string }
        let confirm = try #require(buttons.first { $0.hasPrefix("confirm:") })
        let tap = try wa.buttonWebhook(from: Self.alice, buttonID: confirm, title: "Confirm", context: plan.messageID)
        #expect(try await wa.post(tap, to: url) == 200)
        @Sendable func texts() -> [String] { wa.accepted.filter { $0.type == "text" }.compactMap { $0.body["text"]?["body"]?.string } }
        try await wa.wait("the outcome") { texts().contains { $0.hasPrefix("Done:") } }

        // Meta will not deliver the next answer (not on WhatsApp any more, say): it is parked, not just logged.
        wa.fail(to: "+" + Self.alice, code: 131026)
        #expect(try await wa.post(try wa.textWebhook(from: Self.alice, text: "whoami"), to: url) == 200)
        try await wa.wait("the refused send") { wa.sends.contains { $0.refused == 131026 } }
        try await Task.sleep(for: .milliseconds(300))

        process.signal(SIGTERM)
        let result = await process.wait()
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("convops: WhatsApp only"), "\(result.stdout)")
        #expect(result.stdout.contains("convops: stopped"))
        #expect(!result.stderr.contains(WhatsAppEmulator.token) && !result.stderr.contains(Self.alice))

        let listed = try await convops(["whatsapp", "undelivered"], environment: env)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("to Alice (+49…567)"), "\(listed.stdout)")
        #expect(listed.stdout.contains("a reply") && listed.stdout.contains("#131026"), "\(listed.stdout)")
        #expect(listed.stdout.contains("ask the person to open and update WhatsApp"), "what to do next")
        let json = try await convops(["whatsapp", "undelivered", "--json"], environment: env)
        let line = try #require(json.stdout.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["code"] as? Int == 131026)
        #expect(object["what"] as? String == "a reply")
        // The number is in no row: the conversation's keyed name and the person's keyed index only.
        for file in [scenario.database, scenario.database + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            #expect(bytes.range(of: Data(Self.alice.utf8)) == nil, "the number in \(file)")
        }
        let export = try await convops(["data", "export", "--person", "+" + Self.alice], environment: env)
        #expect(export.stdout.contains("131026"), "exported with the person: \(export.stdout.prefix(600)) \(export.stderr)")
        let forget = try await convops(["whatsapp", "forget", "--all"], environment: env)
        #expect(forget.stdout.contains("forgot 1 undelivered message"), "\(forget.stdout) \(forget.stderr)")
        let none = try await convops(["whatsapp", "undelivered"], environment: env)
        #expect(none.stdout.contains("no undelivered WhatsApp messages"))
        let neither = try await convops(["whatsapp", "forget"], environment: env)
        #expect(neither.status != 0 && neither.stderr.contains("give one id, or --all"))
    }

    /// Without Slack, what only Slack could show is refused at start with what to do: alerts
    /// routed to Slack channels; one Slack token without the other is still named.
    @Test func withoutSlackAlertsForSlackChannelsAndHalfATokenAreRefusedAtStart() async throws {
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let port = try FreePort.pick()
        let alerts = #", "alerts": {"queue_url": "http://127.0.0.1:1/000000000000/alarms", "default_channels": ["C0OPS000001"]}"#
        let scenario = try Scenario(moto: nil, config: Self.config(wa, port: port, extra: alerts))
        defer { scenario.remove() }
        let refused = try await convops(["run"], environment: environment(scenario))
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("alerts are routed to Slack channels (C0OPS000001), but Slack is not connected"), "\(refused.stderr)")
        // People only, but nobody for alarms no route matches: refused, naming default_people.
        let peopleOnly = try Scenario(moto: nil, config: Self.config(wa, port: port, extra: """
            , "alerts": {"queue_url": "http://127.0.0.1:1/000000000000/alarms", "routes": [{"match": {"alarm": "api-*"}, "people": ["+\(Self.alice)"]}]}
            """))
        defer { peopleOnly.remove() }
        let noDefault = try await convops(["run"], environment: environment(peopleOnly))
        #expect(noDefault.status == 2)
        #expect(noDefault.stderr.contains("set alerts.default_people"), "\(noDefault.stderr)")
        // Someone a route names who is not in whatsapp.people: refused at start, the number cut short.
        let stranger = try Scenario(moto: nil, config: Self.config(wa, port: port, extra: """
            , "alerts": {"queue_url": "http://127.0.0.1:1/000000000000/alarms", "default_people": ["+\(Self.alice)"],
                         "routes": [{"match": {"alarm": "api-*"}, "people": ["+15550001111"]}]}
            """))
        defer { stranger.remove() }
        let unknown = try await convops(["run"], environment: environment(stranger))
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("alerts name people who are not in whatsapp.people (1: +155…)"), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("15550001111"))
        var half = environment(scenario)
        half["SLACK_APP_TOKEN"] = "xapp-1-A1-1-abc"
        let oneToken = try await convops(["run"], environment: half)
        #expect(oneToken.status == 2)
        #expect(oneToken.stderr.contains("SLACK_BOT_TOKEN must be set"), "\(oneToken.stderr)")
    }

    /// A start refused at once ends with its code, never a crash: `convops run` begins its TLS
    /// set-up on another thread first thing, and exiting while that thread was inside OpenSSL
    /// crashed in OpenSSL's exit handlers (6 of 150 starts on a busy machine, SIGSEGV).
    @Test func aRefusedStartEndsWithItsCodeEveryTime() async throws {
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let scenario = try Scenario(moto: nil, config: Self.config(wa, port: try FreePort.pick()))
        defer { scenario.remove() }
        var half = environment(scenario)
        half["SLACK_APP_TOKEN"] = "xapp-1-A1-1-abc"
        var statuses: [Int32] = []
        for _ in 0..<30 { statuses.append(try await convops(["run"], environment: half).status) }
        #expect(statuses == Array(repeating: 2, count: 30))
    }
}
