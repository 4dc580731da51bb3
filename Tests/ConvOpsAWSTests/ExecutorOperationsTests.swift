import ConvOpsAWS
import ConvOpsCore
import ConvOpsTestSupport
import Foundation
import Testing

/// One list of operations per planned action: what the preview shows is what runs, and a
/// stored plan whose calls are not its action's runs nothing.
extension RetryTests {
    static let instance = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-1", region: "eu-west-1")
    static let identity = #"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/stub</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#

    static func resource(for action: PlannedAction) -> ResourceRef {
        switch action {
        case .rebootInstance, .stopInstance, .startInstance: instance
        case .redeployService, .scaleService:
            ResourceRef(kind: .ecsService, id: "arn:aws:ecs:eu-west-1:1:service/apps/api", name: "api", region: "eu-west-1", container: "apps")
        case .rebootDatabase: ResourceRef(kind: .rdsInstance, id: "orders-db", name: "orders-db", region: "eu-west-1")
        case .scaleGroup: ResourceRef(kind: .autoScalingGroup, id: "workers", name: "workers", region: "eu-west-1")
        }
    }

    @Test func everyActionsCallsReadBackAsTheOperationsThePreviewShowed() {
        for action in PlannedAction.allCases {
            let operations = AWSOperation.list(for: action, on: Self.resource(for: action), desiredCount: 3)
            #expect(!operations.isEmpty, "\(action)")
            let shown = Executor.apiCalls(for: action, resource: Self.resource(for: action), desiredCount: 3)
            #expect(shown == operations.map(\.call), "\(action)")
            #expect(shown.compactMap(AWSOperation.init) == operations, "\(action)")
        }
        // A scale needs its count: without one there is nothing to call.
        #expect(AWSOperation.list(for: .scaleService, on: Self.resource(for: .scaleService)).isEmpty)
    }

    @Test func storedCallsThatAreNotTheActionsRunNothing() async throws {
        let stub = try FaultStub([.respond(200, Self.identity)])
        defer { stub.server.shutdown() }
        let good = Executor.apiCalls(for: .rebootInstance, resource: Self.instance)
        let edited: [[APICall]] = [
            [],                                                                                         // no calls
            [APICall(service: "ec2", operation: "StopInstances", parameters: ["InstanceIds": Self.instance.id])],  // another operation
            [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": "i-0ffffffffffffffff"])],  // another instance
            good + good,                                                                                // twice
            [APICall(service: "ec2", operation: "TerminateInstances", parameters: ["InstanceIds": Self.instance.id])],  // one we never make
            [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": Self.instance.id, "DryRun": "false"])],
        ]
        for calls in edited {
            let plan = Plan(action: .rebootInstance, resource: Self.instance, risk: .mutating, apiCalls: calls)
            let outcome = await Executor(client: client(stub)).execute(plan)
            #expect(!outcome.succeeded)
            #expect(outcome.summary.contains("nothing was called"), "\(outcome.summary)")
        }
        // Counts that are not counts, or not the plan's, in a scale the database was edited to hold.
        let group = Self.resource(for: .scaleGroup)
        for count in ["999999", "3 OR 1=1", "+3", "-1", "99999999999", ""] {
            var calls = Executor.apiCalls(for: .scaleGroup, resource: group, desiredCount: 3)
            calls[0].parameters["DesiredCapacity"] = count
            let outcome = await Executor(client: client(stub)).execute(Plan(action: .scaleGroup, resource: group, risk: .mutating,
                                                                            apiCalls: calls, desiredCount: 3))
            #expect(!outcome.succeeded, "\(count)")
        }
        // A large count the planner allowed (a scale down from 20,000) is a count.
        #expect(AWSOperation(APICall(service: "autoscaling", operation: "SetDesiredCapacity",
                                     parameters: ["AutoScalingGroupName": "g", "DesiredCapacity": "19995"])) == .setDesiredCapacity(group: "g", count: 19_995))
        #expect(stub.callCount == 0, "no request reached AWS")
    }

    @Test func aStopThatNeverLandsTimesOutOnTheInjectedClock() async throws {
        let stopping = #"<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><instanceState><name>stopping</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#
        let stop = #"<StopInstancesResponse><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><currentState><name>stopping</name></currentState></item></instancesSet></StopInstancesResponse>"#
        let stub = try FaultStub([.respond(200, Self.identity), .respond(200, stop), .respond(200, stopping)])
        defer { stub.server.shutdown() }
        let clock = ManualClock()
        let plan = Plan(action: .stopInstance, resource: Self.instance, risk: .mutating,
                        apiCalls: Executor.apiCalls(for: .stopInstance, resource: Self.instance))
        let run = Task {
            await Executor(client: client(stub), pollInterval: .seconds(5), waitTimeout: .seconds(600), clock: clock.sleeps).execute(plan)
        }
        // Ten minutes of five-second polls, in no real time.
        for _ in 0..<120 {
            try await clock.waitForSleepers()
            clock.advance(by: .seconds(5))
        }
        let outcome = await run.value
        #expect(!outcome.succeeded)
        #expect(outcome.summary.contains("is not stopped after 600"), "\(outcome.summary)")
        #expect(stub.callCount == 2 + 120, "the stop, then one look per poll")
    }
}
