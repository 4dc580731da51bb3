import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// `convops chat` driven through scripted stdin against a real moto_server.
@Suite(.serialized) struct ChatEndToEndTests {
    @Test func restartWeb1IsPlannedConfirmedRebootedAndAudited() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        try await moto.startRecording()

        let result = try await convops(["chat", "--as", "alice"], stdin: "restart web-1\nconfirm\n", environment: scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        // The plan names what the mention resolved to: Name tag, instance id and region.
        let planLine = try #require(out.split(separator: "\n").first { $0.contains("what:     reboot EC2 instance web-1 (i-") })
        let instanceID = String(try #require(planLine.split(separator: "(").last?.dropLast()))
        #expect(out.contains("convops:   where:    eu-west-1"))
        #expect(out.contains("convops:   calls:    ec2:RebootInstances InstanceIds=\(instanceID)"))
        #expect(out.contains("convops: Done: web-1 (\(instanceID)) was rebooted (as arn:aws:sts::123456789012:user/moto)."))

        // moto received exactly one reboot, for that instance.
        let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1)
        #expect(reboots.first?.contains("InstanceId.1=\(instanceID)") == true)

        // The decision is in the audit log, chained and verifiable.
        let store = try scenario.store()
        let audit = try store.auditEntries(limit: 10)
        #expect(audit.map(\.decision) == [.requested, .confirmed, .executed])
        #expect(audit.allSatisfy { $0.target == "ec2-instance \(instanceID) (web-1) eu-west-1" && $0.action == "reboot-instance" })
        #expect(audit.last?.principal == "arn:aws:sts::123456789012:user/moto")
        #expect(store.displayName(pseudonym: audit.first?.actor ?? "") == "alice")
        #expect(audit.first?.actor.hasPrefix("p-") == true)
        #expect(try store.verifyAudit() == .intact(entries: 3, from: 0))
        let verify = try await convops(["audit", "verify"], environment: scenario.environment)
        // The chat signed the head as it stopped: an auditor with the public key alone agrees.
        #expect(verify.stdout.hasPrefix("ok: 3 entries, chain intact\nsigned: up to entry 3 at "), "\(verify.stdout)")
        #expect(verify.stdout.hasSuffix("(1 digest, all valid)\n"))
        let key = try await convops(["audit", "public-key"], environment: scenario.environment).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var keyless = scenario.environment
        keyless["CONVOPS_DATA_KEY"] = nil
        try FileManager.default.removeItem(atPath: scenario.database + ".key")
        let auditor = try await convops(["audit", "verify", "--public-key", key], environment: keyless)
        #expect(auditor.status == 0, "\(auditor.stderr)")
        #expect(auditor.stdout.hasPrefix("ok: 3 entries, chain intact\nsigned: up to entry 3 at "), "\(auditor.stdout)")
    }

    @Test func auditAndPersonalDataCommands() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        _ = try await convops(["chat", "--as", "carol"], stdin: "restart web-2\nconfirm\n", environment: scenario.environment)
        let list = try await convops(["audit", "list"], environment: scenario.environment)
        #expect(list.stdout.split(separator: "\n").count == 3)
        #expect(list.stdout.contains("actor=carol"))
        let firstLine = try #require(list.stdout.split(separator: "\n").first)
        let id = try #require(firstLine.split(separator: "\t").first { $0.hasPrefix("request=") }?.dropFirst("request=".count))
        let show = try await convops(["audit", "show", String(id)], environment: scenario.environment)
        #expect(show.stdout.split(separator: "\n").count == 3)
        #expect(show.stdout.contains(#""decision":"executed""#))
        let exportFile = scenario.directory + "/audit.jsonl"
        #expect(try await convops(["audit", "export", "--output", exportFile], environment: scenario.environment).status == 0)
        #expect(try String(contentsOfFile: exportFile, encoding: .utf8).split(separator: "\n").count == 3)

