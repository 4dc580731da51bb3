import ConvOpsAWS
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWhatsApp
import Foundation
import Testing

/// WhatsApp through `convops run`'s services: signed webhooks from the emulator into the
/// webhook server, the engine, moto for AWS, and the Graph API emulator for what goes back.
@Suite(.serialized) struct WhatsAppEndToEndTests {
    static let alice = "491701234567"

    struct Rig {
        let rig: SlackRig
        let wa: WhatsAppEmulator
        let port: Int
        var url: String { "http://127.0.0.1:\(port)/whatsapp/webhook" }

        static func start() async throws -> Rig {
            let moto = try await SeededMoto.shared.get()
            let wa = try WhatsAppEmulator()
            let port = try FreePort.pick()
            return try await start(moto: moto, wa: wa, port: port, config: Self.config(wa, port: port))
        }

        static func config(_ wa: WhatsAppEmulator, port: Int) -> String {
            """
                {"policy": {"mode": "solo", "rules": [{"who": ["U111"], "intents": ["*"], "environments": ["*"]}]},
                 "whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)",
                              "api_url": "\(wa.apiURL)", "listen": "127.0.0.1:\(port)",
                              "people": [{"number": "+\(WhatsAppEndToEndTests.alice)", "name": "Alice", "slack": "U111"}]}}
                """
        }

