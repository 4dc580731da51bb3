import ConvOpsAWS
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation
import Testing

/// Every operation ConvOps uses, over its real protocol (query, ec2, JSON 1.0/1.1) and signing
/// name, against moto, with resources made by boto3.
@Suite(.serialized) struct OperationsTests {
    static let seed = """
        import boto3, json, sys, datetime
        kw = dict(region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
        ec2 = boto3.client("ec2", **kw)
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
        ecs = boto3.client("ecs", **kw)
        ecs.create_cluster(clusterName="apps")
        ecs.register_task_definition(family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 128}])
        ecs.create_service(cluster="apps", serviceName="api", taskDefinition="api", desiredCount=2)
        rds = boto3.client("rds", **kw)
        rds.create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                               MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)
        ec2.create_launch_template(LaunchTemplateName="workers", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
        asg = boto3.client("autoscaling", **kw)
        asg.create_auto_scaling_group(AutoScalingGroupName="workers", LaunchTemplate={"LaunchTemplateName": "workers"},
                                      MinSize=1, MaxSize=3, DesiredCapacity=1, AvailabilityZones=["eu-west-1a"])
        cw = boto3.client("cloudwatch", **kw)
        cw.put_metric_alarm(AlarmName="web-cpu-high", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
                            Period=60, EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "InstanceId", "Value": inst}])
        cw.set_alarm_state(AlarmName="web-cpu-high", StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint (93.0)")
        now = datetime.datetime.now(datetime.timezone.utc)
        for i, v in enumerate([40.0, 93.0]):
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "CPUUtilization", "Value": v,
                "Timestamp": now - datetime.timedelta(minutes=10 - 5 * i), "Dimensions": [{"Name": "InstanceId", "Value": inst}]}])
        logs = boto3.client("logs", **kw)
        logs.create_log_group(logGroupName="/ecs/api")
        logs.create_log_stream(logGroupName="/ecs/api", logStreamName="api/1")
        ms = int(now.timestamp() * 1000)
        logs.put_log_events(logGroupName="/ecs/api", logStreamName="api/1",
                            logEvents=[{"timestamp": ms - 2000, "message": "GET /health 200"}, {"timestamp": ms - 1000, "message": "ERROR db timeout"}])
        sqs = boto3.client("sqs", **kw)
        queue = sqs.create_queue(QueueName="convops-alarms")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Type": "Notification", "Message": "{}"}))
        print(json.dumps({"instance": inst, "queue": queue}))
        """

    struct World {
        let moto: MotoServer
        let client: AWSClient
        let instance: String
        let queue: String
    }

    static func world() async throws -> World {
        let moto = try await MotoServer.start()
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let seeded = try await Subprocess.run("/usr/bin/env", [python, "-c", seed, moto.endpoint])
        guard seeded.status == 0, let json = try JSONSerialization.jsonObject(with: Data(seeded.stdout.utf8)) as? [String: String] else {
            throw TestSupportError("seeding failed: \(seeded.stderr.suffix(1500))")
        }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let client = AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                               http: http, logger: .quiet)
        return World(moto: moto, client: client, instance: json["instance"]!, queue: json["queue"]!)
    }

    @Test func everyOperationWorksOverItsOwnProtocol() async throws {
        let w = try await Self.world()
        defer { w.moto.stop() }
        try await w.moto.startRecording()

        // EC2
        let ec2 = EC2(client: w.client)
        let status = try await ec2.describeInstanceStatus(ids: [w.instance])
        #expect(status.first?.state == "running")
        #expect(try await ec2.stopInstances(ids: [w.instance])[w.instance] == "stopping")
        #expect(try await ec2.startInstances(ids: [w.instance])[w.instance] == "pending")

        // ECS (JSON 1.1)
        let ecs = ECS(client: w.client)
        let clusters = try await ecs.listClusters()
        #expect(clusters.contains { $0.hasSuffix("cluster/apps") })
        let services = try await ecs.listServices(cluster: "apps")
        #expect(services.count == 1)
        let api = try #require(try await ecs.describeServices(cluster: "apps", services: services).first)
        #expect(api.name == "api" && api.desiredCount == 2)
        let scaled = try await ecs.updateService(cluster: "apps", service: "api", desiredCount: 4)
        #expect(scaled.desiredCount == 4)
        _ = try await ecs.updateService(cluster: "apps", service: "api", forceNewDeployment: true)
        await #expect { try await ecs.describeServices(cluster: "nope", services: ["api"]) } throws: { "\($0)".contains("ecs:DescribeServices") }

        // RDS
        let rds = RDS(client: w.client)
        #expect(try await rds.describeDBInstances().map(\.id) == ["orders-db"])
        #expect(try await rds.rebootDBInstance(id: "orders-db").id == "orders-db")

        // Auto Scaling: refused above MaxSize before any call, with what to do.
        let autoscaling = AutoScaling(client: w.client)
        let group = try #require(try await autoscaling.describeGroups(names: ["workers"]).first)
        #expect(group.maxSize == 3 && group.desiredCapacity == 1)
        try await autoscaling.setDesiredCapacity(group: "workers", to: 3)
        #expect(try await autoscaling.describeGroups(names: ["workers"]).first?.desiredCapacity == 3)
        await #expect { try await autoscaling.setDesiredCapacity(group: "workers", to: 7) } throws: {
            "\($0)".contains("workers can hold at most 3 instances (its MaxSize); ask for 3 or fewer, or raise MaxSize first")
        }

        // CloudWatch (signed as "monitoring")
        let cloudWatch = CloudWatch(client: w.client)
        let alarms = try await cloudWatch.describeAlarms(state: "ALARM")
        #expect(alarms.map(\.name) == ["web-cpu-high"])
        #expect(alarms.first?.dimensions["InstanceId"] == w.instance)
        let cpu = try await cloudWatch.metricData([.ec2("cpu", instance: w.instance)], from: Date().addingTimeInterval(-3600), to: Date())
        #expect(!(cpu["cpu"] ?? []).isEmpty)

        // CloudWatch Logs (JSON 1.1)
        let events = try await Logs(client: w.client).filterLogEvents(group: "/ecs/api", since: Date().addingTimeInterval(-600))
        #expect(events.map(\.message) == ["GET /health 200", "ERROR db timeout"])

        // SQS (JSON 1.0): a long poll that returns at once when a message waits, then delete.
        let sqs = SQS(client: w.client)
        let messages = try await sqs.receiveMessages(queueURL: w.queue, waitSeconds: 1)
        #expect(messages.count == 1)
        try await sqs.deleteMessage(queueURL: w.queue, receiptHandle: messages[0].receiptHandle)
        #expect(try await sqs.receiveMessages(queueURL: w.queue, waitSeconds: 0).isEmpty)

        // Every call was a POST; the JSON ones named their target.
        let recorded = try await w.moto.recordedBodies()
        #expect(recorded.contains { $0.contains("Action=DescribeAlarms") })
        #expect(recorded.contains { $0.contains("Action=SetDesiredCapacity") && $0.contains("DesiredCapacity=3") })
        #expect(!recorded.contains { $0.contains("DesiredCapacity=7") })
    }
}
