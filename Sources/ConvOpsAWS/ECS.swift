import Foundation

public struct ECSService: Sendable, Hashable {
    public var arn: String
    public var name: String
    public var clusterARN: String
    public var status: String
    public var desiredCount: Int
    public var runningCount: Int
    public var pendingCount: Int
    /// Deployments still rolling (a steady service has one, PRIMARY, completed).
    public var deployments: [Deployment]
    /// The service's tags (asked for with include TAGS).
    public var tags: [String: String] = [:]

    public struct Deployment: Sendable, Hashable {
        public var id: String
        public var status: String
        public var desiredCount: Int
        public var runningCount: Int
        public var rolloutState: String?
    }

    /// One deployment, all its tasks running: what "steady state" means to a waiter.
    public var isSteady: Bool {
        deployments.count == 1 && runningCount == desiredCount && pendingCount == 0
            && (deployments[0].rolloutState.map { $0 == "COMPLETED" } ?? true)
    }
}

/// The ECS operations ConvOps uses (JSON 1.1, target AmazonEC2ContainerServiceV20141113).
public struct ECS: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    public func listClusters(region: String? = nil) async throws(AWSError) -> [String] {
        try await paged("ListClusters", [:], key: "clusterArns", region: region)
    }

    public func listServices(cluster: String, region: String? = nil) async throws(AWSError) -> [String] {
        try await paged("ListServices", ["cluster": cluster], key: "serviceArns", region: region)
    }

    /// DescribeServices, ten names or ARNs at a time (the API's limit).
    public func describeServices(cluster: String, services: [String], region: String? = nil) async throws(AWSError) -> [ECSService] {
        var out: [ECSService] = []
        for start in stride(from: 0, to: services.count, by: 10) {
            let batch = Array(services[start..<min(start + 10, services.count)])
            let answer = try await client.json(.ecs, action: "DescribeServices", body: ["cluster": cluster, "services": batch, "include": ["TAGS"]],
                                           region: region)
            for item in answer["services"] as? [[String: Any]] ?? [] { out.append(try Self.service(item)) }
        }
        return out
    }

    /// UpdateService: a new desired count, or a fresh deployment (a rolling restart), or both.
    public func updateService(cluster: String, service: String, desiredCount: Int? = nil, forceNewDeployment: Bool = false,
                              region: String? = nil) async throws(AWSError) -> ECSService {
        var body: [String: Any] = ["cluster": cluster, "service": service]
        if let desiredCount { body["desiredCount"] = desiredCount }
        if forceNewDeployment { body["forceNewDeployment"] = true }
        let answer = try await client.json(.ecs, action: "UpdateService", body: body, region: region, idempotent: false)
        guard let item = answer["service"] as? [String: Any] else {
            throw AWSError(kind: .malformedResponse, operation: "ecs:UpdateService", code: "", message: "no service in the answer")
        }
        return try Self.service(item)
    }

    private func paged(_ action: String, _ body: [String: Any], key: String, region: String?) async throws(AWSError) -> [String] {
        var out: [String] = []
        var token: String?
        var walk = PageWalk("ecs:\(action)")
        repeat {
            var page = body
            if let token { page["nextToken"] = token }
            let answer = try await client.json(.ecs, action: action, body: page, region: region)
            out += answer[key] as? [String] ?? []
            token = try walk.next(answer["nextToken"] as? String)
        } while token != nil
        return out
    }

    static func service(_ item: [String: Any]) throws(AWSError) -> ECSService {
        guard let arn = item["serviceArn"] as? String, let name = item["serviceName"] as? String else {
            throw AWSError(kind: .malformedResponse, operation: "ecs:DescribeServices", code: "", message: "a service without serviceArn/serviceName")
        }
        let deployments = (item["deployments"] as? [[String: Any]] ?? []).map {
            ECSService.Deployment(id: $0["id"] as? String ?? "", status: $0["status"] as? String ?? "",
                                  desiredCount: $0["desiredCount"] as? Int ?? 0, runningCount: $0["runningCount"] as? Int ?? 0,
                                  rolloutState: $0["rolloutState"] as? String)
        }
        var service = ECSService(arn: arn, name: name, clusterARN: item["clusterArn"] as? String ?? "", status: item["status"] as? String ?? "",
                                 desiredCount: item["desiredCount"] as? Int ?? 0, runningCount: item["runningCount"] as? Int ?? 0,
                                 pendingCount: item["pendingCount"] as? Int ?? 0, deployments: deployments)
        for tag in item["tags"] as? [[String: Any]] ?? [] {
            if let key = tag["key"] as? String, let value = tag["value"] as? String { service.tags[key] = value }
        }
        return service
    }
}
