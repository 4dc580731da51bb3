public struct AutoScalingGroup: Sendable, Hashable {
    public var name: String
    public var arn: String?
    public var minSize: Int
    public var maxSize: Int
    public var desiredCapacity: Int
    public var instanceIDs: [String]
    public var tags: [String: String] = [:]
}

/// The Auto Scaling operations ConvOps uses (query protocol, API 2011-01-01).
public struct AutoScaling: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    public func describeGroups(names: [String] = [], region: String? = nil) async throws(AWSError) -> [AutoScalingGroup] {
        var out: [AutoScalingGroup] = []
        let parameters = names.enumerated().map { ("AutoScalingGroupNames.member.\($0.offset + 1)", $0.element) }
        try await client.queryPages(.autoScaling, action: "DescribeAutoScalingGroups", parameters: parameters, region: region,
                                    token: ["DescribeAutoScalingGroupsResult", "NextToken"]) { (tree) throws(AWSError) in
            guard let list = tree.at("DescribeAutoScalingGroupsResult", "AutoScalingGroups") else {
                throw AWSError(kind: .malformedResponse, operation: "autoscaling:DescribeAutoScalingGroups", code: "", message: "no AutoScalingGroups")
            }
            for g in list.all("member") {
                var group = AutoScalingGroup(name: g.string("AutoScalingGroupName") ?? "", arn: g.string("AutoScalingGroupARN"),
                                             minSize: Int(g.string("MinSize") ?? "") ?? 0, maxSize: Int(g.string("MaxSize") ?? "") ?? 0,
                                             desiredCapacity: Int(g.string("DesiredCapacity") ?? "") ?? 0,
                                             instanceIDs: g["Instances"]?.all("member").compactMap { $0.string("InstanceId") } ?? [])
                for tag in g["Tags"]?.all("member") ?? [] {
                    if let key = tag.string("Key"), let value = tag.string("Value") { group.tags[key] = value }
                }
                out.append(group)
            }
        }
        return out
    }

    /// SetDesiredCapacity, refused here (before any call) outside the group's MinSize…MaxSize,
    /// with what to do instead. Returns the group as it was before.
    @discardableResult
    public func setDesiredCapacity(group name: String, to desired: Int, region: String? = nil) async throws(AWSError) -> AutoScalingGroup {
        let operation = "autoscaling:SetDesiredCapacity"
        guard let group = try await describeGroups(names: [name], region: region).first else {
            throw AWSError(kind: .notFound, operation: operation, code: "AutoScalingGroupNotFound", message: "no Auto Scaling group named \(name)")
        }
        guard desired <= group.maxSize else {
            throw AWSError(kind: .invalidRequest, operation: operation, code: "AboveMaxSize",
                           message: "\(name) can hold at most \(group.maxSize) instances (its MaxSize); ask for \(group.maxSize) or fewer, or raise MaxSize first")
        }
        guard desired >= group.minSize else {
            throw AWSError(kind: .invalidRequest, operation: operation, code: "BelowMinSize",
                           message: "\(name) keeps at least \(group.minSize) instances (its MinSize); ask for \(group.minSize) or more, or lower MinSize first")
        }
        _ = try await client.query(.autoScaling, action: "SetDesiredCapacity",
                                   parameters: [("AutoScalingGroupName", name), ("DesiredCapacity", String(desired)), ("HonorCooldown", "false")],
                                   region: region, idempotent: true)
        return group
    }
}
