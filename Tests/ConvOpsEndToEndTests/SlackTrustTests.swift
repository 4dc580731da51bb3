import ConvOpsCore
import ConvOpsSlack
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Who may reach the policy at all (this workspace, this app; members, not guests), where
/// answers go (threads, or only the asker), and typed approvals held to the same check as
/// buttons. All through the emulator, as Slack would deliver it.
@Suite struct SlackTrustTests {
    static let policy = """
        {"policy": {
          "mode": "team",
          "groups": {"oncall": ["U111", "U777"], "leads": ["U222"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "help", "whoami", "logs", "cancel", "approve", "reject"]},
            {"who": ["group:oncall", "group:leads"], "intents": ["restart"], "environments": ["staging", "prod"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]}
        },
        "slack_approval_channel": "CAPPROVE1",
        "channels": {"CSHARED1": {"share_logs": true}}}
        """

    @Test func envelopesFromAnotherWorkspaceOrAppAreRefusedAuditedAndDropped() async throws {
        let moto = try await SeededMoto.shared.get("SlackTrust")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        let foreign = try e.slashCommand("restart web-2", user: "U111", team: "T999")
        let otherApp = try e.slashCommand("restart web-2", user: "U111", app: "A999")
        try e.mention("restart web-2", user: "U111", enterprise: "E999")
        try await e.wait("three refusals in the audit log") {
            ((try? rig.store().auditEntries(limit: 10)) ?? []).filter { $0.outcome?.hasPrefix("envelope from elsewhere") == true }.count == 3
        }
        let outcomes = try rig.store().auditEntries(limit: 10).map(\.outcome)
        #expect(outcomes.contains("envelope from elsewhere: team_id T999 is not T111"))
        #expect(outcomes.contains("envelope from elsewhere: api_app_id A999 is not A111"))
        #expect(outcomes.contains("envelope from elsewhere: enterprise_id E999 is not none"))
        // Acknowledged, so Slack does not send them again; answered with nothing, planned nothing.
        #expect(e.acked(foreign) && e.acked(otherApp))
        #expect(e.ephemerals.isEmpty && e.messages.isEmpty)
        #expect(try rig.store().requests(in: RequestState.allCases).isEmpty)
    }

    @Test func guestsAndOutsidersCanDoOnlyWhatThePolicyNamesThemFor() async throws {
        let moto = try await SeededMoto.shared.get("SlackTrust")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        e.addUser("U444", name: "Gina", restricted: true)
        e.addUser("U555", name: "Xavier", team: "T999")
        e.addUser("U666", name: "Stan", stranger: true)
        // "*" grants status to members; a guest, a Slack Connect user and a stranger are not members.
        for user in ["U444", "U555", "U666"] { try e.slashCommand("status web-1", user: user) }
        try await e.wait("three refusals") { e.ephemerals.filter { $0.text.contains("You may not status") }.count == 3 }
        // A guest the policy names (in oncall) may do what it names them for, and only that.
        e.addUser("U777", name: "Gwen", restricted: true)
        try e.slashCommand("restart web-2", user: "U777")
        _ = try await rig.waitForCard(.confirm)
        try e.slashCommand("status web-1", user: "U777")
        try await e.wait("the fourth refusal") { e.ephemerals.filter { $0.text.contains("You may not status") }.count == 4 }
    }

    @Test func errorsAndLogLinesGoOnlyToTheAskerUnlessTheChannelSharesThem() async throws {
        let moto = try await SeededMoto.shared.get("SlackTrust")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        try e.mention("how is web-1 doing?", user: "U111", channel: "C222")
        try await e.wait("the status answer") { e.messages.contains { $0.channel == "C222" && $0.text.contains("web-1") } }
        let status = try #require(e.messages.first { $0.channel == "C222" && $0.text.contains("web-1") })
        #expect(status.threadTS != nil, "a status answer goes in the mention's thread")
        try e.mention("logs web-1", user: "U111", channel: "C222")
        try e.mention("restart nothing-here-1", user: "U111", channel: "C222")
        try await e.wait("two private answers") { e.ephemerals.filter { $0.channel == "C222" && $0.user == "U111" }.count == 2 }
        #expect(e.ephemerals.allSatisfy { $0.threadTS != nil })
        #expect(e.messages.filter { $0.channel == "C222" }.count == 1, "only the status answer is public")
        // A channel configured to share them shows the same answers in the thread.
        try e.mention("logs web-1", user: "U111", channel: "CSHARED1")
        try await e.wait("the shared answer") { e.messages.contains { $0.channel == "CSHARED1" } }
        #expect(e.messages.first { $0.channel == "CSHARED1" }?.threadTS != nil)
    }

    @Test func aTypedApprovalIsScopedToItsChannelAndNamesThePlan() async throws {
        let moto = try await SeededMoto.shared.get("SlackTrust")
        let rig = try await SlackRig.start(moto: moto, config: Self.policy)
        defer { Task { await rig.stop() } }
        try await moto.startRecording()
        let e = rig.emulator
        try e.slashCommand("restart web-1", user: "U111")
        let card = try await rig.waitForCard(.confirm)
        try e.click("convops.confirm", value: card.value, user: "U111", messageTS: card.ts)
        _ = try await rig.waitForCard(.approve, in: "CAPPROVE1")
        // Elsewhere, a bare "approve" finds nothing, and naming the plan is refused and audited.
        try e.mention("approve", user: "U222", channel: "C999")
        try e.mention("approve \(card.value)", user: "U222", channel: "C999")
        try await e.wait("two answers in C999") { e.ephemerals.filter { $0.channel == "C999" }.count + e.messages.filter { $0.channel == "C999" }.count == 2 }
        let c999 = e.ephemerals.filter { $0.channel == "C999" }.map(\.text) + e.messages.filter { $0.channel == "C999" }.map(\.text)
        #expect(c999.contains { $0.contains("No plan made in this channel is waiting for approval.") }, "\(c999)")
        #expect(c999.contains { $0.contains("Plan \(card.value) was made in another channel; decide on it there.") }, "\(c999)")
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        // In the approval channel, a bare "approve" approves the one plan waiting there.
        try e.mention("approve", user: "U222", channel: "CAPPROVE1")
        try await e.wait("the outcome") { rig.message(card.ts)?.text.contains("was rebooted") == true }
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)
        let decisions = try rig.store().auditEntries(requestID: card.value)
        #expect(decisions.map(\.decision) == [.requested, .confirmed, .refused, .approved, .executed])
        #expect(decisions.first { $0.decision == .refused }?.outcome == "decided outside the request's channel")
    }
}
