import ConvOpsCore
import Foundation

/// How a resource is doing beyond its state: EC2 status checks, its latest CPU average, and
/// the CloudWatch alarms firing on it. Each part is read on its own; one the role may not read
/// (or that fails) is reported as missing with its error, never fails the others.
public struct ResourceHealth: Sendable {
    /// EC2 only, and only while the instance runs: "ok", "impaired", "initializing"…
    public var statusChecks: (system: String, instance: String)?
    /// The newest 5-minute CPUUtilization average of the last hour, in percent.
    public var cpu: (percent: Double, at: Date)?
    /// Alarms in ALARM whose metric is this resource's.
    public var firingAlarms: [CloudWatchAlarm] = []
    /// The parts that could not be read, with why.
    public var unavailable: [(part: Part, error: AWSError)] = []

    public enum Part: String, Sendable { case statusChecks = "status checks", cpu = "CPU", alarms }

    /// Reads what applies to the resource's kind, the three parts at once.
    public static func read(_ ref: ResourceRef, client: AWSClient, now: Date) async -> ResourceHealth {
        let dimensions = metricDimensions(ref)
        async let checks = capture { () throws(AWSError) -> (String, String)? in
            guard ref.kind == .ec2Instance, ref.state == "running" else { return nil }
            guard let s = try await EC2(client: client).describeInstanceStatus(ids: [ref.id], region: ref.region).first else { return nil }
            return (s.systemStatus, s.instanceStatus)
        }
        async let cpu = capture { () throws(AWSError) -> (Double, Date)? in
            let query = CloudWatch.MetricQuery(id: "cpu", namespace: dimensions.namespace, metric: "CPUUtilization",
                                               dimensions: dimensions.values, stat: "Average", period: 300)
            let points = try await CloudWatch(client: client).metricData([query], from: now.addingTimeInterval(-3600), to: now,
                                                                         region: ref.region)["cpu"] ?? []
            return points.last.map { ($0.1, $0.0) }
        }
        async let alarms = capture { () throws(AWSError) -> [CloudWatchAlarm] in
            try await CloudWatch(client: client).describeAlarms(state: "ALARM", region: ref.region).filter { alarm in
                alarm.namespace == dimensions.namespace && !dimensions.values.isEmpty
                    && dimensions.values.allSatisfy { alarm.dimensions[$0.0] == $0.1 }
            }
        }
        var health = ResourceHealth()
        switch await checks {
        case .success(let value): health.statusChecks = value.map { (system: $0.0, instance: $0.1) }
        case .failure(let error): health.unavailable.append((.statusChecks, error))
        }
        switch await cpu {
        case .success(let value): health.cpu = value.map { (percent: $0.0, at: $0.1) }
        case .failure(let error): health.unavailable.append((.cpu, error))
        }
        switch await alarms {
        case .success(let value): health.firingAlarms = value.sorted { $0.name < $1.name }
        case .failure(let error): health.unavailable.append((.alarms, error))
        }
        return health
    }

    /// The CloudWatch namespace and dimensions that name the resource's metrics.
    static func metricDimensions(_ ref: ResourceRef) -> (namespace: String, values: [(String, String)]) {
        switch ref.kind {
        case .ec2Instance:
            return ("AWS/EC2", [("InstanceId", ref.id)])
        case .ecsService:
            // The cluster is held as an ARN (…:cluster/NAME) or a name; metrics use the name.
            let cluster = (ref.container ?? "").split(separator: "/").last.map(String.init) ?? ""
            return ("AWS/ECS", [("ClusterName", cluster), ("ServiceName", ref.name ?? ref.id)])
        case .rdsInstance:
            return ("AWS/RDS", [("DBInstanceIdentifier", ref.id)])
        case .autoScalingGroup:
            return ("AWS/EC2", [("AutoScalingGroupName", ref.name ?? ref.id)])
        }
    }

    private static func capture<T: Sendable>(_ body: () async throws(AWSError) -> T) async -> Result<T, AWSError> {
        await Result(awaiting: body)
    }
}
