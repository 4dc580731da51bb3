import ConvOpsCore
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Every Slack end-to-end suite, one after another: they share one seeded moto (whose request
/// recorder each test resets), rather than starting a Python server each on two cores.
@Suite(.serialized) struct SlackEndToEnd {}

extension SlackEndToEnd {
/// The whole Slack flow against the emulator and moto: slash command, card, clicks, AWS, card updates.
@Suite struct SlackFlowTests {
    @Test func slashCommandPlanConfirmRebootAndCardUpdated() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
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
        let history = try #require(rig.message(card.ts)?.versions)
        let versions = history.map { $0["text"]?.string ?? "" }
        // Posted without buttons, recorded, then given its buttons: no click can come first.
        #expect(versions.count == 4)
        let hasButtons = history.map { ($0["blocks"]?.array ?? []).contains { $0["type"]?.string == "actions" } }
        #expect(hasButtons == [false, true, false, false])
        #expect(versions[2].contains("Confirmed. Running restart web-1"))
        #expect(versions[3].contains("was rebooted (as arn:aws:sts::123456789012:user/moto)"))

        let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1)
        let audit = try rig.store().auditEntries(requestID: card.value)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .executed])
    }
}

/// Approvals, refusals and every click checked against the person and the message.
@Suite struct SlackPolicyTests {
    static let policy = """
        {"policy": {
          "mode": "team",
          "groups": {"oncall": ["U111"], "leads": ["U222"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "help", "whoami", "cancel", "approve", "reject"]},
            {"who": ["group:oncall", "group:leads"], "intents": ["restart"], "environments": ["*"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]}
        },
        "slack_approval_channel": "CAPPROVE1"}
        """

    @Test func aProdRestartNeedsASecondPersonsApproval() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator

        try e.slashCommand("restart web-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        // A production change asks once more before it is confirmed.
        let confirmButton = rig.message(card.ts)?.blocks.array?.last?["elements"]?[0]
        #expect(confirmButton?["confirm"]?["title"]?["text"]?.string == "Run this in production?")

        try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts)
        let approval = try await rig.waitForCard(.approve, in: "CAPPROVE1")
        #expect(approval.value == card.value)
        #expect(rig.message(approval.ts)?.text == "Approval needed: Alice wants to restart web-1 (plan \(card.value))")
        #expect(rig.message(card.ts)?.text.contains("needs a second person to approve it") == true)
        #expect(!rig.hasButtons(card.ts))

        // The requester is no approver: refused privately, audited, nothing runs.
        try e.click("convops.approve", value: approval.value, user: "U111", channel: "CAPPROVE1", messageTS: approval.ts)
        try await e.wait("the refusal") { e.ephemerals.contains { $0.user == "U111" && $0.text.contains("approve") } }
        #expect(rig.hasButtons(approval.ts))

