import ConvOpsCore

public struct EC2Instance: Sendable, Hashable {
    public var id: String
    public var name: String?
    /// pending, running, stopping, stopped, shutting-down, terminated
    public var state: String
    public var type: String
    public var availabilityZone: String?
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
        var token: String?
        repeat {
            var page = parameters
            if let token { page.append(("NextToken", token)) }
            let tree = try await client.query(.ec2, action: "DescribeInstances", parameters: page, region: region)
            guard let reservations = tree["reservationSet"] else {
                throw AWSError(kind: .malformedResponse, operation: "ec2:DescribeInstances", code: "", message: "no reservationSet")
            }
            for reservation in reservations.all("item") {
                for item in reservation["instancesSet"]?.all("item") ?? [] {
                    guard let id = item.string("instanceId") else {
                        throw AWSError(kind: .malformedResponse, operation: "ec2:DescribeInstances", code: "", message: "an instance without instanceId")
                    }
                    let name = item["tagSet"]?.all("item").first { $0.string("key") == "Name" }?.string("value")
                    instances.append(EC2Instance(id: id, name: name, state: item.string("instanceState", "name") ?? "unknown",
                                                 type: item.string("instanceType") ?? "", availabilityZone: item.string("placement", "availabilityZone")))
                }
            }
            token = tree.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
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
}
