/// What will run if the person confirms: the action, the resolved resource and the
/// exact API calls. A plan is what the state machine carries and what people confirm.
public struct Plan: Sendable, Hashable, Codable {
    public var action: PlannedAction
    public var resource: ResourceRef
    public var risk: Risk
    /// The exact AWS API calls that executing the plan makes, in order.
    public var apiCalls: [APICall]

    public init(action: PlannedAction, resource: ResourceRef, risk: Risk, apiCalls: [APICall]) {
        self.action = action
        self.resource = resource
        self.risk = risk
        self.apiCalls = apiCalls
    }

    /// The command rendered back to canonical text, so people confirm exactly what runs.
    public var canonicalText: String {
        "\(action.verb) \(resource.name ?? resource.id)"
    }
}

public enum PlannedAction: String, Sendable, Hashable, Codable, CaseIterable {
    case rebootInstance = "reboot-instance"
    case stopInstance = "stop-instance"
    case startInstance = "start-instance"

    /// The intent word this action renders back to.
    public var verb: String {
        switch self {
        case .rebootInstance: "restart"
        case .stopInstance: "stop"
        case .startInstance: "start"
        }
    }

    public var intentKind: IntentKind {
        switch self {
        case .rebootInstance: .restart
        case .stopInstance: .stop
        case .startInstance: .start
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