        // A lead approves: it runs, and both cards show the outcome without buttons.
        try e.click("convops.approve", value: approval.value, user: "U222", channel: "CAPPROVE1", messageTS: approval.ts)
        try await e.wait("the outcome on both cards") {
            rig.message(card.ts)?.text.contains("was rebooted") == true && rig.message(approval.ts)?.text.contains("was rebooted") == true
        }
        #expect(!rig.hasButtons(approval.ts))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)
        let decisions = try rig.store().auditEntries(requestID: card.value).map(\.decision)
        #expect(decisions == [.requested, .confirmed, .refused, .approved, .executed])
    }

    @Test func aClickBySomeoneTheRulesDoNotAllowIsRefusedAndAudited() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator
        try e.slashCommand("restart worker-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        // Carol (U333) may not restart anything; the button is on the card all the same.
        try e.click("convops.confirm", value: card.value, user: "U333", messageTS: card.ts)
        try await e.wait("the refusal to Carol") { e.ephemerals.contains { $0.user == "U333" } }
        #expect(e.ephemerals.first { $0.user == "U333" }?.text.contains("not allowed") == true
                || e.ephemerals.first { $0.user == "U333" }?.text.contains("may not") == true)
        // Bob may restart, but this is Alice's plan: only she can confirm it.
        try e.click("convops.confirm", value: card.value, user: "U222", messageTS: card.ts)
        try await e.wait("the refusal to Bob") { e.ephemerals.contains { $0.user == "U222" } }
        #expect(e.ephemerals.first { $0.user == "U222" }?.text == "Only Alice, who asked for plan \(card.value), can confirm or cancel it.")
        #expect(rig.hasButtons(card.ts))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        let audit = try rig.store().auditEntries(requestID: card.value)
        #expect(audit.map(\.decision) == [.requested, .refused, .refused])
        // The requester can still cancel it, and the card says so.
        try e.click("convops.cancel", value: card.value, user: "U111", messageTS: card.ts)
        try await e.wait("the cancelled card") { rig.message(card.ts)?.text.contains("Cancelled plan") == true }
        #expect(!rig.hasButtons(card.ts))
    }

    @Test func aForgedButtonValueIsRefused() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator
        try e.slashCommand("restart web-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        // The right request id on another message, a made-up id, a hostile value, an unknown action.
        try e.click("convops.confirm", value: card.value, user: "U111", messageTS: "1767225600.999999")
        try e.click("convops.confirm", value: "rzzzzzzz", user: "U111", messageTS: card.ts)
        try e.click("convops.confirm", value: "'; DROP TABLE requests; --", user: "U111", messageTS: card.ts)
        try e.click("convops.approve", value: card.value, user: "U111", messageTS: card.ts)
        try e.click("convops.nuke", value: card.value, user: "U111", messageTS: card.ts)
        try await e.wait("five refusals") { e.ephemerals.filter { $0.user == "U111" }.count == 5 }
        let texts = e.ephemerals.filter { $0.user == "U111" }.map(\.text)
        #expect(texts.filter { $0.hasPrefix("That button does not belong to a ConvOps plan") }.count == 4)
        #expect(texts.filter { $0.hasPrefix("ConvOps does not know that button") }.count == 1)
        #expect(rig.hasButtons(card.ts))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        #expect(try rig.store().requests(in: [.awaitingConfirmation]).map(\.id) == [card.value])
        let refused = try rig.store().auditEntries(limit: 20).filter { $0.decision == .refused }
        #expect(refused.count == 5)
        #expect(try rig.store().verifyAudit() == .intact(entries: 6, from: 0))
    }
}

