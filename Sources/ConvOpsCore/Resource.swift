/// A resource as a person mentioned it: a Name tag, an instance id or an ARN.
public struct ResourceMention: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    /// The kind the person named ("the api service"): only resources of this kind answer.
    public var kind: ResourceKind?
    /// Stands for the resource of the person's last message ("restart it"), not yet filled in.
    public var refersBack: Bool = false
    /// Filled in from the conversation: the plan says so.
    public var recalled: Recall?

    public enum Recall: Sendable, Hashable {
        /// "restart it": the resource of the last message.
        case earlier
        /// "same for web-2": the last request again, for another resource or place.
        case sameAgain
    }

    public init(_ text: String, kind: ResourceKind? = nil) {
        self.text = text
        self.kind = kind
    }

    /// "it": to be filled in from the conversation.
    public static func earlier(kind: ResourceKind? = nil) -> ResourceMention {
        var m = ResourceMention("it", kind: kind)
        m.refersBack = true
        return m
    }

    public enum Form: Sendable, Hashable { case name, instanceID, arn }

    public var form: Form {
        if text.hasPrefix("arn:") { return .arn }
        if ResourceMention.isInstanceID(text) { return .instanceID }
        return .name
    }

    /// `i-` followed by 8 or 17 lowercase hex digits, as EC2 issues them.
    public static func isInstanceID(_ s: String) -> Bool {
        guard s.hasPrefix("i-") else { return false }
        let hex = s.dropFirst(2)
        return (hex.count == 8 || hex.count == 17) && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    public var description: String { text }
}

public enum ResourceKind: String, Sendable, Hashable, Codable, CaseIterable {
    case ec2Instance = "ec2-instance"
    case ecsService = "ecs-service"
    case rdsInstance = "rds-instance"
    case autoScalingGroup = "autoscaling-group"

    /// How the kind reads in a sentence.
    public var noun: String {
        switch self {
        case .ec2Instance: "EC2 instance"
        case .ecsService: "ECS service"
        case .rdsInstance: "RDS instance"
        case .autoScalingGroup: "Auto Scaling group"
        }
    }
}

/// A resource the resolver found: what a mention turned out to be.
public struct ResourceRef: Sendable, Hashable, Codable {
    public var kind: ResourceKind
    public var id: String
    public var name: String?
    public var region: String
    public var account: String?
    /// Last known state as AWS reported it ("running", "stopped"…), for status replies.
    public var state: String?
    /// What holds it: an ECS service's cluster.
    public var container: String?
    /// The resource's environment tags and those alert routes match on (only those: other
    /// tags may name people), as AWS returned them; nil when not read.
    public var tags: [String: String]?

    enum CodingKeys: String, CodingKey {
        // Stored under its first name: rows written before routes read tags still decode.
        case kind, id, name, region, account, state, container, tags = "environmentTags"
    }

    public init(kind: ResourceKind, id: String, name: String?, region: String,
                account: String? = nil, state: String? = nil, container: String? = nil, tags: [String: String]? = nil) {
        self.tags = tags
        self.kind = kind
        self.id = id
        self.name = name
        self.region = region
        self.account = account
        self.state = state
        self.container = container
    }

    /// "web-1 (i-0abc…)" or just the id when the resource has no name.
    public var label: String {
        // An ARN (ECS services, Auto Scaling groups) is too long to read in a sentence: the plan
        // and its card show it in full; sentences use the name.
        if let name, !name.isEmpty, id.hasPrefix("arn:") { return name }
        if let name, !name.isEmpty, name != id { return "\(name) (\(id))" }
        return id
    }
}
