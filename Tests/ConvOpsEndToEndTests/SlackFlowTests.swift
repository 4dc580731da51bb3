import ConvOpsCore
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// The whole Slack flow against the emulator and moto: slash command, card, clicks, AWS, card updates.
@Suite(.serialized) struct SlackFlowTests {
    @Test func slashCommandPlanConfirmRebootAndCardUpdated() async throws {
        let moto = try await SeededMoto.shared.get()
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()

        let envelope = try rig.emulator.slashCommand("restart web-1", user: "U111", channel: "C111")
        let card = try await rig.waitForCard(.confirm)
        #expect(rig.emulator.acked(envelope))
        let posted = try #require(rig.message(card.ts))
        #expect(posted.text == "Alice asked to restart web-1 (plan \(card.value))")
        let cardText = posted.blocks.text
        #expect(cardText.contains("EC2 instance web-1"))
        #expect(cardText.contains("ec2:RebootInstances InstanceIds=i-"))
        #expect(cardText.contains("eu-west-1"))
        #expect(rig.card(with: .cancel)?.value == card.value)

        let click = try rig.emulator.click("convops.confirm", value: card.value, user: "U111", channel: "C111", messageTS: card.ts)
        try await rig.emulator.wait("the card to show the outcome") { rig.message(card.ts)?.text.contains("Done:") == true }
        #expect(rig.emulator.acked(click))
        #expect(!rig.hasButtons(card.ts))
        let versions = try #require(rig.message(card.ts)?.versions.map { $0["text"]?.string ?? "" })
        #expect(versions.count == 3)
        #expect(versions[1].contains("Confirmed. Running restart web-1"))
        #expect(versions[2].contains("was rebooted (as arn:aws:sts::123456789012:user/moto)"))

        let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1)
        let audit = try rig.store().auditEntries(requestID: card.value)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .executed])
    }
}