        let person = try await convops(["data", "export", "--person", "console:carol"], environment: scenario.environment)
        #expect(person.status == 0)
        #expect(person.stdout.contains(#""name" : "carol""#))
        #expect(person.stdout.contains(#""id" : "console:carol""#))
        let erase = try await convops(["data", "erase", "--person", "console:carol"], environment: scenario.environment)
        #expect(erase.stdout.hasPrefix("erased: console:carol is now p-"))
        #expect(try await convops(["data", "export", "--person", "console:carol"], environment: scenario.environment).status == 1)
        let after = try await convops(["audit", "list"], environment: scenario.environment)
        #expect(!after.stdout.contains("carol"))
        #expect(after.stdout.contains("actor=p-"))
        #expect(try await convops(["audit", "verify"], environment: scenario.environment).stdout.hasPrefix("ok: 3 entries, chain intact\nsigned: up to entry 3 at "))
    }

    @Test func anotherPersonCannotConfirmAndTheRequesterCanCancel() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        try await moto.startRecording()
        let first = try await convops(["chat", "--as", "alice"], stdin: "restart worker-1\n", environment: scenario.environment)
        let id = try #require(first.stdout.split(separator: "\n").first { $0.hasPrefix("convops: Plan r") }?
            .split(separator: " ")[2].dropLast())
        let script = "/as bob\nconfirm \(id)\n/as alice\ncancel\nconfirm \(id)\n"
        let result = try await convops(["chat", "--as", "alice"], stdin: script, environment: scenario.environment)
        #expect(result.stdout.contains("convops: Only alice, who asked for plan \(id), can confirm or cancel it."))
        #expect(result.stdout.contains("convops: Cancelled plan \(id); nothing was changed."))
        #expect(result.stdout.contains("convops: Plan \(id) is already cancelled; nothing more can change it."))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        let audit = try scenario.store().auditEntries(limit: 10)
        // Bob's confirm and Alice's late one are refused, and refusals are audited too.
        #expect(audit.map(\.decision) == [.requested, .refused, .cancelled, .refused])
    }

    @Test func unknownAndNearMissNamesAreExplained() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        let result = try await convops(["chat", "--as", "alice"], stdin: "restart ghost\nrestart web1\nconfirm\n", environment: scenario.environment)
        #expect(result.stdout.contains("convops: I can't find anything called “ghost” in eu-west-1: no EC2 instance (Name tag or id), ECS service, RDS instance or Auto Scaling group by that name. Check the spelling, or use the id or ARN."))
        #expect(result.stdout.contains("convops: I can't find anything called “web1” in eu-west-1. Did you mean “web-1”, “web-2”?"))
        #expect(result.stdout.contains("convops: You have no plan waiting."))
        #expect(try scenario.store().auditEntries(limit: 10).isEmpty)
    }

    @Test func statusReadsTheInventory() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        let result = try await convops(["chat"], stdin: "how is web-2 doing?\nstatus\n", environment: scenario.environment)
        #expect(result.stdout.contains(#/convops: web-2 \(i-[0-9a-f]{17}\) is running — EC2 instance in eu-west-1\./#))
        #expect(result.stdout.contains("convops: Instances in eu-west-1:"))
        #expect(result.stdout.contains(#/convops: • worker-1 \(i-[0-9a-f]{17}\) running t3.micro/#))
    }

    @Test func awsThatCannotBeReachedIsSaidPlainly() async throws {
        let port = try FreePort.pick()
        let scenario = try Scenario(moto: nil, endpoint: "http://127.0.0.1:\(port)")
        defer { scenario.remove() }
        let result = try await convops(["chat"], stdin: "restart web-1\n", environment: scenario.environment)
        #expect(result.status == 0)
        #expect(result.stdout.contains("convops: AWS call failed: Could not reach AWS for ec2:DescribeInstances: could not connect to 127.0.0.1"))
        #expect(result.stdout.contains("Check the network or AWS_ENDPOINT_URL."))
        let check = try await convops(["check"], environment: scenario.environment)
        #expect(check.status == 2)
        #expect(check.stdout.contains("aws:      Could not reach AWS for sts:GetCallerIdentity"))
    }

    @Test func aMalformedCommandsFileStopsStartWithItsLocation() async throws {
        let home = try makeTemporaryDirectory("home")
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.copyItem(atPath: repositoryRoot + "/commands", toPath: home + "/commands")
        try FileManager.default.copyItem(atPath: repositoryRoot + "/locales", toPath: home + "/locales")
        try "intent restart\nrisk mutating\nhelp help.restart\nslot target resource\nen: restart {target\n"
            .write(toFile: home + "/commands/restart.cmd", atomically: true, encoding: .utf8)
        let scenario = try Scenario(moto: nil, extra: ["CONVOPS_HOME": home])
        defer { scenario.remove() }
        let chat = try await convops(["chat"], stdin: "help\n", environment: scenario.environment)
        #expect(chat.status == 2)
        #expect(chat.stderr.contains("commands/restart.cmd:5:13: missing '}' for this '{'"))
        let check = try await convops(["grammar", "check"], environment: scenario.environment)
        #expect(check.status == 1)
        #expect(check.stdout.contains("restart.cmd:5:13: missing '}' for this '{'"))
    }

    @Test func parsePrintsJSONAndExitCodes() async throws {
        let scenario = try Scenario(moto: nil)
        defer { scenario.remove() }
        let ok = try await convops(["parse", "--locale", "en", "restart web-1"], environment: scenario.environment)
        #expect(ok.status == 0)
        #expect(ok.stdout == #"{"intent":"restart","locale":"en","rule":"commands/en/restart.cmd:2","slots":{"target":"web-1"}}"# + "\n")
        let missing = try await convops(["parse", "scale", "api"], environment: scenario.environment)
        #expect(missing.status == 1)
        #expect(missing.stdout == #"{"error":"“scale” needs a count: which one? For example: scale <target> <count>","suggestions":["scale <target> <count>"]}"# + "\n")
        let bare = try await convops(["parse", "restart"], environment: scenario.environment)
        #expect(bare.stdout == #"{"error":"“restart” needs a target: which one? For example: restart <target>","suggestions":["restart <target>"]}"# + "\n")
        // "it": the resource of the person's last message, which only a conversation has.
        let earlier = try await convops(["parse", "restart", "it"], environment: scenario.environment)
        #expect(earlier.stdout == #"{"intent":"restart","locale":"en","rule":"commands/en/restart.cmd:2","slots":{"target":"<earlier>"}}"# + "\n")
        let unknown = try await convops(["parse", "restrat", "web-1"], environment: scenario.environment)
        #expect(unknown.status == 1)
        #expect(unknown.stdout == #"{"error":"I didn't understand “restrat web-1”.","suggestions":["restart web-1"]}"# + "\n")
    }

    @Test func badConfigurationIsRefusedWithWhatToFix() async throws {
        let scenario = try Scenario(moto: nil, extra: ["CONVOPS_CONFIRMATION_TIMEOUT": "soon"])
        defer { scenario.remove() }
        let result = try await convops(["chat"], stdin: "", environment: scenario.environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("CONVOPS_CONFIRMATION_TIMEOUT (confirmation_timeout_seconds) must be a number of seconds from 10 to 86400, not 'soon'"))
    }
}

