import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Team mode from a config file: who may request, who must approve, refusals audited.
@Suite(.serialized) struct PolicyEndToEndTests {
    static let teamPolicy = """
        {"policy": {
          "mode": "team",
          "groups": {"oncall": ["console:alice", "console:carol"], "leads": ["console:bob"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "help", "whoami", "cancel", "approve", "reject"]},
            {"who": ["group:oncall", "group:leads"], "intents": ["restart"], "environments": ["*"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]},
          "expiry_seconds": 600
        }}
        """

    func scenario(_ moto: MotoServer, config: String) throws -> Scenario {
        let dir = try makeTemporaryDirectory("policy")
        try config.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
        return try Scenario(moto: moto, extra: ["CONVOPS_CONFIG": dir + "/convops.json"])
    }

    @Test func aProdRestartNeedsALeadsApproval() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try scenario(moto, config: Self.teamPolicy)
        defer { s.remove() }
        try await moto.startRecording()
        let script = """
            restart web-1 in prod
            confirm
            approve
            /as carol
            approve
            /as bob
            approve
            """
        let out = try await convops(["chat", "--as", "alice"], stdin: script + "\n", environment: s.environment).stdout
        #expect(out.contains("now needs a second person to approve it."))
        #expect(out.contains("convops: Only approvers named in the policy can approve or reject plans."), "alice and carol are no approvers")
        #expect(out.contains(#/convops: Done: web-1 \(i-[0-9a-f]{17}\) was rebooted/#))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)
        let store = try s.store()
        let audit = try store.auditEntries(limit: 20)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .refused, .refused, .approved, .executed])
        #expect(audit.map { store.displayName(pseudonym: $0.actor) } == ["alice", "alice", "alice", "carol", "bob", "convops"])
        #expect(try store.verifyAudit() == .intact(entries: 6, from: 0))
    }

    @Test func someoneOutsideThePolicyIsRefusedAndAudited() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try scenario(moto, config: Self.teamPolicy)
        defer { s.remove() }
        let out = try await convops(["chat", "--as", "dave"], stdin: "restart web-1\nhelp\n", environment: s.environment).stdout
        #expect(out.contains("convops: You may not restart: the policy does not allow it for you here."))
        #expect(!out.contains("• restart"), "help lists only what dave may run")
        #expect(out.contains("• status"))
        let audit = try s.store().auditEntries(limit: 5)
        #expect(audit.map(\.decision) == [.refused])
        #expect(audit.first?.outcome == "not allowed by the policy")
    }

    @Test func aStagingRestartNeedsNoApproval() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try scenario(moto, config: Self.teamPolicy)
        defer { s.remove() }
        let out = try await convops(["chat", "--as", "carol"], stdin: "restart web-2 in staging\nconfirm\n", environment: s.environment).stdout
        #expect(out.contains(#/convops: Done: web-2 \(i-[0-9a-f]{17}\) was rebooted/#))
    }

    @Test func aBrokenPolicyStopsStartWithWhatToFix() async throws {
        let moto = try await SeededMoto.shared.get()
        for (config, message) in [
            (#"{"policy": {"mode": "team", "rules": [{"who": ["*"], "intents": ["status"]}]}}"#,
             "team mode needs an 'approval' section"),
            (#"{"policy": {"mode": "solo", "rules": [{"who": ["group:ops"], "intents": ["status"]}]}}"#,
             "rules[0].who names group:ops, which 'groups' does not define"),
            (#"{"policy": {"mode": "solo", "rules": [{"who": ["*"], "intents": ["reboot"]}]}}"#,
             "rules[0].intents: unknown intent 'reboot'"),
            (#"{"policy": {"mode": "chaos", "rules": []}}"#, "'mode' must be \"solo\" or \"team\""),
        ] {
            let s = try scenario(moto, config: config)
            defer { s.remove() }
            let result = try await convops(["chat"], stdin: "", environment: s.environment)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
