import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWhatsApp
import Foundation
import Testing

/// The two-person rule across channels: asked for in Slack and approved on WhatsApp (as the
/// approval template: the approver has not written in 24 hours), and the other way round.
@Suite(.serialized) struct WhatsAppApprovalTests {
    static let alice = "491701234567" // U111, an approver
    static let carol = "491701234568" // U333, asks for things

    static func config(_ wa: WhatsAppEmulator, port: Int) -> String {
        """
        {"policy": {
          "mode": "team",
          "groups": {"oncall": ["U111", "U222", "U333"], "leads": ["U111", "U222"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "help", "whoami", "cancel", "approve", "reject"]},
            {"who": ["group:oncall"], "intents": ["restart"], "environments": ["*"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]}
        },
        "slack_approval_channel": "CAPPROVE1",
        "whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)",
                     "api_url": "\(wa.apiURL)", "listen": "127.0.0.1:\(port)",
                     "people": [{"number": "+\(alice)", "name": "Alice", "slack": "U111"},
                                {"number": "+\(carol)", "name": "Carol", "slack": "U333"}]}}
        """
    }

    static func start() async throws -> WhatsAppEndToEndTests.Rig {
        let moto = try await SeededMoto.shared.get("WhatsAppApproval")
        let wa = try WhatsAppEmulator()
        let port = try FreePort.pick()
        return try await WhatsAppEndToEndTests.Rig.start(moto: moto, wa: wa, port: port, config: config(wa, port: port))
    }

    @Test func askedInSlackApprovedOnWhatsAppOutsideTheWindow() async throws {
        let r = try await Self.start()
        defer { Task { await r.stop() } }
        let e = r.rig.emulator
        try e.slashCommand("restart web-1", user: "U222")
        let card = try await r.rig.waitForCard(.confirm)
        try e.click("convops.confirm", value: card.value, user: "U222", messageTS: card.ts)
        // Alice has not written in 24 hours: the approval reaches her as the template.
        try await r.wa.wait("the approval template to Alice") {
            r.wa.accepted.contains { $0.to.hasSuffix(Self.alice) && $0.type == "template" && $0.body["template"]?["name"] == "convops_approval" }
        }
        #expect(r.wa.sends.contains { $0.to.hasSuffix(Self.alice) && $0.refused == 131047 }, "the buttons first, refused outside the window")
        let approval = try await r.rig.waitForCard(.approve, in: "CAPPROVE1")
        let template = try #require(r.wa.accepted.last { $0.type == "template" })
        let payloads = (template.body["template"]?["components"]?.array ?? []).compactMap { $0["parameters"]?[0]?["payload"]?.string }
        #expect(payloads == ["approve:\(card.value)", "reject:\(card.value)"], "only the opaque request id")
        // Her tap on the template's quick reply approves it; Bob's Slack card shows the outcome.
        let tap = try r.wa.templateButtonWebhook(from: Self.alice, payload: payloads[0], text: "Approve", context: template.messageID)
        #expect(try await r.wa.post(tap, to: r.url) == 200)
        try await e.wait("Bob's card shows the reboot") { r.rig.message(card.ts)?.text.contains("was rebooted") == true }
        try await r.wa.wait("Alice hears how it went") { r.texts(to: Self.alice).contains { $0.contains("was rebooted") } }
        let audit = try r.rig.store().auditEntries(requestID: card.value)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .approved, .executed], "\(audit.map(\.decision))")
        // The Slack approval card is decided too: it shows the outcome, no buttons left.
        try await e.wait("the Slack approval card decided") { r.rig.message(approval.ts)?.text.contains("was rebooted") == true }
        #expect(!r.rig.hasButtons(approval.ts))
    }

    @Test func askedOnWhatsAppApprovedInSlack() async throws {
        let r = try await Self.start()
        defer { Task { await r.stop() } }
        let e = r.rig.emulator
        #expect(try await r.wa.post(try r.wa.textWebhook(from: Self.carol, text: "restart web-1"), to: r.url) == 200)
        try await r.wa.wait("Carol's plan") { r.buttons(to: Self.carol) != nil }
        let plan = try #require(r.buttons(to: Self.carol))
        let confirm = try #require(plan.buttons.first { $0.hasPrefix("confirm:") })
        let id = String(confirm.dropFirst("confirm:".count))
        #expect(try await r.wa.post(try r.wa.buttonWebhook(from: Self.carol, buttonID: confirm, title: "Confirm", context: plan.id), to: r.url) == 200)
        // Waiting for approval: said to Carol, put before Slack's approvers in their channel, and Alice on WhatsApp.
        try await r.wa.wait("Carol told it waits") { r.texts(to: Self.carol).contains { $0.contains("approve") } }
        let approval = try await r.rig.waitForCard(.approve, in: "CAPPROVE1")
        #expect(approval.value == id)
        // Carol may not approve her own plan, in any channel.
        try e.click("convops.approve", value: id, user: "U333", channel: "CAPPROVE1", messageTS: approval.ts)
        try await e.wait("Carol refused") { e.ephemerals.contains { $0.user == "U333" } }
        // Bob approves in Slack: it runs, and Carol hears of it on WhatsApp.
        try e.click("convops.approve", value: id, user: "U222", channel: "CAPPROVE1", messageTS: approval.ts)
        try await r.wa.wait("Carol hears the outcome") { r.texts(to: Self.carol).contains { $0.contains("was rebooted") } }
        try await e.wait("the approval card shows it") { r.rig.message(approval.ts)?.text.contains("was rebooted") == true }
        let audit = try r.rig.store().auditEntries(requestID: id)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .refused, .approved, .executed], "\(audit.map(\.decision))")
        #expect(r.wa.pairRateViolations == 0)
    }
}