/// What a flaky network and a repeating Slack must never do: lose a command, or run it twice.
@Suite struct SlackResilienceTests {
    @Test func aDuplicatedClickExecutesOnce() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator
        let slash = try e.slashCommand("restart web-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        try e.resend(slash) // the slash command again: still one plan
        let click = try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts)
        try e.resend(click) // the same envelope twice
        try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts) // a double click
        try await e.wait("the outcome") { rig.message(card.ts)?.text.contains("was rebooted") == true }
        try await e.wait("every envelope acked") { e.unacked.isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)
        #expect(e.messages.filter { $0.text.contains("asked to restart") }.count == 1)
        #expect(try rig.store().auditEntries(requestID: card.value).map(\.decision) == [.requested, .confirmed, .executed])
    }

    @Test func aDisconnectAndADroppedConnectionMidFlowLoseNothing() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator
        try e.slashCommand("restart web-2", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        let sockets = e.openSockets
        // One socket's TCP dies, the other is told to refresh; the click comes in between.
        e.dropTCP(sockets[0])
        try await e.disconnect(sockets[1], reason: "refresh_requested")
        let click = try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts)
        try await e.wait("the click acked") { e.acked(click) }
        try await e.wait("the outcome") { rig.message(card.ts)?.text.contains("was rebooted") == true }
        try await e.wait("two fresh sockets", timeout: .seconds(20)) { Set(e.openSockets).isDisjoint(with: sockets) && e.openSockets.count == 2 }
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)
    }

    @Test func aRateLimitStormDelaysTheCardButLosesNoUpdate() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        e.rateLimit("chat.postMessage", times: 2, retryAfter: 1)
        e.rateLimit("chat.update", times: 3, retryAfter: 1)
        try e.slashCommand("restart worker-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts)
        try await e.wait("the outcome") { rig.message(card.ts)?.text.contains("was rebooted") == true }
        let versions = rig.message(card.ts)?.versions.compactMap { $0["text"]?.string } ?? []
        #expect(versions.count == 4, "posted, given buttons, running, done: \(versions)")
        #expect(e.calls("chat.update").count == 6)
    }

    @Test func mentionsAndDirectMessagesAreAnsweredInPlace() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        let event = try e.mention("how is web-1 doing?", user: "U111", channel: "C222")
        try await e.wait("the answer in the thread") { e.messages.contains { $0.channel == "C222" && $0.text.contains("web-1") } }
        let answer = try #require(e.messages.first { $0.channel == "C222" })
        #expect(answer.threadTS != nil)
        #expect(answer.text.contains("running"))
        // The same event redelivered by Slack (retry_attempt 1) is not answered twice.
        try e.mention("how is web-1 doing?", user: "U111", channel: "C222", eventID: event, retry: 1)
        try await Task.sleep(for: .milliseconds(500))
        #expect(e.messages.filter { $0.channel == "C222" }.count == 1)
    }

    /// Two threads in one channel are two conversations: "restart it" in each means what that
    /// thread was about; at the top level it means the last thing asked there.
    @Test func restartItInAThreadMeansWhatThatThreadWasAbout() async throws {
        let moto = try await SeededMoto.shared.get("Slack")
        let rig = try await SlackRig.start(moto: moto)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        func answer(containing text: String, after count: Int) async throws -> SlackEmulator.Message {
            try await e.wait("an answer with \(text)") { e.messages.filter { $0.channel == "C444" }.count > count }
            return try #require(e.messages.filter { $0.channel == "C444" }.dropFirst(count).first)
        }
        try e.mention("how is web-1 doing?", user: "U111", channel: "C444")
        let first = try await answer(containing: "web-1", after: 0)
        try e.mention("how is web-2 doing?", user: "U111", channel: "C444")
        let second = try await answer(containing: "web-2", after: 1)
        let (thread1, thread2) = (try #require(first.threadTS), try #require(second.threadTS))
        #expect(thread1 != thread2)
        // Into the first thread, after the second question: the first thread's web-1.
        try e.mention("restart it", user: "U111", channel: "C444", threadTS: thread1)
        let plan1 = try await answer(containing: "web-1", after: 2)
        #expect(plan1.threadTS == thread1)
        #expect(plan1.text.contains("web-1") && !plan1.text.contains("web-2"), "\(plan1.text)")
        try e.mention("restart it", user: "U111", channel: "C444", threadTS: thread2)
        let plan2 = try await answer(containing: "web-2", after: 3)
        #expect(plan2.text.contains("web-2") && !plan2.text.contains("web-1"), "\(plan2.text)")
        // Someone else's thread says nothing of Alice's: Bob's "restart it" there asks which.
        try e.mention("restart it", user: "U222", channel: "C444", threadTS: thread1)
        try await e.wait("Bob asked which") { e.ephemerals.contains { $0.user == "U222" && $0.channel == "C444" } }
        let bobs = try #require(e.ephemerals.first { $0.user == "U222" && $0.channel == "C444" })
        #expect(bobs.text.contains("Which resource") && bobs.threadTS == thread1, "\(bobs.text)")
        #expect(e.messages.filter { $0.channel == "C444" }.count == 4, "no plan for Bob")
        // At the top level, "it" is the last thing asked there: web-2.
        try e.mention("restart it", user: "U111", channel: "C444")
        let top = try await answer(containing: "web-2", after: 4)
        #expect(top.text.contains("web-2") && !top.text.contains("web-1"), "\(top.text)")
    }
}
}
