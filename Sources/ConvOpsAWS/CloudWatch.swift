import Foundation

public struct CloudWatchAlarm: Sendable, Hashable {
    public var name: String
    public var arn: String?
    /// OK, ALARM, INSUFFICIENT_DATA
    public var state: String
    public var reason: String
    public var namespace: String?
    public var metric: String?
    public var dimensions: [String: String]
}

/// The CloudWatch operations ConvOps uses (query protocol, API 2010-08-01, signed as "monitoring").
public struct CloudWatch: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// DescribeAlarms, optionally in one state, following NextToken.
    public func describeAlarms(state: String? = nil, region: String? = nil) async throws(AWSError) -> [CloudWatchAlarm] {
        var out: [CloudWatchAlarm] = []
        try await client.queryPages(.cloudWatch, action: "DescribeAlarms", parameters: state.map { [("StateValue", $0)] } ?? [],
                                    region: region, token: ["DescribeAlarmsResult", "NextToken"]) { (tree) throws(AWSError) in
            guard let list = tree.at("DescribeAlarmsResult", "MetricAlarms") else {
                throw AWSError(kind: .malformedResponse, operation: "cloudwatch:DescribeAlarms", code: "", message: "no MetricAlarms")
            }
            for a in list.all("member") {
                var dimensions: [String: String] = [:]
                for d in a["Dimensions"]?.all("member") ?? [] {
                    if let n = d.string("Name"), let v = d.string("Value") { dimensions[n] = v }
                }
                out.append(CloudWatchAlarm(name: a.string("AlarmName") ?? "", arn: a.string("AlarmArn"), state: a.string("StateValue") ?? "",
                                           reason: a.string("StateReason") ?? "", namespace: a.string("Namespace"),
                                           metric: a.string("MetricName"), dimensions: dimensions))
            }
        }
        return out
    }

    public struct MetricQuery: Sendable, Hashable {
        public var id: String
        public var namespace: String
        public var metric: String
        public var dimensions: [(String, String)]
        public var stat: String
        public var period: Int

        public init(id: String, namespace: String, metric: String, dimensions: [(String, String)], stat: String = "Average", period: Int = 300) {
            self.id = id
            self.namespace = namespace
            self.metric = metric
            self.dimensions = dimensions
            self.stat = stat
            self.period = period
        }

        public static func == (a: MetricQuery, b: MetricQuery) -> Bool {
            a.id == b.id && a.namespace == b.namespace && a.metric == b.metric && a.stat == b.stat && a.period == b.period
                && a.dimensions.map { "\($0)=\($1)" } == b.dimensions.map { "\($0)=\($1)" }
        }
        public func hash(into h: inout Hasher) { h.combine(id); h.combine(metric) }

        /// An EC2 instance's CPU, or one of its status checks ("StatusCheckFailed").
        public static func ec2(_ id: String, instance: String, metric: String = "CPUUtilization", stat: String = "Average") -> MetricQuery {
            MetricQuery(id: id, namespace: "AWS/EC2", metric: metric, dimensions: [("InstanceId", instance)], stat: stat)
        }
    }

    /// GetMetricData: each query's points, oldest first.
    public func metricData(_ queries: [MetricQuery], from start: Date, to end: Date,
                           region: String? = nil) async throws(AWSError) -> [String: [(Date, Double)]] {
        var parameters: [(String, String)] = [("StartTime", Self.iso(start)), ("EndTime", Self.iso(end)), ("ScanBy", "TimestampAscending")]
        for (i, q) in queries.enumerated() {
            let p = "MetricDataQueries.member.\(i + 1)"
            parameters += [("\(p).Id", q.id), ("\(p).MetricStat.Metric.Namespace", q.namespace),
                           ("\(p).MetricStat.Metric.MetricName", q.metric), ("\(p).MetricStat.Period", String(q.period)),
                           ("\(p).MetricStat.Stat", q.stat), ("\(p).ReturnData", "true")]
            for (j, d) in q.dimensions.enumerated() {
                parameters += [("\(p).MetricStat.Metric.Dimensions.member.\(j + 1).Name", d.0),
                               ("\(p).MetricStat.Metric.Dimensions.member.\(j + 1).Value", d.1)]
            }
        }
        var out: [String: [(Date, Double)]] = [:]
        try await client.queryPages(.cloudWatch, action: "GetMetricData", parameters: parameters, region: region,
                                    token: ["GetMetricDataResult", "NextToken"]) { (tree) throws(AWSError) in
            guard let results = tree.at("GetMetricDataResult", "MetricDataResults") else {
                throw AWSError(kind: .malformedResponse, operation: "cloudwatch:GetMetricData", code: "", message: "no MetricDataResults")
            }
            for r in results.all("member") {
                let id = r.string("Id") ?? ""
                let times = r["Timestamps"]?.all("member").map(\.text) ?? []
                let values = r["Values"]?.all("member").map(\.text) ?? []
                for (t, v) in zip(times, values) {
                    if let date = AssumeRole.parseDate(t), let value = Double(v) { out[id, default: []].append((date, value)) }
                }
            }
        }
        return out.mapValues { $0.sorted { $0.0 < $1.0 } }
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
