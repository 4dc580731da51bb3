import ConvOpsAWS
import ConvOpsCore
import Foundation
import Synchronization
import Testing

/// The ECS redeploy's way to steady state, which moto cannot show (it runs no tasks): a
/// scripted ECS answers as a real rolling deployment does, and the executor reports each step.
/// In RetryTests' serialized suite: its stubs share loopback ports with the others.
extension RetryTests {
    static func service(running: Int, deployments: [(status: String, running: Int)]) -> String {
        let list = deployments.enumerated().map { i, d in
            #"{"id": "ecs-svc/\#(i)", "status": "\#(d.status)", "desiredCount": \#(d.status == "PRIMARY" ? 2 : 0), "runningCount": \#(d.running)}"#
        }.joined(separator: ", ")
        return #"{"serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/apps/api", "serviceName": "api", "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/apps", "status": "ACTIVE", "desiredCount": 2, "runningCount": \#(running), "pendingCount": 0, "deployments": [\#(list)]}"#
    }

    @Test func anECSRedeployIsFollowedToSteadyStateWithProgress() async throws {
        let identity = #"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/stub</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#
        let stub = try FaultStub([
            .respond(200, identity),
            .respond(200, #"{"service": \#(Self.service(running: 2, deployments: [("PRIMARY", 0), ("ACTIVE", 2)]))}"#),
            .respond(200, #"{"services": [\#(Self.service(running: 3, deployments: [("PRIMARY", 1), ("ACTIVE", 2)]))], "failures": []}"#),
            .respond(200, #"{"services": [\#(Self.service(running: 3, deployments: [("PRIMARY", 2), ("ACTIVE", 1)]))], "failures": []}"#),
            .respond(200, #"{"services": [\#(Self.service(running: 2, deployments: [("PRIMARY", 2)]))], "failures": []}"#),
        ])
        defer { stub.server.shutdown() }
        let resource = ResourceRef(kind: .ecsService, id: "arn:aws:ecs:eu-west-1:123456789012:service/apps/api", name: "api",
                                   region: "eu-west-1", container: "arn:aws:ecs:eu-west-1:123456789012:cluster/apps")
        let plan = Plan(action: .redeployService, resource: resource, risk: .mutating,
                        apiCalls: Executor.apiCalls(for: .redeployService, resource: resource))
        let steps = Mutex([String]())
        // The deadline is far: this checks the steps, and a busy pool on 2 cores has made a
        // five-call walk take over 10 s.
        let outcome = await Executor(client: client(stub), pollInterval: .milliseconds(10), waitTimeout: .seconds(60))
            .execute(plan) { step in steps.withLock { $0.append(step) } }
        #expect(outcome.succeeded, "\(outcome.summary)")
        #expect(outcome.summary == "steady")
        #expect(outcome.principal == "arn:aws:iam::123456789012:user/stub")
        #expect(steps.withLock { $0 } == ["api: 1/2 tasks replaced", "api: 2/2 tasks replaced"])
        #expect(stub.callCount == 5)
    }
}
