public struct RDSInstance: Sendable, Hashable {
    public var id: String
    public var arn: String?
    /// available, rebooting, stopped, …
    public var status: String
    public var engine: String
    public var instanceClass: String
    /// The instance's TagList.
    public var tags: [String: String] = [:]
}

/// The RDS operations ConvOps uses (query protocol, API 2014-10-31).
public struct RDS: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// DescribeDBInstances, following Marker; one instance when `id` is given.
    public func describeDBInstances(id: String? = nil, region: String? = nil) async throws(AWSError) -> [RDSInstance] {
        var out: [RDSInstance] = []
        try await client.queryPages(.rds, action: "DescribeDBInstances", parameters: id.map { [("DBInstanceIdentifier", $0)] } ?? [],
                                    region: region, tokenName: "Marker", token: ["DescribeDBInstancesResult", "Marker"]) { (tree) throws(AWSError) in
            guard let list = tree.at("DescribeDBInstancesResult", "DBInstances") else {
                throw AWSError(kind: .malformedResponse, operation: "rds:DescribeDBInstances", code: "", message: "no DBInstances")
            }
            out += list.all("DBInstance").map(Self.instance)
        }
        return out
    }

    /// RebootDBInstance; returns the instance as RDS reports it right after ("rebooting").
    public func rebootDBInstance(id: String, region: String? = nil) async throws(AWSError) -> RDSInstance {
        let tree = try await client.query(.rds, action: "RebootDBInstance", parameters: [("DBInstanceIdentifier", id)],
                                          region: region, idempotent: false)
        guard let item = tree.at("RebootDBInstanceResult", "DBInstance") else {
            throw AWSError(kind: .malformedResponse, operation: "rds:RebootDBInstance", code: "", message: "no DBInstance in the answer")
        }
        return Self.instance(item)
    }

    static func instance(_ x: XMLTree) -> RDSInstance {
        var instance = RDSInstance(id: x.string("DBInstanceIdentifier") ?? "", arn: x.string("DBInstanceArn"),
                                   status: x.string("DBInstanceStatus") ?? "unknown", engine: x.string("Engine") ?? "",
                                   instanceClass: x.string("DBInstanceClass") ?? "")
        for tag in x["TagList"]?.all("Tag") ?? [] {
            if let key = tag.string("Key"), let value = tag.string("Value") { instance.tags[key] = value }
        }
        return instance
    }
}
