import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Two target accounts (prod in two regions, staging in one) in one moto: names resolve across
/// all of them, an ambiguous name lists every match with its place, and the read-only answers
/// (status with health, alarms, logs) look everywhere the person may.
@Suite(.serialized) struct SearchEndToEndTests {
    /// prod is account 111111111111 (moto keeps resources made under a role assumed there
    /// apart); staging is moto's default account.
    static let seed = """
        \(twoAccountsPreamble)
        import datetime
        staging = base
        def instance(kw, region, name):
            ec2 = boto3.client("ec2", region_name=region, **kw)
            ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}])["Instances"][0]["InstanceId"]
        out = {"web-1/prod": instance(prod, "eu-west-1", "web-1"), "api-1": instance(prod, "eu-central-1", "api-1"),
               "web-1/staging": instance(staging, "eu-west-1", "web-1"), "cache-1": instance(staging, "eu-west-1", "cache-1")}
        cw = boto3.client("cloudwatch", region_name="eu-central-1", **prod)
        now = datetime.datetime.now(datetime.timezone.utc)
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "CPUUtilization", "Value": 93.0,
            "Timestamp": now - datetime.timedelta(minutes=3), "Dimensions": [{"Name": "InstanceId", "Value": out["api-1"]}]}])
        cw.put_metric_alarm(AlarmName="api-1-cpu-high", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
            Period=300, EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
            Dimensions=[{"Name": "InstanceId", "Value": out["api-1"]}])
        cw.set_alarm_state(AlarmName="api-1-cpu-high", StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint (93.0)")
        cws = boto3.client("cloudwatch", region_name="eu-west-1", **staging)
        cws.put_metric_alarm(AlarmName="cache-1-memory", MetricName="mem_used_percent", Namespace="CWAgent", Statistic="Average",
            Period=300, EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold",
            Dimensions=[{"Name": "InstanceId", "Value": out["cache-1"]}])
        cws.set_alarm_state(AlarmName="cache-1-memory", StateValue="OK", StateReason="fine")
        ecs = boto3.client("ecs", region_name="eu-west-1", **staging)
        ecs.create_cluster(clusterName="apps")
        ecs.register_task_definition(family="checkout", containerDefinitions=[{"name": "checkout", "image": "nginx", "memory": 128}])
        ecs.create_service(cluster="apps", serviceName="checkout", taskDefinition="checkout", desiredCount=1)
        logs = boto3.client("logs", region_name="eu-west-1", **staging)
        logs.create_log_group(logGroupName="/ecs/checkout")
        logs.create_log_stream(logGroupName="/ecs/checkout", logStreamName="checkout/1")
        ms = int(now.timestamp() * 1000)
        logs.put_log_events(logGroupName="/ecs/checkout", logStreamName="checkout/1", logEvents=[
            {"timestamp": ms - 3000, "message": "GET /health 200"}, {"timestamp": ms - 2000, "message": "ERROR payment timeout\\n  at charge()"},
            {"timestamp": ms - 1000, "message": "GET /cart 200"}])
        print(json.dumps(out))
        """

    static let config = """
        {"accounts": [
          {"alias": "prod", "role_arn": "arn:aws:iam::111111111111:role/convops", "external_id": "ext-prod",
           "regions": ["eu-west-1", "eu-central-1"]},
          {"alias": "staging", "role_arn": "arn:aws:iam::123456789012:role/convops", "external_id": "ext-staging",
           "regions": ["eu-west-1"]}
        ],
         "log_groups": {"cache-1": "/app/cache"},
         "policy": {"mode": "solo", "rules": [
           {"who": ["console:alice"], "intents": ["restart", "status", "alarms", "logs"]},
           {"who": ["console:sam"], "intents": ["restart", "status", "alarms", "logs"], "accounts": ["staging"]}
         ]}}
        """

    struct World {
        let moto: MotoServer
        let ids: [String: String]
        let scenario: Scenario
    }

    static let world = WorldOnce()

    actor WorldOnce {
        private var task: Task<World, Error>?
        func get() async throws -> World {
            if let task { return try await task.value }
            let task = Task {
                let moto = try await MotoServer.start()
                let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
                let seeded = try await Subprocess.run("/usr/bin/env", [python, "-c", SearchEndToEndTests.seed, moto.endpoint])
                guard seeded.status == 0, let ids = try JSONSerialization.jsonObject(with: Data(seeded.stdout.utf8)) as? [String: String] else {
                    throw TestSupportError("seeding failed: \(seeded.stderr.suffix(1500))")
                }
                let dir = try makeTemporaryDirectory("search-config")
                try SearchEndToEndTests.config.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
                return World(moto: moto, ids: ids, scenario: try Scenario(moto: moto, extra: ["CONVOPS_CONFIG": dir + "/convops.json"]))
            }
            self.task = task
            return try await task.value
        }
    }

