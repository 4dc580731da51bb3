import ConvOpsAWS
import ConvOpsCore
import ConvOpsTestSupport
import Foundation
import Testing

/// deploy/: the least-privilege policy and the role template, which must agree and lint clean.
@Suite struct DeployTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The actions the AWS issue names for ConvOps, no more.
    static let actions: Set<String> = [
        "ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:RebootInstances", "ec2:StopInstances", "ec2:StartInstances",
        "ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:UpdateService",
        "rds:DescribeDBInstances", "rds:RebootDBInstance",
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity",
        "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "logs:FilterLogEvents",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sts:GetCallerIdentity",
    ]

    @Test func thePolicyGrantsExactlyTheActionsConvOpsUses() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/deploy/iam-policy.json"))
        let policy = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let statements = try #require(policy["Statement"] as? [[String: Any]])
        #expect(statements.allSatisfy { $0["Effect"] as? String == "Allow" })
        let granted = Set(statements.flatMap { ($0["Action"] as? [String]) ?? [] })
        #expect(granted == Self.actions)
        #expect(!granted.contains { $0.contains("*") }, "no wildcard actions")
    }

    /// The same list the preview shows and the executor runs: each of its operations, with the
    /// read that follows it to its effect, is granted.
    @Test func thePolicyGrantsEveryOperationOfEveryPlannedAction() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/deploy/iam-policy.json"))
        let policy = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let granted = Set(((policy["Statement"] as? [[String: Any]]) ?? []).flatMap { ($0["Action"] as? [String]) ?? [] })
        for action in PlannedAction.allCases {
            let resource = RetryTests.resource(for: action)
            let needed = AWSOperation.list(for: action, on: resource, desiredCount: 2).flatMap(\.iamActions)
            #expect(!needed.isEmpty, "\(action)")
            #expect(Set(needed).isSubset(of: granted), "\(action) needs \(Set(needed).subtracting(granted).sorted())")
        }
    }

    @Test func theRoleTemplateMatchesThePolicyAndRequiresTheExternalID() throws {
        let template = try String(contentsOfFile: Self.root + "/deploy/convops-role.yaml", encoding: .utf8)
        let listed = Set(template.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("- "), t.contains(":"), !t.contains(" ") || t.dropFirst(2).split(separator: " ").count == 1 else { return nil }
            let action = String(t.dropFirst(2))
            return action.range(of: #"^[a-z0-9]+:[A-Za-z]+$"#, options: .regularExpression) != nil ? action : nil
        })
        #expect(listed == Self.actions)
        #expect(template.contains("sts:ExternalId: !Ref ExternalId"))
        #expect(template.contains("MaxSessionDuration: 3600"))
    }

    @Test func theRoleTemplateLintsClean() async throws {
        let env = ProcessInfo.processInfo.environment
        let lint = env["CONVOPS_CFN_LINT"].flatMap { $0.isEmpty ? nil : $0 } ?? Subprocess.which("cfn-lint")
        let path = try #require(lint, "cfn-lint is not installed: run scripts/test, which installs it")
        let result = try await Subprocess.run(path, [Self.root + "/deploy/convops-role.yaml"])
        #expect(result.status == 0, "cfn-lint: \(result.stdout)\(result.stderr)")
    }

    /// The alarm intake: topic → queue (with a dead-letter queue), and only that topic may send.
    @Test func theAlertsTemplateLintsCleanAndOnlyTheTopicMaySend() async throws {
        let template = try String(contentsOfFile: Self.root + "/deploy/convops-alerts.yaml", encoding: .utf8)
        for part in ["AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SNS::Subscription", "deadLetterTargetArn",
                     "aws:SourceArn: !Ref AlarmTopic", "Service: sns.amazonaws.com", "Action: sqs:SendMessage", "SqsManagedSseEnabled: true"] {
            #expect(template.contains(part), "\(part)")
        }
        // The topic: only this account's alarms and rules publish; every person is denied.
        for part in ["AWS::SNS::TopicPolicy", "cloudwatch.amazonaws.com", "events.amazonaws.com", "aws:SourceAccount: !Ref AWS::AccountId",
                     "Effect: Deny", "aws:PrincipalIsAWSService: \"false\""] {
            #expect(template.contains(part), "\(part)")
        }
        #expect(template.components(separatedBy: "Principal: \"*\"").count == 2, "the wildcard principal only in the Deny")
        let env = ProcessInfo.processInfo.environment
        let lint = env["CONVOPS_CFN_LINT"].flatMap { $0.isEmpty ? nil : $0 } ?? Subprocess.which("cfn-lint")
        let path = try #require(lint, "cfn-lint is not installed: run scripts/test, which installs it")
        let result = try await Subprocess.run(path, [Self.root + "/deploy/convops-alerts.yaml"])
        #expect(result.status == 0, "cfn-lint: \(result.stdout)\(result.stderr)")
    }
}
