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
        #expect(policy.allows("U1", .restart, environment: .known("prod"), account: nil, channel: "C-ops"))
        #expect(!policy.allows("U1", .restart, environment: .known("dev"), account: nil, channel: "C-ops"))
        #expect(!policy.allows("U1", .restart, environment: .unknown, account: nil, channel: "C-ops"), "an environment-bound rule never matches an unknown environment")
        #expect(!policy.allows("U9", .restart, environment: .known("prod"), account: nil, channel: "C-ops"))
        #expect(policy.allows("U9", .status, environment: .unknown, account: nil, channel: "C-ops"))
        #expect(policy.allows("U3", .scale, environment: .known("dev"), account: "billing", channel: "C-ops"))
    }

    @Test func aChannelCapNarrowsEveryonesRights() {
        #expect(!policy.allows("U3", .restart, environment: .known("prod"), account: nil, channel: "C-public"))
        #expect(policy.allows("U3", .status, environment: .unknown, account: nil, channel: "C-public"))
        #expect(policy.intents(for: "U3", channel: "C-public") == [.status, .help])
        #expect(policy.intents(for: "U9", channel: "C-ops") == [.status, .help, .approve, .reject, .cancel])
    }

    @Test func approvalsFollowRiskEnvironmentAndMode() {
        #expect(policy.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "prod", source: .unknown)))
        #expect(!policy.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "staging", source: .unknown)))
        #expect(!policy.requiresApproval(risk: .readOnly, environment: ResourceEnvironment(name: "prod", source: .unknown)))
        var solo = policy
        solo.mode = .solo
        #expect(!solo.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "prod", source: .unknown)))
        #expect(policy.mayApprove("U3"))
        #expect(!policy.mayApprove("U1"))
    }

    @Test func theOpenDefaultIsSoloAndAllowsEverything() {
        #expect(AccessPolicy.openSolo.mode == .solo)
        #expect(AccessPolicy.openSolo.allows("anyone", .restart, environment: .known("prod"), account: "x", channel: "c"))
        #expect(!AccessPolicy.openSolo.requiresApproval(risk: .mutating, environment: ResourceEnvironment(name: "prod", source: .unknown)))
    }
}