    func chat(_ who: String, _ lines: String, _ w: World) async throws -> String {
        let result = try await convops(["chat", "--as", who], stdin: lines, environment: w.scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func aNameInOneAccountAndRegionIsFoundAndActedOnThere() async throws {
        let w = try await Self.world.get()
        try await w.moto.startRecording()
        let out = try await chat("alice", "restart api-1\nconfirm\n", w)
        let api = w.ids["api-1"]!
        #expect(out.contains("convops:   what:     reboot EC2 instance api-1 (\(api))"), "\(out)")
        #expect(out.contains("convops:   where:    prod/eu-central-1"))
        #expect(out.contains("convops: Done: api-1 (\(api)) was rebooted (as arn:aws:sts::111111111111:assumed-role/convops/convops-p-"))
        // One reboot, signed for eu-central-1 with prod's assumed-role credentials.
        let reboots = try await w.moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }
        #expect(reboots.count == 1 && reboots[0].contains("InstanceId.1=\(api)"))
        let audit = try w.scenario.store().auditEntries(limit: 50).filter { $0.target.contains(api) }
        #expect(audit.map(\.decision) == [.requested, .confirmed, .executed])
        #expect(audit.allSatisfy { $0.target.hasSuffix("eu-central-1") })
    }

    @Test func aNameInTwoAccountsIsNeverGuessed() async throws {
        let w = try await Self.world.get()
        let out = try await chat("alice", "restart web-1\nconfirm\nrestart web-1 on account staging\ncancel\n", w)
        #expect(out.contains("convops: “web-1” matches 2 resources in prod/eu-west-1, prod/eu-central-1, staging/eu-west-1; I won't guess."), "\(out)")
        #expect(out.contains("convops: • EC2 instance \(w.ids["web-1/prod"]!) in prod/eu-west-1 (running)"))
        #expect(out.contains("convops: • EC2 instance \(w.ids["web-1/staging"]!) in staging/eu-west-1 (running)"))
        // Naming the account settles it.
        #expect(out.contains("convops:   what:     reboot EC2 instance web-1 (\(w.ids["web-1/staging"]!))"))
    }

    @Test func nearMissesComeFromEveryPlace() async throws {
        let w = try await Self.world.get()
        let out = try await chat("alice", "restart api1\nrestart cache1\n", w)
        #expect(out.contains("convops: I can't find anything called “api1” in prod/eu-west-1, prod/eu-central-1, staging/eu-west-1. Did you mean “api-1”?"), "\(out)")
        #expect(out.contains("Did you mean “cache-1”?"))
    }

    @Test func thePolicyLimitsWhereAPersonsNamesAreLookedUp() async throws {
        let w = try await Self.world.get()
        // Sam may act in staging only: prod's api-1 is not even looked for.
        let out = try await chat("sam", "restart api-1\nrestart web-1\ncancel\n", w)
        #expect(out.contains("convops: I can't find anything called “api-1” in staging/eu-west-1"), "\(out)")
        #expect(out.contains("convops:   what:     reboot EC2 instance web-1 (\(w.ids["web-1/staging"]!))"))
        #expect(!out.contains("prod/"))
    }

    @Test func statusTellsStateChecksCPUAndFiringAlarms() async throws {
        let w = try await Self.world.get()
        let out = try await chat("alice", "how is api-1 doing?\nstatus of cache-1\nstatus\n", w)
        #expect(out.contains("convops: api-1 (\(w.ids["api-1"]!)) is running — EC2 instance in prod/eu-central-1."), "\(out)")
        #expect(out.contains("  status checks: system ok, instance ok"))
        #expect(out.contains(#/  CPU: 93\.0 % \(5-minute average, \d+ (seconds|minutes) ago\)/#))
        #expect(out.contains("  firing: “api-1-cpu-high”"))
        #expect(out.contains("  CPU: no data in the last hour"))
        #expect(out.contains("  alarms: none firing"))
        // The overview covers every place, each under its own heading.
        #expect(out.contains("convops: Instances in prod/eu-west-1:"))
        #expect(out.contains("Instances in prod/eu-central-1:"))
        #expect(out.contains("Instances in staging/eu-west-1:"))
        #expect(out.contains(#/• cache-1 \(i-[0-9a-f]{17}\) running t3\.micro/#))
    }

    @Test func alarmsAreListedFromEveryPlace() async throws {
        let w = try await Self.world.get()
        let out = try await chat("alice", "alarms\nok alarms\n", w)
        #expect(out.contains("convops: Alarms in state ALARM in prod/eu-west-1, prod/eu-central-1, staging/eu-west-1 (1):"), "\(out)")
        #expect(out.contains("• api-1-cpu-high — ALARM in prod/eu-central-1: Threshold Crossed: 1 datapoint (93.0)"))
        #expect(out.contains("• cache-1-memory — OK in staging/eu-west-1: fine"))
        let sam = try await chat("sam", "alarms\n", w)
        #expect(sam.contains("convops: No alarms in state ALARM in staging/eu-west-1."), "\(sam)")
    }

    @Test func logsShowTheNewestLinesOfTheResourcesGroup() async throws {
        let w = try await Self.world.get()
        let out = try await chat("alice", "logs checkout\nlogs checkout matching ERROR\nlogs web-1 on account staging\nlogs cache-1\n", w)
        #expect(out.contains("convops: checkout: the newest 3 of 3 log lines in /ecs/checkout from the last 15 minutes (times in UTC):"), "\(out)")
        #expect(out.contains(#/\d\d:\d\d:\d\d  ERROR payment timeout ⏎   at charge\(\)/#))
        #expect(out.contains("convops: checkout: the newest 1 of 1 log lines in /ecs/checkout from the last 15 minutes matching “ERROR” (times in UTC):"))
        // No group known for an EC2 instance: say where to name one.
        #expect(out.contains("I don't know which log group holds the logs of web-1 (\(w.ids["web-1/staging"]!)). Name it under “log_groups” in the config file, as \"web-1\": \"/your/log/group\""))
        // A configured group that does not exist.
        #expect(out.contains("The log group /app/cache does not exist in staging/eu-west-1, so there are no logs to show for cache-1."))
    }

    /// A third account whose region does not answer (moto fails every call in a region it does
    /// not know): reads still answer and name the gap; a change is not planned until the person
    /// says where, since the unsearched place may hold another resource of that name.
    @Test func aPlaceThatCannotBeSearchedStopsAChangeUntilThePersonSaysWhere() async throws {
        let w = try await Self.world.get()
        let dir = try makeTemporaryDirectory("search-broken")
        try #"""
            {"accounts": [
              {"alias": "prod", "role_arn": "arn:aws:iam::111111111111:role/convops", "external_id": "ext-prod", "regions": ["eu-west-1", "eu-central-1"]},
              {"alias": "lab", "role_arn": "arn:aws:iam::222222222222:role/convops", "external_id": "ext-lab", "regions": ["eu-west-9"]}
            ]}
            """#.write(toFile: dir + "/convops.json", atomically: true, encoding: .utf8)
        let s = try Scenario(moto: w.moto, extra: ["CONVOPS_CONFIG": dir + "/convops.json"])
        defer { s.remove() }
        let stdin = "restart api-1\nrestart api-1 on account prod\ncancel\nstatus api-1\nalarms\nrestart arn:aws:ec2:eu-west-1:999999999999:instance/i-0123456789abcdef0\n"
        let result = try await convops(["chat", "--as", "alice"], stdin: stdin, environment: s.environment)
        let out = result.stdout
        #expect(out.contains("convops: I found api-1 (\(w.ids["api-1"]!)) in prod/eu-central-1, but I couldn't look everywhere, and another “api-1” may live where I couldn't; nothing was planned."), "\(out)")
        #expect(out.contains("convops: I couldn't look in lab/eu-west-9: "))
        #expect(out.contains("convops:   where:    prod/eu-central-1"))
        #expect(out.contains("convops: api-1 (\(w.ids["api-1"]!)) is running — EC2 instance in prod/eu-central-1."))
        #expect(out.contains("convops: Alarms in state ALARM in prod/eu-west-1, prod/eu-central-1 (1):"))
        #expect(out.contains("convops: “arn:aws:ec2:eu-west-1:999999999999:instance/i-0123456789abcdef0” names an account or region I may not look in for you"))
        // Only the plan named by account was stored, and it was cancelled.
        #expect(try s.store().auditEntries(limit: 20).map(\.decision) == [.requested, .cancelled])
    }

    @Test func dryRunChatShowsPlansAndStoresNothing() async throws {
        let w = try await Self.world.get()
        // A database of its own: nothing at all may be stored in it.
        let s = try Scenario(moto: w.moto, extra: ["CONVOPS_CONFIG": w.scenario.environment["CONVOPS_CONFIG"]!])
        defer { s.remove() }
        let result = try await convops(["chat", "--dry-run", "--as", "alice"], stdin: "restart api-1\nconfirm\n", environment: s.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("convops: Dry run: restart api-1"), "\(result.stdout)")
        #expect(result.stdout.contains("calls:    ec2:RebootInstances InstanceIds=\(w.ids["api-1"]!)"))
        #expect(result.stdout.contains("Nothing was stored or run."))
        #expect(result.stdout.contains("convops: This is a dry run: nothing is confirmed, approved, rejected or cancelled here."))
        let store = try s.store()
        #expect(try store.auditEntries(limit: 1000).isEmpty)
        #expect(try store.requests(in: [.awaitingConfirmation]).isEmpty)
    }
}
