import ConvOpsCore

/// Turns a confirmed plan into the AWS calls it lists, and reports how it went.
public struct Executor: Sendable {
    let client: AWSClient
    /// Cleared once a plan ran: what we changed is no longer what the cache says.
    let inventory: InventoryCache?
    /// How often a waiter looks, and how long it waits for the effect before it says so.
    let pollInterval: Duration
    let waitTimeout: Duration

    /// Something to show while a plan runs ("web-1 is stopping").
    public typealias Progress = @Sendable (String) async -> Void

    public init(client: AWSClient, inventory: InventoryCache? = nil, pollInterval: Duration = .seconds(5),
                waitTimeout: Duration = .seconds(600)) {
        self.client = client
        self.inventory = inventory
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
    }

    /// The calls a plan will make, for the plan preview (and `--dry-run`).
    public static func apiCalls(for action: PlannedAction, resource: ResourceRef, desiredCount: Int? = nil) -> [APICall] {
        let cluster = resource.container ?? "-"
        let count = desiredCount.map(String.init) ?? "?"
        return switch action {
        case .rebootInstance:
            [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": resource.id])]
        case .stopInstance:
            [APICall(service: "ec2", operation: "StopInstances", parameters: ["InstanceIds": resource.id])]
        case .startInstance:
            [APICall(service: "ec2", operation: "StartInstances", parameters: ["InstanceIds": resource.id])]
        case .redeployService:
            [APICall(service: "ecs", operation: "UpdateService", parameters: ["cluster": cluster, "service": resource.name ?? resource.id,
                                                                              "forceNewDeployment": "true"])]
        case .rebootDatabase:
            [APICall(service: "rds", operation: "RebootDBInstance", parameters: ["DBInstanceIdentifier": resource.id])]
        case .scaleService:
            [APICall(service: "ecs", operation: "UpdateService", parameters: ["cluster": cluster, "service": resource.name ?? resource.id,
                                                                              "desiredCount": count])]
        case .scaleGroup:
            [APICall(service: "autoscaling", operation: "SetDesiredCapacity",
                     parameters: ["AutoScalingGroupName": resource.name ?? resource.id, "DesiredCapacity": count])]
        }
    }

    /// Runs the plan. Never throws: a failure is an outcome, told in words a person can act on.
    /// The principal is the identity the calls ran as, for the audit log.
    public func execute(_ plan: Plan, progress: Progress? = nil) async -> Outcome {
        let principal = try? await client.principal()
        defer { inventory?.invalidate() }
        do {
            switch plan.action {
            case .rebootInstance:
                try await EC2(client: client).rebootInstances(ids: [plan.resource.id], region: plan.resource.region)
                return Outcome(succeeded: true, summary: "rebooted", principal: principal)
            case .stopInstance, .startInstance:
                let ec2 = EC2(client: client)
                let stopping = plan.action == .stopInstance
                let ids = [plan.resource.id]
                let now = stopping ? try await ec2.stopInstances(ids: ids, region: plan.resource.region)
                    : try await ec2.startInstances(ids: ids, region: plan.resource.region)
                let target = stopping ? "stopped" : "running"
                let reached = try await waitForState(target, id: plan.resource.id, region: plan.resource.region,
                                                     first: now[plan.resource.id], label: plan.resource.label, progress: progress)
                guard reached else {
                    return Outcome(succeeded: false, summary: "\(plan.resource.label) was asked to \(plan.action.verb) but is not \(target) after \(waitTimeout); look at it in the EC2 console before trying again",
                                   principal: principal)
                }
                return Outcome(succeeded: true, summary: target, principal: principal)
            case .redeployService, .scaleService:
                let ecs = ECS(client: client)
                let cluster = plan.resource.container ?? ""
                let service = plan.resource.name ?? plan.resource.id
                _ = try await ecs.updateService(cluster: cluster, service: service,
                                                desiredCount: plan.action == .scaleService ? plan.desiredCount : nil,
                                                forceNewDeployment: plan.action == .redeployService, region: plan.resource.region)
                guard try await waitForSteadyService(cluster: cluster, service: service, region: plan.resource.region,
                                                     label: plan.resource.label, progress: progress) else {
                    return Outcome(succeeded: false, summary: "\(plan.resource.label) did not reach a steady state within \(waitTimeout); its deployment may still be rolling: look at the service's events in the ECS console",
                                   principal: principal)
                }
                return Outcome(succeeded: true, summary: "steady", principal: principal)
            case .rebootDatabase:
                let rds = RDS(client: client)
                let first = try await rds.rebootDBInstance(id: plan.resource.id, region: plan.resource.region)
                await progress?("\(plan.resource.label) is \(first.status)")
                let deadline = ContinuousClock.now + waitTimeout
                var status = first.status
                while status != "available" {
                    guard ContinuousClock.now < deadline else {
                        return Outcome(succeeded: false, summary: "\(plan.resource.label) is still \(status) after \(waitTimeout)", principal: principal)
                    }
                    try? await Task.sleep(for: pollInterval)
                    let now = try await rds.describeDBInstances(id: plan.resource.id, region: plan.resource.region).first?.status ?? "gone"
                    if now != status { await progress?("\(plan.resource.label) is \(now)") }
                    status = now
                }
                return Outcome(succeeded: true, summary: "available", principal: principal)
            case .scaleGroup:
                guard let desired = plan.desiredCount else {
                    return Outcome(succeeded: false, summary: "the plan has no count to scale \(plan.resource.label) to; nothing was changed",
                                   principal: principal)
                }
                let before = try await AutoScaling(client: client).setDesiredCapacity(group: plan.resource.name ?? plan.resource.id, to: desired,
                                                                                     region: plan.resource.region)
                await progress?("\(plan.resource.label): desired capacity \(before.desiredCapacity) → \(desired)")
                return Outcome(succeeded: true, summary: "\(desired)", principal: principal)
            }
        } catch {
            return Outcome(succeeded: false, summary: error.description, principal: principal)
        }
    }

    /// Polls the instance until it is in `target`, telling each new state along the way.
    /// False when the timeout passed first (the call was made; the effect is not confirmed).
    func waitForState(_ target: String, id: String, region: String, first: String?, label: String,
                      progress: Progress?) async throws(AWSError) -> Bool {
        let ec2 = EC2(client: client)
        let deadline = ContinuousClock.now + waitTimeout
        var last = first
        if let first { await progress?("\(label) is \(first)") }
        while last != target {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: pollInterval)
            let state = try await ec2.describeInstances(ids: [id], region: region).first?.state ?? "gone"
            if state != last {
                last = state
                await progress?("\(label) is \(state)")
            }
            if state == "terminated" || state == "gone" { return false }
        }
        return true
    }

    /// The AWS SDKs' "services stable" rule: one deployment left, and as many tasks running as
    /// desired. Progress is the new deployment's tasks ("2/4 tasks replaced").
    func waitForSteadyService(cluster: String, service: String, region: String, label: String,
                              progress: Progress?) async throws(AWSError) -> Bool {
        let ecs = ECS(client: client)
        let deadline = ContinuousClock.now + waitTimeout
        var last = ""
        while true {
            guard let s = try await ecs.describeServices(cluster: cluster, services: [service], region: region).first else { return false }
            let primary = s.deployments.first { $0.status == "PRIMARY" }
            let step = primary.map { "\($0.runningCount)/\(s.desiredCount) tasks replaced" } ?? "\(s.runningCount)/\(s.desiredCount) tasks running"
            if step != last {
                last = step
                await progress?("\(label): \(step)")
            }
            if s.deployments.count == 1 && s.runningCount == s.desiredCount { return true }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: pollInterval)
        }
    }
}
