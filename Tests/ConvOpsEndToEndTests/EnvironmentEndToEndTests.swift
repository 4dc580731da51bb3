import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// The environment a change is judged by is where the resource lives (its tag, else its
/// account), never the word typed: leaving "in prod" out, or typing "in staging" for a prod
/// resource, can no longer skip the approval. Phrased the ways people type it.
@Suite(.serialized) struct EnvironmentEndToEndTests {
    /// The README's team policy.
    static let readmePolicy = """
        "policy": {
          "mode": "team",
          "groups": {"oncall": ["console:alice", "console:carol"], "leads": ["console:bob"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "alarms", "logs", "history", "help", "whoami", "cancel", "approve", "reject"]},
            {"who": ["group:oncall"], "intents": ["restart", "stop", "start", "scale"], "environments": ["staging", "prod"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]}
        }
        """

    /// The sample account: web-1 is tagged Environment=prod, web-2 staging, worker-1 nothing.
    @Test func aProdTaggedInstanceNeedsApprovalHoweverItIsAskedFor() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try Scenario(moto: moto, config: "{\(Self.readmePolicy)}")
        defer { s.remove() }
        try await moto.startRecording()
        let script = """
            restart web-1
            confirm
            restart web-1 in staging
            please reboot web-1 in production
            confirm
            restart worker-1
            bounce web-2 in stage
            confirm
            """
        let out = try await convops(["chat", "--as", "alice"], stdin: script + "\n", environment: s.environment).stdout
        // No qualifier: the tag decides, and the plan says so before anything is confirmed.
        #expect(out.contains("convops:   env:      prod, from tag Environment"), "\(out)")
        #expect(out.contains("convops:   approval: a second person must approve after you confirm"))
        #expect(out.components(separatedBy: "now needs a second person to approve it.").count == 3, "both prod plans wait for a lead")
        // A contradicting qualifier finds nothing to act on, and says why.
        #expect(out.contains(#/convops: web-1 \(i-[0-9a-f]{17}\) lives in prod, from tag Environment, not in staging; nothing was planned\./#),
                "\(out)")
        // Unknown environment: a rule for named environments does not cover it.
        #expect(out.contains("convops: You may not restart here: the resource's environment is unknown"), "\(out)")
        // A staging instance in staging's words: no approval, it runs.
        #expect(out.contains("convops:   env:      staging, from tag Environment"))
        #expect(out.contains(#/convops: Done: web-2 \(i-[0-9a-f]{17}\) was rebooted/#), "\(out)")
        let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1, "only web-2 ran: confirm alone never runs a prod change")
        let store = try s.store()
        let pending = try store.requests(in: [.awaitingApproval])
        #expect(pending.count == 2)
        #expect(pending.allSatisfy { $0.approvalRequired && $0.environment == "prod" && $0.plan.environment?.source == .tag(key: "Environment") })
        let refused = try store.auditEntries(limit: 50).filter { $0.decision == .refused }
        #expect(refused.contains { $0.outcome == "not allowed by the policy (environment unknown)" })
    }

    /// prod's account says "prod", staging's says "staging"; a tag on a resource wins.
    static let seed = """
        \(twoAccountsPreamble)
        def instance(kw, name, tags=()):
            ec2 = boto3.client("ec2", region_name="eu-west-1", **kw)
            ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            all_tags = [{"Key": "Name", "Value": name}] + [{"Key": k, "Value": v} for k, v in tags]
            return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                TagSpecifications=[{"ResourceType": "instance", "Tags": all_tags}])["Instances"][0]["InstanceId"]
        out = {"orders-db": instance(prod, "orders-db"), "billing-1": instance(base, "billing-1", [("env", "Production")]),
               "cache-9": instance(base, "cache-9")}
        print(json.dumps(out))
        """

    static let accounts = """
        "accounts": [
          {"alias": "prod", "role_arn": "arn:aws:iam::111111111111:role/convops", "external_id": "ext-prod",
           "regions": ["eu-west-1"], "environment": "prod"},
          {"alias": "staging", "role_arn": "arn:aws:iam::123456789012:role/convops", "external_id": "ext-staging",
           "regions": ["eu-west-1"], "environment": "staging"}
        ]
        """

    @Test func theAccountsEnvironmentCountsUnlessATagSaysOtherwise() async throws {
        let moto = try await SeededMoto.shared.get("EnvironmentEndToEndTests.accounts", also: Self.seed)
        let s = try Scenario(moto: moto, config: "{\(Self.readmePolicy), \(Self.accounts)}")
        defer { s.remove() }
        try await moto.startRecording()
        let script = """
            restart orders-db
            confirm
            restart orders-db in staging
            restart orders-db on account staging
            restart billing-1 on account staging
            confirm
            restart cache-9
            confirm
            """
        let out = try await convops(["chat", "--as", "alice"], stdin: script + "\n", environment: s.environment).stdout
        #expect(out.contains("convops:   env:      prod, from account prod"), "\(out)")
        #expect(out.contains(#/convops: orders-db \(i-[0-9a-f]{17}\) lives in prod, from account prod, not in staging; nothing was planned\./#), "\(out)")
        // Named elsewhere, it is not found there.
        #expect(out.contains("convops: I can't find anything called “orders-db” in staging/eu-west-1"), "\(out)")
        // In the staging account, but tagged env=Production: the tag wins, in the locale's words.
        #expect(out.contains("convops:   env:      prod, from tag env"), "\(out)")
        #expect(out.contains("convops:   env:      staging, from account staging"))
        #expect(out.contains(#/convops: Done: cache-9 \(i-[0-9a-f]{17}\) was rebooted/#), "\(out)")
        #expect(out.components(separatedBy: "now needs a second person to approve it.").count == 3, "orders-db and billing-1 wait")
        let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1, "only cache-9 (staging) ran")

        // A lead approves a typed bare "approve": two wait here, so it asks which.
        let approve = try await convops(["chat", "--as", "bob"], stdin: "approve\n", environment: s.environment).stdout
        #expect(approve.contains("More than one plan here is waiting for approval:"), "\(approve)")
    }

    /// The policy's words for environments are the grammar's: "production" is prod. Reads are
    /// held to where the resource lives too.
    @Test func policyEnvironmentsAreReadAsPeopleWriteThemAndBindReadsToo() async throws {
        let moto = try await SeededMoto.shared.get()
        let policy = """
            {"policy": {"mode": "team", "groups": {"leads": ["console:bob"]},
              "rules": [{"who": ["*"], "intents": ["status", "logs"], "environments": ["Stage"]},
                        {"who": ["*"], "intents": ["restart", "approve", "reject", "cancel"]}],
              "approval": {"risks": ["mutating"], "environments": ["Production"], "approvers": ["group:leads"]}}}
            """
        let s = try Scenario(moto: moto, config: policy)
        defer { s.remove() }
        try await moto.startRecording()
        let out = try await convops(["chat", "--as", "alice"], stdin: "restart web-1\nconfirm\nstatus web-1\nstatus web-2\nlogs web-1\n",
                                    environment: s.environment).stdout
        #expect(out.contains("convops:   approval: a second person must approve after you confirm"), "\(out)")
        #expect(out.contains("now needs a second person to approve it."))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        #expect(out.contains("convops: You may not status in prod"), "\(out)")
        #expect(out.contains("convops: You may not logs in prod"), "\(out)")
        #expect(out.contains(#/convops: web-2 \(i-[0-9a-f]{17}\) is running/#), "\(out)")
    }

    /// Retagged between the plan and the confirmation: the plan no longer runs as planned.
    @Test func aResourceRetaggedAfterThePlanIsNotRun() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try Scenario(moto: moto, config: "{\(Self.readmePolicy)}")
        defer { s.remove() }
        let plan = try await convops(["chat", "--as", "alice"], stdin: "restart web-2\n", environment: s.environment).stdout
        #expect(plan.contains("convops:   env:      staging, from tag Environment"), "\(plan)")
        func retag(_ value: String) async throws {
            let script = """
                import boto3, sys
                ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
                ids = [i["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web-2"]}])["Reservations"] for i in r["Instances"]]
                ec2.create_tags(Resources=ids, Tags=[{"Key": "Environment", "Value": sys.argv[2]}])
                """
            let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
            let out = try await Subprocess.run("/usr/bin/env", [python, "-c", script, moto.endpoint, value])
            #expect(out.status == 0, "\(out.stderr)")
        }
        try await retag("prod")
        try await moto.startRecording()
        let confirm = try await convops(["chat", "--as", "alice"], stdin: "confirm\n", environment: s.environment).stdout
        try await retag("staging")
        #expect(confirm.contains("now lives in prod, from tag Environment;"), "\(confirm)")
        #expect(confirm.contains("was made when it was in staging, from tag Environment. Nothing was done"))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        let refused = try s.store().auditEntries(limit: 10).last
        #expect(refused?.decision == .refused && refused?.outcome == "the resource's environment changed since the plan")
    }

    @Test func badEnvironmentSettingsStopStartWithWhatToFix() async throws {
        let cases = [
            (#"{"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/x", "external_id": "e1", "environment": "prod ; drop"}]}"#,
             "'environment' must be a short environment name"),
            (#"{"environment_tag": "Env Name"}"#, "environment_tag) must be a tag key"),
            (#"{"environment": "prod", "accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/x", "external_id": "e1"}]}"#,
             "give each account its own"),
            (#"{"channels": {"C1": {"share_logs": "yes"}}}"#, "channels.C1.share_logs must be true or false"),
        ]
        for (config, message) in cases {
            let s = try Scenario(moto: nil, config: config)
            defer { s.remove() }
            let result = try await convops(["check"], environment: s.environment)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
