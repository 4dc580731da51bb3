import ConvOpsCore
import Testing

@Suite struct AccessPolicyTests {
    let policy = AccessPolicy(
        mode: .team,
        groups: ["oncall": ["U1", "U2"], "leads": ["U3"]],
        rules: [
            .init(who: ["*"], intents: [.status, .help, .approve, .reject, .cancel]),
            .init(who: ["group:oncall"], intents: [.restart, .stop], environments: ["staging", "prod"]),
            .init(who: ["U3"], intents: Set(IntentKind.allCases)),
        ],
        channelCaps: ["C-public": [.status, .help]],
        approval: .init(risks: [.mutating], environments: ["prod"], approvers: ["group:leads"]))

    @Test func rightsComeFromRulesAndGroups() {
        #expect(policy.allows("U1", .restart, environment: "prod", account: nil, channel: "C-ops"))
        #expect(!policy.allows("U1", .restart, environment: "dev", account: nil, channel: "C-ops"))
        #expect(!policy.allows("U1", .restart, environment: nil, account: nil, channel: "C-ops"), "an environment-bound rule needs one")
        #expect(!policy.allows("U9", .restart, environment: "prod", account: nil, channel: "C-ops"))
        #expect(policy.allows("U9", .status, environment: nil, account: nil, channel: "C-ops"))
        #expect(policy.allows("U3", .scale, environment: "dev", account: "billing", channel: "C-ops"))
    }

    @Test func aChannelCapNarrowsEveryonesRights() {
        #expect(!policy.allows("U3", .restart, environment: "prod", account: nil, channel: "C-public"))
        #expect(policy.allows("U3", .status, environment: nil, account: nil, channel: "C-public"))
        #expect(policy.intents(for: "U3", channel: "C-public") == [.status, .help])
        #expect(policy.intents(for: "U9", channel: "C-ops") == [.status, .help, .approve, .reject, .cancel])
    }

    @Test func approvalsFollowRiskEnvironmentAndMode() {
        #expect(policy.requiresApproval(risk: .mutating, environment: "prod"))
        #expect(!policy.requiresApproval(risk: .mutating, environment: "staging"))
        #expect(!policy.requiresApproval(risk: .readOnly, environment: "prod"))
        var solo = policy
        solo.mode = .solo
        #expect(!solo.requiresApproval(risk: .mutating, environment: "prod"))
        #expect(policy.mayApprove("U3"))
        #expect(!policy.mayApprove("U1"))
    }

    @Test func theOpenDefaultIsSoloAndAllowsEverything() {
        #expect(AccessPolicy.openSolo.mode == .solo)
        #expect(AccessPolicy.openSolo.allows("anyone", .restart, environment: "prod", account: "x", channel: "c"))
        #expect(!AccessPolicy.openSolo.requiresApproval(risk: .mutating, environment: "prod"))
    }
}