/// Stop and start wait for the instance to get there, and tell the steps on the way.
@Suite(.serialized) struct StopStartEndToEndTests {
    @Test func stopThenStartWaitForTheStateAndReportEachStep() async throws {
        let moto = try await SeededMoto.shared.get("StopStartEndToEndTests")
        let scenario = try Scenario(moto: moto, extra: ["CONVOPS_WAIT_POLL_SECONDS": "0.2"])
        defer { scenario.remove() }
        try await moto.startRecording()
        let result = try await convops(["chat", "--as", "alice"], stdin: "stop worker-1\nconfirm\nstart worker-1\nconfirm\n",
                                       environment: scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        let instanceLine = try #require(out.split(separator: "\n").first { $0.contains("what:     stop EC2 instance worker-1 (i-") })
        let id = String(try #require(instanceLine.split(separator: "(").last?.dropLast()))
        #expect(out.contains("calls:    ec2:StopInstances InstanceIds=\(id)"))
        #expect(out.contains("(stop worker-1): worker-1 (\(id)) is stopping…"))
        #expect(out.contains("(stop worker-1): worker-1 (\(id)) is stopped…"))
        #expect(out.contains("Done: worker-1 (\(id)) was stopped (as arn:aws:sts::123456789012:user/moto)."))
        #expect(out.contains("calls:    ec2:StartInstances InstanceIds=\(id)"))
        #expect(out.contains("Done: worker-1 (\(id)) was started and is running"))
        let bodies = try await moto.recordedBodies()
        #expect(bodies.filter { $0.contains("Action=StopInstances") }.count == 1)
        #expect(bodies.filter { $0.contains("Action=StartInstances") }.count == 1)
        let decisions = try scenario.store().auditEntries(limit: 10).map(\.decision)
        #expect(decisions == [.requested, .confirmed, .executed, .requested, .confirmed, .executed])
    }
}

/// A name resolves to whatever carries it (ECS service, RDS instance, Auto Scaling group), and
/// the same words plan the right calls for it.
@Suite(.serialized) struct ResourceKindsEndToEndTests {
    static let seed = """
        import boto3, sys
        kw = dict(region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
        ecs = boto3.client("ecs", **kw)
        ecs.create_cluster(clusterName="apps")
        ecs.register_task_definition(family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 128}])
        ecs.create_service(cluster="apps", serviceName="api", taskDefinition="api", desiredCount=2)
        boto3.client("rds", **kw).create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                                                      MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)
        ec2 = boto3.client("ec2", **kw)
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        ec2.create_launch_template(LaunchTemplateName="workers", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
        boto3.client("autoscaling", **kw).create_auto_scaling_group(AutoScalingGroupName="batch", LaunchTemplate={"LaunchTemplateName": "workers"},
                                      MinSize=1, MaxSize=3, DesiredCapacity=1, AvailabilityZones=["eu-west-1a"])
        """

    @Test func restartAndScalePlanTheRightCallsForEachKind() async throws {
        let moto = try await SeededMoto.shared.get("ResourceKindsEndToEndTests")
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let seeded = try await Subprocess.run("/usr/bin/env", [python, "-c", Self.seed, moto.endpoint])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        // moto never runs an ECS task, so a redeployment never settles there: the waiter's
        // timeout is what this test sees, and the outcome must say so.
        let scenario = try Scenario(moto: moto, extra: ["CONVOPS_WAIT_POLL_SECONDS": "0.2", "CONVOPS_WAIT_TIMEOUT_SECONDS": "2"])
        defer { scenario.remove() }
        try await moto.startRecording()
        let script = """
            restart api
            confirm
            scale api to 4
            confirm
            restart orders-db
            confirm
            scale batch +1
            confirm
            scale batch to 9
            stop api
            restart batch
            """
        let result = try await convops(["chat", "--as", "alice"], stdin: script + "\n", environment: scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("what:     redeploy ECS service api\n"))
        #expect(out.contains("calls:    ecs:UpdateService cluster=arn:aws:ecs:eu-west-1:123456789012:cluster/apps forceNewDeployment=true service=api"))
        #expect(out.contains("(restart api): api: 0/2 tasks replaced…"))
        #expect(out.contains("did not reach a steady state within 2.0 seconds; its deployment may still be rolling"))
        #expect(out.contains("Plan ") && out.contains(": scale api to 4"))
        #expect(out.contains("desiredCount=4"))
        #expect(out.contains("was scaled and is steady"))
        #expect(out.contains("calls:    rds:RebootDBInstance DBInstanceIdentifier=orders-db"))
        #expect(out.contains("was rebooted and is available"))
        #expect(out.contains(": scale batch to 2"))
        #expect(out.contains("calls:    autoscaling:SetDesiredCapacity AutoScalingGroupName=batch DesiredCapacity=2"))
        #expect(out.contains("batch") && out.contains("can hold at most 3 (its MaxSize); nothing was planned."))
        #expect(out.contains("“stop” does not work on ECS service"))
        #expect(out.contains("“restart” does not work on Auto Scaling group"))
        let bodies = try await moto.recordedBodies()
        #expect(bodies.filter { $0.contains("Action=RebootDBInstance") }.count == 1)
        #expect(bodies.filter { $0.contains("Action=SetDesiredCapacity") && $0.contains("DesiredCapacity=2") }.count == 1)
        #expect(!bodies.contains { $0.contains("DesiredCapacity=9") })
    }
}

@Suite struct DryRunEndToEndTests {
    @Test func planShowsTheExactCallsAndStoresAndRunsNothing() async throws {
        let moto = try await SeededMoto.shared.get("DryRunEndToEndTests")
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        try await moto.startRecording()
        let result = try await convops(["plan", "restart", "web-1"], environment: scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Dry run: restart web-1\n  what:     reboot EC2 instance web-1 (i-"))
        #expect(result.stdout.contains("calls:    ec2:RebootInstances InstanceIds=i-"))
        #expect(result.stdout.hasSuffix("Nothing was stored or run.\n"))
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.isEmpty)
        #expect(try scenario.store().requests(in: RequestState.allCases).isEmpty)
        #expect(try scenario.store().auditEntries(limit: 10).isEmpty)
        let unknown = try await convops(["plan", "restart", "web1"], environment: scenario.environment)
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("“web-1”"))
    }
}
