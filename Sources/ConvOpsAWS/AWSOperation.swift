import ConvOpsCore

/// One AWS call a plan makes, with the read that follows it to its effect. A planned action
/// has one list of these: the preview shows it, the executor runs exactly it (read back from
/// the stored plan the person confirmed), and the IAM policy must grant every action in it.
public enum AWSOperation: Sendable, Hashable {
    case rebootInstances(id: String)
    case stopInstances(id: String)
    case startInstances(id: String)
    case updateService(cluster: String, service: String, desiredCount: Int?, forceNewDeployment: Bool)
    case rebootDBInstance(id: String)
    case setDesiredCapacity(group: String, count: Int)

    /// What a planned action on a resource calls, in order. A scale without a count has no
    /// operations: there is nothing safe to send.
    public static func list(for action: PlannedAction, on resource: ResourceRef, desiredCount: Int? = nil) -> [AWSOperation] {
        let cluster = resource.container ?? "-"
        let service = resource.name ?? resource.id
        switch action {
        case .rebootInstance: return [.rebootInstances(id: resource.id)]
        case .stopInstance: return [.stopInstances(id: resource.id)]
        case .startInstance: return [.startInstances(id: resource.id)]
        case .redeployService: return [.updateService(cluster: cluster, service: service, desiredCount: nil, forceNewDeployment: true)]
        case .rebootDatabase: return [.rebootDBInstance(id: resource.id)]
        case .scaleService:
            guard let desiredCount else { return [] }
            return [.updateService(cluster: cluster, service: service, desiredCount: desiredCount, forceNewDeployment: false)]
        case .scaleGroup:
            guard let desiredCount else { return [] }
            return [.setDesiredCapacity(group: resource.name ?? resource.id, count: desiredCount)]
        }
    }

    /// The call as the plan shows and stores it: `ec2:RebootInstances InstanceIds=i-0abc`.
    public var call: APICall {
        switch self {
        case .rebootInstances(let id): APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": id])
        case .stopInstances(let id): APICall(service: "ec2", operation: "StopInstances", parameters: ["InstanceIds": id])
        case .startInstances(let id): APICall(service: "ec2", operation: "StartInstances", parameters: ["InstanceIds": id])
        case .updateService(let cluster, let service, let count, let force):
            APICall(service: "ecs", operation: "UpdateService", parameters: ["cluster": cluster, "service": service]
                        .merging(count.map { ["desiredCount": String($0)] } ?? [:]) { a, _ in a }
                        .merging(force ? ["forceNewDeployment": "true"] : [:]) { a, _ in a })
        case .rebootDBInstance(let id): APICall(service: "rds", operation: "RebootDBInstance", parameters: ["DBInstanceIdentifier": id])
        case .setDesiredCapacity(let group, let count):
            APICall(service: "autoscaling", operation: "SetDesiredCapacity",
                    parameters: ["AutoScalingGroupName": group, "DesiredCapacity": String(count)])
        }
    }

    /// Reads a stored call back. Nil for anything this version would not have written (a call it
    /// does not make, a parameter it does not send, a count that is not one).
    public init?(_ call: APICall) {
        let p = call.parameters
        func only(_ keys: Set<String>) -> Bool { Set(p.keys) == keys && p.values.allSatisfy { !$0.isEmpty } }
        switch (call.service, call.operation) {
        case ("ec2", "RebootInstances") where only(["InstanceIds"]): self = .rebootInstances(id: p["InstanceIds"]!)
        case ("ec2", "StopInstances") where only(["InstanceIds"]): self = .stopInstances(id: p["InstanceIds"]!)
        case ("ec2", "StartInstances") where only(["InstanceIds"]): self = .startInstances(id: p["InstanceIds"]!)
        case ("ecs", "UpdateService") where only(["cluster", "service", "forceNewDeployment"]) && p["forceNewDeployment"] == "true":
            self = .updateService(cluster: p["cluster"]!, service: p["service"]!, desiredCount: nil, forceNewDeployment: true)
        case ("ecs", "UpdateService") where only(["cluster", "service", "desiredCount"]):
            guard let count = Self.count(p["desiredCount"]) else { return nil }
            self = .updateService(cluster: p["cluster"]!, service: p["service"]!, desiredCount: count, forceNewDeployment: false)
        case ("rds", "RebootDBInstance") where only(["DBInstanceIdentifier"]): self = .rebootDBInstance(id: p["DBInstanceIdentifier"]!)
        case ("autoscaling", "SetDesiredCapacity") where only(["AutoScalingGroupName", "DesiredCapacity"]):
            guard let count = Self.count(p["DesiredCapacity"]) else { return nil }
            self = .setDesiredCapacity(group: p["AutoScalingGroupName"]!, count: count)
        default: return nil
        }
    }

    /// The IAM actions the operation needs: its call, and the read that waits for its effect.
    public var iamActions: [String] {
        switch self {
        case .rebootInstances: ["ec2:RebootInstances"]
        case .stopInstances: ["ec2:StopInstances", "ec2:DescribeInstances"]
        case .startInstances: ["ec2:StartInstances", "ec2:DescribeInstances"]
        case .updateService: ["ecs:UpdateService", "ecs:DescribeServices"]
        case .rebootDBInstance: ["rds:RebootDBInstance", "rds:DescribeDBInstances"]
        // The group is read first, for its bounds and its count before.
        case .setDesiredCapacity: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity"]
        }
    }

    /// A count as this version writes it: plain digits, within what the AWS APIs take (Int32).
    /// How far a person may change it is the planner's limit, not this one's.
    static func count(_ text: String?) -> Int? {
        guard let text, !text.isEmpty, text.count <= 10, text.allSatisfy({ $0 >= "0" && $0 <= "9" }), let n = Int(text),
              n <= Int(Int32.max) else { return nil }
        return n
    }
}
