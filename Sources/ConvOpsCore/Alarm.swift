import Foundation

/// One state change of a CloudWatch alarm (or one custom notification), as read from any of
/// the forms it arrives in: SNS's envelope, raw SNS delivery, EventBridge's "CloudWatch Alarm
/// State Change", or the custom-notification JSON people send to AWS Chatbot.
public struct Alarm: Sendable, Hashable, Codable {
    public enum Form: String, Sendable, Hashable, Codable {
        case sns, raw, eventBridge = "eventbridge", custom
    }

    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case alarm = "ALARM"
        case ok = "OK"
        case insufficientData = "INSUFFICIENT_DATA"
    }

    /// A metric as CloudWatch names it: namespace, name and dimensions (in the order sent).
    public struct Metric: Sendable, Hashable, Codable {
        public var namespace: String
        public var name: String
        public var dimensions: [Dimension]
        public var statistic: String?
        public var period: Int?
        public var unit: String?

        public init(namespace: String, name: String, dimensions: [Dimension] = [], statistic: String? = nil,
                    period: Int? = nil, unit: String? = nil) {
            self.namespace = namespace
            self.name = name
            self.dimensions = dimensions
            self.statistic = statistic
            self.period = period
            self.unit = unit
        }

        public func dimension(_ name: String) -> String? { dimensions.first { $0.name == name }?.value }
    }

    public struct Dimension: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One entry of a metric-math or anomaly-detection alarm's `Trigger.Metrics[]`.
    public struct Query: Sendable, Hashable, Codable {
        public var id: String
        public var label: String?
        public var expression: String?
        public var metric: Metric?
        public var returnData: Bool

        public init(id: String, label: String? = nil, expression: String? = nil, metric: Metric? = nil, returnData: Bool = false) {
            self.id = id
            self.label = label
            self.expression = expression
            self.metric = metric
            self.returnData = returnData
        }
    }

    public var form: Form
    public var name: String
    /// arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME; nil for a custom notification.
    public var arn: String?
    public var account: String?
    /// A region code ("eu-west-1"), from the ARN: SNS's `Region` is a display name.
    public var region: String?
    public var description: String?
    public var state: State
    public var previous: State?
    public var reason: String
    public var changedAt: Date
    /// A single-metric alarm's metric.
    public var metric: Metric?
    public var threshold: Double?
    public var comparison: String?
    public var evaluationPeriods: Int?
    /// A metric-math or anomaly-detection alarm's queries.
    public var queries: [Query] = []
    /// An anomaly-detection alarm's band (the query the metric is compared with).
    public var thresholdMetricID: String?
    /// A composite alarm's rule ("ALARM(a) OR ALARM(b)"): composites have no metric.
    public var rule: String?
    /// Tags of the alarm, when the notification carries them (runbook, owner, route).
    public var tags: [String: String] = [:]
    /// A custom notification's title, next steps and keywords.
    public var title: String?
    public var nextSteps: [String] = []
    public var keywords: [String] = []
    /// A custom notification's `metadata.threadId` (or `id`): its notices belong together.
    public var threadID: String?
    /// SNS's MessageId (or EventBridge's event id): the same delivery seen twice.
    public var deliveryID: String?

    public init(form: Form, name: String, state: State, reason: String, changedAt: Date) {
        self.form = form
        self.name = name
        self.state = state
        self.reason = reason
        self.changedAt = changedAt
    }

    public var isComposite: Bool { rule != nil }

    /// This change, with what only the first of its episode said (SNS sends the description
    /// and tags each time, EventBridge not always).
    public func keeping(_ earlier: Alarm) -> Alarm {
        var a = self
        if a.description == nil { a.description = earlier.description }
        if a.tags.isEmpty { a.tags = earlier.tags }
        return a
    }

    /// What an episode is keyed by: the alarm's ARN (a custom notification: its source's id).
    public var key: String {
        if let arn { return arn }
        return form == .custom ? "custom:\(threadID ?? name)" : "alarm:\(account ?? "-"):\(name)"
    }

    /// The metrics the alarm watches: its own, or its queries' (those that name one).
    public var watched: [Metric] { metric.map { [$0] } ?? queries.compactMap(\.metric) }

    /// The first http(s) link in the description, or the `runbook` tag.
    public var runbook: String? {
        if let tagged = tags.first(where: { $0.key.lowercased() == "runbook" })?.value, Alarm.isWebLink(tagged) { return tagged }
        guard let description else { return nil }
        for word in description.split(whereSeparator: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "(" || $0 == ")" }) {
            let link = word.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!\"'|"))
            if Alarm.isWebLink(link) { return link }
        }
        return nil
    }

    /// The alarm in the CloudWatch console (its graph and history).
    public var consoleLink: String? {
        guard let region, arn != nil else { return nil }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.~"))
        let name = self.name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        return "https://\(region).console.aws.amazon.com/cloudwatch/home?region=\(region)#alarmsV2:alarm/\(name)"
    }

    static func isWebLink(_ s: some StringProtocol) -> Bool {
        guard s.hasPrefix("https://") || s.hasPrefix("http://"), s.count > 10, s.count <= 2000 else { return false }
        return URLComponents(string: String(s))?.host?.isEmpty == false
    }

    /// The resource the alarm is about, from its metric's dimensions: the first one ConvOps
    /// can act on (an instance, a database, a service, a group).
    public var subject: Subject? {
        for metric in watched {
            if let id = metric.dimension("InstanceId") { return Subject(kind: .ec2Instance, id: id, container: nil) }
            if let id = metric.dimension("DBInstanceIdentifier") { return Subject(kind: .rdsInstance, id: id, container: nil) }
            if let service = metric.dimension("ServiceName"), let cluster = metric.dimension("ClusterName") {
                return Subject(kind: .ecsService, id: service, container: cluster)
            }
            if let group = metric.dimension("AutoScalingGroupName") { return Subject(kind: .autoScalingGroup, id: group, container: nil) }
        }
        return nil
    }

    public struct Subject: Sendable, Hashable, Codable {
        public var kind: ResourceKind
        /// An instance id, a DB identifier, a service or group name.
        public var id: String
        /// An ECS service's cluster.
        public var container: String?

        public init(kind: ResourceKind, id: String, container: String?) {
            self.kind = kind
            self.id = id
            self.container = container
        }
    }
}

/// Why a message from the alarm queue could not be read: stored with it, shown by
/// `convops alerts failed`.
public struct AlarmParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