        static func start(moto: MotoServer, wa: WhatsAppEmulator, port: Int, config: String) async throws -> Rig {
            let rig = try await SlackRig.start(moto: moto, config: config, extra: [
                "WHATSAPP_TOKEN": WhatsAppEmulator.token, "WHATSAPP_APP_SECRET": WhatsAppEmulator.appSecret,
                "WHATSAPP_VERIFY_TOKEN": WhatsAppEmulator.verifyToken, "CONVOPS_WAIT_POLL_SECONDS": "0.2",
            ])
            let r = Rig(rig: rig, wa: wa, port: port)
            // Listening once a signed empty notification is taken.
            let probe = Data(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
            try await wa.wait("the webhook listening") { true }
            var status = 0
            for _ in 0..<200 where status != 200 {
                status = (try? await wa.post(probe, to: r.url)) ?? 0
                if status != 200 { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(status == 200)
            return r
        }

        func stop(keepingData: Bool = false) async {
            await rig.stop(keepingData: keepingData)
            wa.shutdown()
        }

        /// Texts sent to `to`, in order.
        func texts(to: String = WhatsAppEndToEndTests.alice) -> [String] {
            wa.accepted.filter { $0.to.hasSuffix(to) && $0.type == "text" }.compactMap { $0.body["text"]?["body"]?.string }
        }

        /// The newest interactive message with buttons to `to`: its wamid and button ids.
        func buttons(to: String = WhatsAppEndToEndTests.alice) -> (id: String, buttons: [String])? {
            guard let last = wa.accepted.last(where: { $0.type == "interactive" && $0.to.hasSuffix(to) }),
                  let id = last.messageID else { return nil }
            let ids = (last.body["interactive"]?["action"]?["buttons"]?.array ?? []).compactMap { $0["reply"]?["id"]?.string }
            return (id, ids)
        }
    }

    @Test func aTextCommandGetsButtonsAConfirmTapRebootsAndTheOutcomeComesBack() async throws {
        let r = try await Rig.start()
        defer { Task { await r.stop() } }
        let ask = try r.wa.textWebhook(from: Self.alice, text: "restart web-1", id: "wamid.ASK1")
        #expect(try await r.wa.post(ask, to: r.url) == 200)
        try await r.wa.wait("the plan with its buttons") { r.buttons() != nil }
        let plan = try #require(r.buttons())
        let confirm = try #require(plan.buttons.first { $0.hasPrefix("confirm:r") })
        #expect(plan.buttons.contains { $0.hasPrefix("cancel:r") })
        let text = try #require(r.wa.accepted.last { $0.type == "interactive" }?.body["interactive"]?["body"]?["text"]?.string)
        #expect(text.contains("web-1"), "\(text)")

        // Meta sends the same message again (no 200 in time, say): one plan only.
        #expect(try await r.wa.post(ask, to: r.url) == 200)
        // A tap that names the plan but sits on another message is refused, like a forged Slack click.
        let forged = try r.wa.buttonWebhook(from: Self.alice, buttonID: confirm, title: "Confirm", context: "wamid.SOMETHINGELSE", id: "wamid.FORGED")
        #expect(try await r.wa.post(forged, to: r.url) == 200)
        try await r.wa.wait("the forged tap refused") { r.texts().contains { $0.contains("does not belong") } }

        let tap = try r.wa.buttonWebhook(from: Self.alice, buttonID: confirm, title: "Confirm", context: plan.id, id: "wamid.TAP1")
        #expect(try await r.wa.post(tap, to: r.url) == 200)
        try await r.wa.wait("the outcome") { r.texts().contains { $0.hasPrefix("Done:") } }
        #expect(try await r.wa.post(tap, to: r.url) == 200, "a redelivered tap")
        try await Task.sleep(for: .milliseconds(500))
        #expect(r.wa.accepted.filter { $0.type == "interactive" }.count == 1, "one plan, though the ask came twice")
        #expect(r.texts().filter { $0.hasPrefix("Done:") }.count == 1, "one outcome, though the tap came twice")
        let requestID = String(confirm.dropFirst("confirm:".count))
        let audit = try r.rig.store().auditEntries(requestID: requestID)
        #expect(audit.contains { $0.decision == .executed }, "\(audit)")
        #expect(audit.contains { $0.decision == .confirmed })
        #expect(r.wa.pairRateViolations == 0)
        // Nothing of the conversation is readable in the database: not the number, not the wamids, not what was said.
        let path = try r.rig.store().path
        for file in [path, path + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            for secret in [Self.alice, "wamid.ASK1", plan.id, "restart web-1"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in \(file)")
            }
        }
    }

    @Test func strangersGetOnePoliteNoAndUnsignedPostsNothing() async throws {
        let r = try await Rig.start()
        defer { Task { await r.stop() } }
        let stranger = "4915550001111"
        for i in 0..<3 {
            #expect(try await r.wa.post(try r.wa.textWebhook(from: stranger, text: "restart web-1", id: "wamid.S\(i)"), to: r.url) == 200)
        }
        try await r.wa.wait("the refusal") { !r.texts(to: stranger).isEmpty }
        try await Task.sleep(for: .milliseconds(500))
        #expect(r.texts(to: stranger).count == 1, "\(r.texts(to: stranger))")
        #expect(r.texts(to: stranger).first?.contains("not set up for ConvOps") == true)
        #expect(!r.wa.accepted.contains { $0.type == "interactive" }, "no plan for a stranger")
        // Unsigned or mis-signed: refused before anything is read or kept.
        let body = try r.wa.textWebhook(from: Self.alice, text: "restart web-1", id: "wamid.UNSIGNED")
        #expect(try await r.wa.post(body, to: r.url, signing: .missing) == 401)
        #expect(try await r.wa.post(body, to: r.url, signing: .wrongSecret) == 401)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!r.wa.accepted.contains { $0.to.hasSuffix(Self.alice) })
        #expect(try r.rig.store().pendingWebhooks().isEmpty)
    }

    /// A new number is followed (messages from it reach the same person, answers go to it),
    /// exported with the person, and gone from the database file and its WAL once erased.
    @Test func aChangedNumberIsFollowedExportedAndErased() async throws {
        let r = try await Rig.start()
        let newNumber = "491709999999"
        #expect(try await r.wa.post(try r.wa.numberChangedWebhook(from: Self.alice, to: newNumber), to: r.url) == 200)
        #expect(try await r.wa.post(try r.wa.textWebhook(from: newNumber, text: "whoami"), to: r.url) == 200)
        try await r.wa.wait("the answer at the new number") { !r.texts(to: newNumber).isEmpty }
        #expect(r.texts(to: newNumber).first?.contains("Alice") == true, "\(r.texts(to: newNumber))")
        // The old number is retired for her: whoever has it now is a stranger, not Alice.
        #expect(try await r.wa.post(try r.wa.textWebhook(from: Self.alice, text: "restart web-1"), to: r.url) == 200)
        try await r.wa.wait("the old number refused") { r.texts(to: Self.alice).contains { $0.contains("not set up for ConvOps") } }
        #expect(!r.wa.accepted.contains { $0.type == "interactive" }, "no plan for the old number")
        let database = try r.rig.store().path
        let sealed = try await Subprocess.run("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            print("".join(h for (h,) in c.execute("select hex(number) from whatsapp_numbers")))
            """, database], environment: ProcessInfo.processInfo.environment)
        let blob = sealed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(blob.count > 40, "the new number is kept, sealed: \(sealed.stderr)")
        await r.stop(keepingData: true)
        defer { r.rig.scenario.remove() }
        let env = r.rig.scenario.environment
        let export = try await convops(["data", "export", "--person", "U111"], environment: env)
        #expect(export.stdout.contains("+\(newNumber)"), "\(export.stdout.prefix(500)) \(export.stderr)")
        let erase = try await convops(["data", "erase", "--person", "U111"], environment: env)
        #expect(erase.status == 0, "\(erase.stderr)")
        let needle = Data(stride(from: 0, to: blob.count, by: 2).compactMap { i -> UInt8? in
            let start = blob.index(blob.startIndex, offsetBy: i)
            return UInt8(blob[start..<blob.index(start, offsetBy: 2)], radix: 16)
        }.prefix(24))
        for file in [database, database + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: needle) == nil, "the sealed number is still in \(file)")
            for plain in [newNumber, Self.alice] { #expect(bytes.range(of: Data(plain.utf8)) == nil, "\(plain) in \(file)") }
        }
    }

    /// How a WhatsApp person linked to a Slack user stands is what Slack says of that user
    /// (users.info through the Slack side): someone deactivated in Slack gets nothing a "*"
    /// rule gives, though the WhatsApp config still names them; a member does.
    @Test func aDeactivatedSlackUserGetsNothingOnWhatsApp() async throws {
        let moto = try await SeededMoto.shared.get()
        let wa = try WhatsAppEmulator()
        let port = try FreePort.pick()
        let dave = "491705550000"
        let config = """
            {"policy": {"mode": "solo", "rules": [{"who": ["*"], "intents": ["*"], "environments": ["*"]}]},
             "whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)",
                          "api_url": "\(wa.apiURL)", "listen": "127.0.0.1:\(port)",
                          "people": [{"number": "+\(Self.alice)", "name": "Alice", "slack": "U111"},
                                     {"number": "+\(dave)", "name": "Dave", "slack": "U444"}]}}
            """
        let r = try await Rig.start(moto: moto, wa: wa, port: port, config: config)
        defer { Task { await r.stop() } }
        r.rig.emulator.addUser("U444", name: "Dave", deleted: true)
        #expect(try await r.wa.post(try r.wa.textWebhook(from: dave, text: "restart web-1"), to: r.url) == 200)
        #expect(try await r.wa.post(try r.wa.textWebhook(from: Self.alice, text: "restart web-1"), to: r.url) == 200)
        try await r.wa.wait("Alice's plan") { r.buttons(to: Self.alice) != nil }
        try await r.wa.wait("Dave's answer") { !r.texts(to: dave).isEmpty }
        #expect(r.buttons(to: dave) == nil, "no plan for a deactivated account: \(r.texts(to: dave))")
    }
}
