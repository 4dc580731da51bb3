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

/// Target accounts from the config file: plans act through a role assumed for the person.
@Suite(.serialized) struct AccountsEndToEndTests {
    static let config = """
        {"accounts": [
          {"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/convops", "external_id": "ext-4711",
           "regions": ["eu-west-1"], "duration_seconds": 900}
        ]}
        """

    @Test func aRestartRunsThroughTheAssumedRoleAndTheAuditKeepsAPseudonym() async throws {
        let moto = try await SeededMoto.shared.get("AccountsEndToEndTests")
        let dir = try makeTemporaryDirectory("accounts")
        try Self.config.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
        let s = try Scenario(moto: moto, extra: ["CONVOPS_CONFIG": dir + "/convops.json"])
        defer { s.remove() }
        try await moto.startRecording()
        let result = try await convops(["chat", "--as", "alice"], stdin: "restart web-1 on account prod\nconfirm\nrestart web-2 on account dev\nrestart web-2 on account prod in us-east-1\nrestart web-2 in us-east-1\n",
                                       environment: s.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("was rebooted (as arn:aws:sts::123456789012:assumed-role/convops/convops-p-"))
        #expect(result.stdout.contains("I don't know the account “dev”; nothing was done. The configured accounts are: prod."))
        #expect(result.stdout.contains("Account prod is configured for eu-west-1, not us-east-1; nothing was done."))
        // Without an account named, every account is searched: none of them acts in us-east-1.
        #expect(result.stdout.contains("No configured account acts in us-east-1; nothing was done. The accounts and their regions: prod (eu-west-1)."))
        let bodies = try await moto.recordedBodies()
        let assume = try #require(bodies.first { $0.contains("Action=AssumeRole") })
        #expect(assume.contains("RoleSessionName=convops-console-alice-alice") && assume.contains("ExternalId=ext-4711") && assume.contains("DurationSeconds=900"))
        let store = try s.store()
        let executed = try #require(try store.auditEntries(limit: 20).first { $0.decision == .executed })
        let pseudonym = try store.pseudonym(for: Person(id: "console:alice", name: "alice"))
        #expect(executed.principal == "arn:aws:sts::123456789012:assumed-role/convops/convops-\(pseudonym)")
        #expect(try store.verifyAudit() == .intact(entries: 3, from: 0))
    }

    @Test func badAccountsAreRefusedAtStartWithWhatToFix() async throws {
        let dir = try makeTemporaryDirectory("accounts-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases = [
            (#"{"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123:role/x", "external_id": "e1"}]}"#, "'role_arn' must be a role ARN"),
            (#"{"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/x"}]}"#, "'external_id' is required"),
            (#"{"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/x", "external_id": "e1", "duration_seconds": 7200}]}"#,
             "'duration_seconds' must be from 900 to 3600"),
            (#"{"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/x", "external_id": "e1", "secret": "x"}]}"#, "unknown key 'secret'"),
            (#"{"log_groups": ["/ecs/api"]}"#, "'log_groups' must be an object from resource names to log groups"),
            (#"{"log_groups": {"web-1": "my logs"}}"#, #"log_groups["web-1"] must be a log group name (letters, digits and _ - / . #), not 'my logs'"#),
        ]
        for (config, message) in cases {
            try config.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
            let s = try Scenario(moto: nil, extra: ["CONVOPS_CONFIG": dir + "/c.json"])
            defer { s.remove() }
            let result = try await convops(["check"], environment: s.environment)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
