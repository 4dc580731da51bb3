import ConvOpsCore
import ConvOpsTestSupport
import Foundation
import Testing

/// People talk in turns: "how is web-1 doing?" then "restart it"; "same for worker-1"; "the
/// one in prod" after an ambiguous name; "the api service" when an instance is called api too.
/// Driven through `convops chat` (the shipped binary) against moto.
@Suite(.serialized) struct FollowUpEndToEndTests {
    /// Beside the demo account: two instances called db-1 (prod and staging), and an instance
    /// and an ECS service both called api.
    static let seed = """
        import boto3, sys
        ep = sys.argv[1]
        kw = dict(endpoint_url=ep, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
        ec2 = boto3.client("ec2", **kw)
        image = ec2.describe_images()["Images"][0]["ImageId"]
        for name, env in [("db-1", "prod"), ("db-1", "staging"), ("api", "staging")]:
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, {"Key": "Environment", "Value": env}]}])
        ecs = boto3.client("ecs", **kw)
        ecs.create_cluster(clusterName="apps")
        ecs.register_task_definition(family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 128}])
        ecs.create_service(cluster="apps", serviceName="api", taskDefinition="api", desiredCount=1,
                           tags=[{"key": "Environment", "value": "staging"}])
        """

    func chat(_ lines: [String]) async throws -> String {
        let moto = try await SeededMoto.shared.get(also: Self.seed)
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        let result = try await convops(["chat", "--as", "alice"], stdin: lines.joined(separator: "\n") + "\n", environment: scenario.environment)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func restartItAfterAStatusQuestionRestartsThatInstance() async throws {
        let out = try await chat(["how is web-1 doing?", "restart it", "confirm"])
        let status = try #require(out.split(separator: "\n").first { $0.contains("web-1 (i-") })
        let id = String(try #require(status.split(separator: "(").dropFirst().first?.split(separator: ")").first))
        #expect(out.contains("what:     reboot EC2 instance web-1 (\(id)) (from your last message)"), "\(out)")
        #expect(out.contains("Done: web-1 (\(id)) was rebooted"), "\(out)")
    }

    @Test func sameForAnotherMakesTheSamePlanForIt() async throws {
        let out = try await chat(["restart web-2", "cancel", "same for worker-1", "cancel"])
        #expect(out.contains("what:     reboot EC2 instance worker-1 (i-"), "\(out)")
        #expect(out.contains(") (as in your last request)"), "\(out)")
    }

    @Test func theOneInProdPicksAmongTheCandidates() async throws {
        let out = try await chat(["restart db-1", "the one in prod"])
        #expect(out.contains("“db-1” matches 2 resources"), "\(out)")
        #expect(out.contains("what:     reboot EC2 instance db-1 (i-"), "\(out)")
        #expect(out.contains("env:      prod"), "\(out)")
    }

    @Test func aKindNounNarrowsTheSearch() async throws {
        let out = try await chat(["restart api", "restart the api service", "cancel", "restart the api instance", "cancel",
                                  "restart the web-1 service"])
        #expect(out.contains("“api” matches 2 resources"), "\(out)")
        #expect(out.contains("what:     redeploy ECS service api"), "\(out)")
        #expect(out.contains("what:     reboot EC2 instance api (i-"), "\(out)")
        #expect(out.contains("I can't find an ECS service called “web-1” in eu-west-1. I looked only for that kind"), "\(out)")
    }

    @Test func withNothingEarlierItAsksAndNothingIsPlanned() async throws {
        let out = try await chat(["restart it", "same for web-2", "und jetzt neu starten", "how is web-1?", "stop"])
        #expect(out.contains("Which resource do you mean? I have nothing of yours in this conversation"), "\(out)")
        #expect(out.contains("That picks up an earlier request, but I have none of yours"), "\(out)")
        #expect(out.contains("Welche Ressource meinst du?"), "\(out)")
        // "stop" alone is not "stop it", however recent web-1 is.
        #expect(out.contains("“stop” needs a target: which one?"), "\(out)")
        #expect(!out.contains("Plan "), "\(out)")
    }

    @Test func aNegatedFollowUpPlansNothing() async throws {
        let out = try await chat(["restart web-2", "cancel", "don't do the same for worker-1", "should I do the same for worker-1?",
                                  "I did the same for worker-1", "> same for worker-1"])
        #expect(out.contains("You said not to, so I won't restart anything."), "\(out)")
        #expect(out.contains("That reads like a question, so I won't restart anything. To do it, say “restart worker-1”."), "\(out)")
        #expect(out.contains("That sounds like a report about something done, so I won't restart anything."), "\(out)")
        #expect(out.contains("That is quoted, so I take it as someone else's words and won't restart anything."), "\(out)")
        #expect(out.components(separatedBy: "Plan ").count == 2, "\(out)")
    }
}
