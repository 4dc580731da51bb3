import ConvOpsCore

/// Turns a confirmed plan into the AWS calls it lists, and reports how it went.
public struct Executor: Sendable {
    let client: AWSClient
    /// Cleared once a plan ran: what we changed is no longer what the cache says.
    let inventory: InventoryCache?
    /// How often a waiter looks, and how long it waits for the effect before it says so.
    let pollInterval: Duration
    let waitTimeout: Duration
    /// What the waiters sleep on and measure their timeout with.
    let clock: any Clock<Duration>

    /// Something to show while a plan runs ("web-1 is stopping").
    public typealias Progress = @Sendable (String) async -> Void

    public init(client: AWSClient, inventory: InventoryCache? = nil, pollInterval: Duration = .seconds(5),
                waitTimeout: Duration = .seconds(600), clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
        self.client = client
        self.inventory = inventory
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
    }

    /// The calls a plan will make, for the plan preview (and `--dry-run`): the action's one
    /// list of operations, which `execute` runs as stored.
    public static func apiCalls(for action: PlannedAction, resource: ResourceRef, desiredCount: Int? = nil) -> [APICall] {
        AWSOperation.list(for: action, on: resource, desiredCount: desiredCount).map(\.call)
    }

    /// Runs the calls the stored plan lists, the ones its person confirmed, each followed to its
    /// effect. Calls that are not what the plan's action makes on the plan's resource (a row
    /// whose calls were edited on their own) run nothing. Never throws: a failure is an outcome, told in words a person can act on.
    /// The principal is the identity the calls ran as, for the audit log.
    public func execute(_ plan: Plan, progress: Progress? = nil) async -> Outcome {
        let operations = plan.apiCalls.compactMap(AWSOperation.init)
        guard !operations.isEmpty, operations.count == plan.apiCalls.count,
              operations == AWSOperation.list(for: plan.action, on: plan.resource, desiredCount: plan.desiredCount) else {
            return Outcome(succeeded: false, summary: "the stored plan's calls are not the ones \(plan.action.verb) makes on \(plan.resource.label), so nothing was called; make a new plan",
                           principal: nil)
        }
        let principal = try? await client.principal()
        // Only what this change touched is forgotten: the resource and its kind's listing (an
        // Auto Scaling group's instances too); other names and places stay known.
        defer { inventory?.invalidate(plan.resource) }
        var summary = ""
        do {
            for operation in operations {
                switch try await run(operation, on: plan.resource, progress: progress) {
                case .done(let said): summary = said
                case .unconfirmed(let why): return Outcome(succeeded: false, summary: why, principal: principal)
                }
            }
        } catch {
            return Outcome(succeeded: false, summary: error.description, principal: principal)
        }
        return Outcome(succeeded: true, summary: summary, principal: principal)
    }

    enum Step {
        /// The call was made and its effect seen: one word for the outcome ("stopped").
        case done(String)
        /// The call was made; its effect did not show in time, or the resource went.
        case unconfirmed(String)
    }

    func run(_ operation: AWSOperation, on resource: ResourceRef, progress: Progress?) async throws(AWSError) -> Step {
        let region = resource.region, label = resource.label
        switch operation {
        case .rebootInstances(let id):
            try await EC2(client: client).rebootInstances(ids: [id], region: region)
            return .done("rebooted")
        case .stopInstances(let id), .startInstances(let id):
            let ec2 = EC2(client: client)
            let stopping = if case .stopInstances = operation { true } else { false }
            let now = stopping ? try await ec2.stopInstances(ids: [id], region: region) : try await ec2.startInstances(ids: [id], region: region)
            let target = stopping ? "stopped" : "running"
            guard try await waitForState(target, id: id, region: region, first: now[id], label: label, progress: progress) else {
                return .unconfirmed("\(label) was asked to \(stopping ? "stop" : "start") but is not \(target) after \(waitTimeout); look at it in the EC2 console before trying again")
            }
            return .done(target)
        case .updateService(let cluster, let service, let count, let force):
            _ = try await ECS(client: client).updateService(cluster: cluster, service: service, desiredCount: count,
                                                            forceNewDeployment: force, region: region)
            guard try await waitForSteadyService(cluster: cluster, service: service, region: region, label: label, progress: progress) else {
                return .unconfirmed("\(label) did not reach a steady state within \(waitTimeout); its deployment may still be rolling: look at the service's events in the ECS console")
            }
            return .done("steady")
        case .rebootDBInstance(let id):
            let rds = RDS(client: client)
            let first = try await rds.rebootDBInstance(id: id, region: region)
            await progress?("\(label) is \(first.status)")
            let deadline = Deadline(after: waitTimeout, on: clock)
            var status = first.status
            while status != "available" {
                guard !deadline.passed() else { return .unconfirmed("\(label) is still \(status) after \(waitTimeout)") }
                guard (try? await clock.sleep(for: pollInterval)) != nil else {
                    return .unconfirmed("\(label) was asked to reboot; the wait for it was stopped while it was \(status)")
                }
                let now = try await rds.describeDBInstances(id: id, region: region).first?.status ?? "gone"
                if now != status { await progress?("\(label) is \(now)") }
                status = now
            }
            return .done("available")
        case .setDesiredCapacity(let group, let desired):
            let before = try await AutoScaling(client: client).setDesiredCapacity(group: group, to: desired, region: region)
            await progress?("\(label): desired capacity \(before.desiredCapacity) → \(desired)")
            return .done("\(desired)")
        }
    }

    /// Polls the instance until it is in `target`, telling each new state along the way.
    /// False when the timeout passed first (the call was made; the effect is not confirmed).
    func waitForState(_ target: String, id: String, region: String, first: String?, label: String,
                      progress: Progress?) async throws(AWSError) -> Bool {
        let ec2 = EC2(client: client)
        let deadline = Deadline(after: waitTimeout, on: clock)
        var last = first
        if let first { await progress?("\(label) is \(first)") }
        while last != target {
            guard !deadline.passed() else { return false }
            // Stopped (the process is going down): the call was made, its effect not seen.
            guard (try? await clock.sleep(for: pollInterval)) != nil else { return false }
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
        let deadline = Deadline(after: waitTimeout, on: clock)
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
            guard !deadline.passed() else { return false }
            guard (try? await clock.sleep(for: pollInterval)) != nil else { return false }
        }
    }
}

/// A time limit on an injected clock.
struct Deadline: Sendable {
    let passed: @Sendable () -> Bool

    init<C: Clock<Duration>>(after duration: Duration, on clock: C) {
        let end = clock.now.advanced(by: duration)
        passed = { clock.now >= end }
    }
}
