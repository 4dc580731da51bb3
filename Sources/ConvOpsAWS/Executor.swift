import ConvOpsCore

/// Turns a confirmed plan into the AWS calls it lists, and reports how it went.
public struct Executor: Sendable {
    let client: AWSClient
    /// Cleared once a plan ran: what we changed is no longer what the cache says.
    let inventory: InventoryCache?

    public init(client: AWSClient, inventory: InventoryCache? = nil) {
        self.client = client
        self.inventory = inventory
    }

    /// The calls a plan will make, for the plan preview (and `--dry-run`).
    public static func apiCalls(for action: PlannedAction, resource: ResourceRef) -> [APICall] {
        switch action {
        case .rebootInstance:
            [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": resource.id])]
        }
    }

    /// Runs the plan. Never throws: a failure is an outcome, told in words a person can act on.
    /// The principal is the identity the calls ran as, for the audit log.
    public func execute(_ plan: Plan) async -> Outcome {
        let principal = try? await client.principal()
        defer { inventory?.invalidate() }
        do {
            switch plan.action {
            case .rebootInstance:
                try await EC2(client: client).rebootInstances(ids: [plan.resource.id], region: plan.resource.region)
                return Outcome(succeeded: true, summary: "rebooted", principal: principal)
            }
        } catch {
            return Outcome(succeeded: false, summary: error.description, principal: principal)
        }
    }
}
