/// What will run if the person confirms: the action, the resolved resource and the
/// exact API calls. A plan is what the state machine carries and what people confirm.
public struct Plan: Sendable, Hashable, Codable {
    public var action: PlannedAction
    public var resource: ResourceRef
    public var risk: Risk
    /// The exact AWS API calls that executing the plan makes, in order.
    public var apiCalls: [APICall]
    /// For a scale: the count to set (already worked out from a "+2").
    public var desiredCount: Int?
    /// The environment the resource lives in, as the policy decided on it (nil in rows
    /// stored before it was recorded: treated as unknown).
    public var environment: ResourceEnvironment?

    public init(action: PlannedAction, resource: ResourceRef, risk: Risk, apiCalls: [APICall], desiredCount: Int? = nil,
                environment: ResourceEnvironment? = nil) {
        self.environment = environment
        self.action = action
        self.resource = resource
        self.risk = risk
        self.apiCalls = apiCalls
        self.desiredCount = desiredCount
    }

    /// The command rendered back to canonical text, so people confirm exactly what runs.
    public var canonicalText: String {
        let target = resource.name ?? resource.id
        if let desiredCount { return "\(action.verb) \(target) to \(desiredCount)" }
        return "\(action.verb) \(target)"
    }
}

public enum PlannedAction: String, Sendable, Hashable, Codable, CaseIterable {
    case rebootInstance = "reboot-instance"
    case stopInstance = "stop-instance"
    case startInstance = "start-instance"
    /// A rolling restart of an ECS service: a new deployment of the same task definition.
    case redeployService = "redeploy-service"
    case rebootDatabase = "reboot-db-instance"
    case scaleService = "scale-service"
    case scaleGroup = "scale-group"

    /// The intent word this action renders back to.
    public var verb: String {
        switch self {
        case .rebootInstance: "restart"
        case .stopInstance: "stop"
        case .startInstance: "start"
        case .redeployService, .rebootDatabase: "restart"
        case .scaleService, .scaleGroup: "scale"
        }
    }

    public var intentKind: IntentKind {
        switch self {
        case .rebootInstance: .restart
        case .stopInstance: .stop
        case .startInstance: .start
        case .redeployService, .rebootDatabase: .restart
        case .scaleService, .scaleGroup: .scale
        }
    }

    /// What `intent` means for a resource of this kind; nil when it means nothing (stopping an
    /// ECS service, restarting an Auto Scaling group).
    public static func forIntent(_ intent: IntentKind, on kind: ResourceKind) -> PlannedAction? {
        switch (intent, kind) {
        case (.restart, .ec2Instance): .rebootInstance
        case (.restart, .ecsService): .redeployService
        case (.restart, .rdsInstance): .rebootDatabase
        case (.stop, .ec2Instance): .stopInstance
        case (.start, .ec2Instance): .startInstance
        case (.scale, .ecsService): .scaleService
        case (.scale, .autoScalingGroup): .scaleGroup
        default: nil
        }
    }
}

/// One AWS API call, as shown in the plan and recorded in the audit log.
public struct APICall: Sendable, Hashable, Codable, CustomStringConvertible {
    public var service: String
    public var operation: String
    public var parameters: [String: String]

    public init(service: String, operation: String, parameters: [String: String]) {
        self.service = service
        self.operation = operation
        self.parameters = parameters
    }

    /// `ec2:RebootInstances InstanceIds=i-0abc` — stable, sorted parameters.
    public var description: String {
        let params = parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: " ")
        return params.isEmpty ? "\(service):\(operation)" : "\(service):\(operation) \(params)"
    }
}
