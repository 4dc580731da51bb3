import ConvOpsCore

public struct EC2Instance: Sendable, Hashable {
    public var id: String
    public var name: String?
    /// pending, running, stopping, stopped, shutting-down, terminated
    public var state: String
    public var type: String
    public var availabilityZone: String?
    public var tags: [String: String] = [:]
}

/// The EC2 operations ConvOps uses (ec2 query protocol, API 2016-11-15).
public struct EC2: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// DescribeInstances, following nextToken through every page.
    public func describeInstances(ids: [String] = [], filters: [(name: String, values: [String])] = [],
                                  region: String? = nil) async throws(AWSError) -> [EC2Instance] {
        var parameters: [(String, String)] = []
        for (i, id) in ids.enumerated() { parameters.append(("InstanceId.\(i + 1)", id)) }
        for (i, filter) in filters.enumerated() {
            parameters.append(("Filter.\(i + 1).Name", filter.name))
            for (j, value) in filter.values.enumerated() { parameters.append(("Filter.\(i + 1).Value.\(j + 1)", value)) }
        }
        var instances: [EC2Instance] = []
        try await client.queryPages(.ec2, action: "DescribeInstances", parameters: parameters, region: region,
                                    token: ["nextToken"]) { (tree) throws(AWSError) in
            guard let reservations = tree["reservationSet"] else {
                throw AWSError(kind: .malformedResponse, operation: "ec2:DescribeInstances", code: "", message: "no reservationSet")
            }
            for reservation in reservations.all("item") {
                for item in reservation["instancesSet"]?.all("item") ?? [] {
                    guard let id = item.string("instanceId") else {
                        throw AWSError(kind: .malformedResponse, operation: "ec2:DescribeInstances", code: "", message: "an instance without instanceId")
                    }
                    var tags: [String: String] = [:]
                    for tag in item["tagSet"]?.all("item") ?? [] {
                        if let key = tag.string("key"), let value = tag.string("value") { tags[key] = value }
                    }
                    instances.append(EC2Instance(id: id, name: tags["Name"], state: item.string("instanceState", "name") ?? "unknown",
                                                 type: item.string("instanceType") ?? "", availabilityZone: item.string("placement", "availabilityZone"),
                                                 tags: tags))
                }
            }
        }
        return instances
    }

    public func rebootInstances(ids: [String], region: String? = nil) async throws(AWSError) {
        let parameters = ids.enumerated().map { ("InstanceId.\($0.offset + 1)", $0.element) }
        // Rebooting twice is harmless only in theory: a timed-out reboot is not repeated blindly.
        let tree = try await client.query(.ec2, action: "RebootInstances", parameters: parameters, region: region, idempotent: false)
        // EC2 answers <return>true</return>; moto leaves it out. Only an explicit false, or an
        // answer to some other call, is a failure.
        guard tree.name == "RebootInstancesResponse", tree.string("return") != "false" else {
            throw AWSError(kind: .malformedResponse, operation: "ec2:RebootInstances", code: "",
                           message: "the answer did not confirm the reboot (\(tree.name), return=\(tree.string("return") ?? "-"))")
        }
    }

    /// DescribeInstanceStatus: the state and both status checks, for every instance asked about.
    public func describeInstanceStatus(ids: [String], region: String? = nil) async throws(AWSError) -> [EC2InstanceStatus] {
        var parameters = ids.enumerated().map { ("InstanceId.\($0.offset + 1)", $0.element) }
        parameters.append(("IncludeAllInstances", "true"))
        var out: [EC2InstanceStatus] = []
        try await client.queryPages(.ec2, action: "DescribeInstanceStatus", parameters: parameters, region: region,
                                    token: ["nextToken"]) { (tree) throws(AWSError) in
            guard let set = tree["instanceStatusSet"] else {
                throw AWSError(kind: .malformedResponse, operation: "ec2:DescribeInstanceStatus", code: "", message: "no instanceStatusSet")
            }
            for item in set.all("item") {
                guard let id = item.string("instanceId") else { continue }
                out.append(EC2InstanceStatus(id: id, state: item.string("instanceState", "name") ?? "unknown",
                                             systemStatus: item.string("systemStatus", "status") ?? "unknown",
                                             instanceStatus: item.string("instanceStatus", "status") ?? "unknown"))
            }
        }
        return out
    }

    /// StopInstances; returns each instance's new state ("stopping"). Not repeated after a timeout.
    public func stopInstances(ids: [String], region: String? = nil) async throws(AWSError) -> [String: String] {
        try await changeState("StopInstances", ids: ids, region: region)
    }

    /// StartInstances; returns each instance's new state ("pending").
    public func startInstances(ids: [String], region: String? = nil) async throws(AWSError) -> [String: String] {
        try await changeState("StartInstances", ids: ids, region: region)
    }

    private func changeState(_ action: String, ids: [String], region: String?) async throws(AWSError) -> [String: String] {
        let parameters = ids.enumerated().map { ("InstanceId.\($0.offset + 1)", $0.element) }
        let tree = try await client.query(.ec2, action: action, parameters: parameters, region: region, idempotent: false)
        guard let set = tree["instancesSet"] else {
            throw AWSError(kind: .malformedResponse, operation: "ec2:\(action)", code: "", message: "no instancesSet")
        }
        var out: [String: String] = [:]
        for item in set.all("item") {
            if let id = item.string("instanceId") { out[id] = item.string("currentState", "name") ?? "unknown" }
        }
        return out
    }
}

public struct EC2InstanceStatus: Sendable, Hashable {
    public var id: String
    public var state: String
    /// "ok", "impaired", "initializing", "insufficient-data", "not-applicable"
    public var systemStatus: String
    public var instanceStatus: String
}
