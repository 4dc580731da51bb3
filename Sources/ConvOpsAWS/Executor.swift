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
    public static func apiCalls(for action: PlannedAction, resource: ResourceRef) -> [APICall] {
        switch action {
        case .rebootInstance:
            [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": resource.id])]
        case .stopInstance:
            [APICall(service: "ec2", operation: "StopInstances", parameters: ["InstanceIds": resource.id])]
        case .startInstance:
            [APICall(service: "ec2", operation: "StartInstances", parameters: ["InstanceIds": resource.id])]
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
}
