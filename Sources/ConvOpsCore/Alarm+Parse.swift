import Foundation

extension Alarm {
    /// SQS's largest message (1 MiB); anything longer is refused before it is read.
    public static let maximumBytes = 1_048_576

    /// Reads one SQS message body in whichever form it came. Never traps: a body of the wrong
    /// shape is an `AlarmParseError` that names what is wrong, for the parked list.
    public static func parse(_ body: String, receivedAt: Date) throws(AlarmParseError) -> Alarm {
        guard body.utf8.count <= maximumBytes else {
            throw AlarmParseError("the message is \(body.utf8.count) bytes, more than SQS's \(maximumBytes)")
        }
        guard let json = JSON.parse(body), json.object != nil else {
            throw AlarmParseError("the message is not a JSON object (\(body.utf8.count) bytes; `convops alerts failed --show ID` prints it)")
        }
        var alarm = if json["Type"] != nil, json["TopicArn"] != nil || json["MessageId"] != nil {
            try fromSNS(json, receivedAt: receivedAt)
        } else {
            try fromPayload(json, form: .raw, receivedAt: receivedAt)
        }
        // A change time in the future (a skewed or forged clock) would make every real change
        // after it look stale and freeze the alarm: no later than a few minutes past arrival.
        alarm.changedAt = min(alarm.changedAt, receivedAt.addingTimeInterval(300))
        return alarm
    }

    /// SNS's envelope (raw delivery off): the alarm is the escaped JSON in `Message`.
    static func fromSNS(_ json: JSON, receivedAt: Date) throws(AlarmParseError) -> Alarm {
        let type = json["Type"]?.string ?? "?"
        guard type == "Notification" else {
            if type == "SubscriptionConfirmation" {
                throw AlarmParseError("an SNS SubscriptionConfirmation, not an alarm: confirm the queue's subscription to the topic (deploy/ subscribes it for you)")
            }
            throw AlarmParseError("an SNS message of type '\(preview(type))', not a Notification")
        }
        guard let message = json["Message"]?.string else { throw AlarmParseError("an SNS notification without a Message") }
        guard let inner = JSON.parse(message), inner.object != nil else {
            let subject = json["Subject"]?.string.map { " (subject '\(preview($0))')" } ?? ""
            throw AlarmParseError("an SNS notification whose Message is not JSON\(subject): not a CloudWatch alarm")
        }
        var alarm = try fromPayload(inner, form: .sns, receivedAt: receivedAt)
        if let id = json["MessageId"]?.string, !id.isEmpty, id.count <= 128 { alarm.deliveryID = id }
        return alarm
    }

    static func fromPayload(_ json: JSON, form: Form, receivedAt: Date) throws(AlarmParseError) -> Alarm {
        if let type = json["detail-type"]?.string {
            guard type == "CloudWatch Alarm State Change" else {
                throw AlarmParseError("an EventBridge event of type '\(preview(type))', not a CloudWatch Alarm State Change")
            }
            var alarm = try fromEventBridge(json)
            if form == .sns { alarm.form = .sns }
            return alarm
        }
        if json["source"]?.string == "custom" {
            var alarm = try fromCustom(json, receivedAt: receivedAt)
            if form == .sns { alarm.form = .sns }
            return alarm
        }
        guard json["AlarmName"] != nil else {
            let keys = (json.object?.keys.sorted() ?? []).prefix(6).joined(separator: ", ")
            throw AlarmParseError("not a CloudWatch alarm, an EventBridge alarm event or a custom notification (keys: \(preview(keys)))")
        }
        return try fromNotification(json, form: form)
    }

    /// CloudWatch's own notification (what SNS carries): metric, metric-math, anomaly and composite alarms.
    static func fromNotification(_ json: JSON, form: Form) throws(AlarmParseError) -> Alarm {
        let name = try alarmName(json["AlarmName"]?.string)
        let state = try stateValue(json["NewStateValue"]?.string, field: "NewStateValue")
        let changed = try time(json["StateChangeTime"]?.string, field: "StateChangeTime")
        var alarm = Alarm(form: form, name: name, state: state, reason: text(json["NewStateReason"]?.string, max: 2000) ?? "",
                          changedAt: changed)
        alarm.previous = json["OldStateValue"]?.string.flatMap(State.init(rawValue:))
        alarm.description = text(json["AlarmDescription"]?.string, max: 2000)
        alarm.account = json["AWSAccountId"]?.string.flatMap(accountID)
        alarm.take(arn: json["AlarmArn"]?.string)
        alarm.rule = text(json["AlarmRule"]?.string, max: 10_240)
        alarm.tags = tags(json["AlarmTags"] ?? json["Tags"])
        if let trigger = json["Trigger"], trigger.object != nil {
            if let metricName = trigger["MetricName"]?.string {
                alarm.metric = Metric(namespace: (trigger["Namespace"]?.string ?? "").scalars(upTo: 255), name: metricName.scalars(upTo: 255),
                                      dimensions: dimensions(trigger["Dimensions"]),
                                      statistic: trigger["Statistic"]?.string ?? trigger["ExtendedStatistic"]?.string,
                                      period: trigger["Period"]?.int, unit: trigger["Unit"]?.string)
            }
            alarm.queries = (trigger["Metrics"]?.array ?? []).prefix(20).compactMap(query)
            alarm.threshold = number(trigger["Threshold"])
            alarm.comparison = text(trigger["ComparisonOperator"]?.string, max: 64)
            alarm.evaluationPeriods = trigger["EvaluationPeriods"]?.int
            alarm.thresholdMetricID = text(trigger["ThresholdMetricId"]?.string, max: 255)
        }
        return alarm
    }

    /// EventBridge's "CloudWatch Alarm State Change" (also delivered through SNS).
    static func fromEventBridge(_ json: JSON) throws(AlarmParseError) -> Alarm {
        guard let detail = json["detail"], detail.object != nil else { throw AlarmParseError("an alarm state change event without a detail") }
        let name = try alarmName(detail["alarmName"]?.string)
        let state = try stateValue(detail["state"]?["value"]?.string, field: "detail.state.value")
        let changed = try time(detail["state"]?["timestamp"]?.string ?? json["time"]?.string, field: "detail.state.timestamp")
        var alarm = Alarm(form: .eventBridge, name: name, state: state, reason: text(detail["state"]?["reason"]?.string, max: 2000) ?? "",
                          changedAt: changed)
        alarm.previous = detail["previousState"]?["value"]?.string.flatMap(State.init(rawValue:))
        alarm.account = json["account"]?.string.flatMap(accountID)
        alarm.region = json["region"]?.string.flatMap(regionCode)
        alarm.take(arn: json["resources"]?[0]?.string)
        if let id = json["id"]?.string, !id.isEmpty, id.count <= 128 { alarm.deliveryID = id }
        let configuration = detail["configuration"]
        alarm.description = text(configuration?["description"]?.string, max: 2000)
        alarm.rule = text(configuration?["alarmRule"]?.string, max: 10_240)
        alarm.tags = tags(detail["alarmTags"] ?? configuration?["tags"])
        let queries = (configuration?["metrics"]?.array ?? []).prefix(20).compactMap(eventQuery)
        if queries.count == 1, let only = queries.first, only.expression == nil, only.metric != nil {
            alarm.metric = only.metric
        } else {
            alarm.queries = queries
        }
        // The threshold is only in the reason's data ({"threshold": 80, …}).
        if let data = detail["state"]?["reasonData"]?.string.flatMap(JSON.parse) {
            alarm.threshold = number(data["threshold"])
            alarm.evaluationPeriods = data["evaluatedDatapoints"]?.array.map(\.count)
        }
        return alarm
    }

    /// The custom-notification JSON (`version`, `source: custom`, `content`), as sent to AWS Chatbot.
    static func fromCustom(_ json: JSON, receivedAt: Date) throws(AlarmParseError) -> Alarm {
        guard let version = json["version"]?.string, version.hasPrefix("1.") else {
            throw AlarmParseError("a custom notification needs \"version\": \"1.0\"")
        }
        guard let content = json["content"], content.object != nil else { throw AlarmParseError("a custom notification without content") }
        guard let description = text(content["description"]?.string, max: 8000), !description.isEmpty else {
            throw AlarmParseError("a custom notification needs content.description")
        }
        let title = text(content["title"]?.string, max: 250)
        let metadata = json["metadata"]
        var alarm = Alarm(form: .custom, name: title ?? text(metadata?["summary"]?.string, max: 250) ?? "custom notification",
                          state: .alarm, reason: description, changedAt: receivedAt)
        alarm.title = title
        alarm.description = description
        alarm.nextSteps = strings(content["nextSteps"], max: 20)
        alarm.keywords = strings(content["keywords"], max: 20)
        alarm.threadID = text(metadata?["threadId"]?.string, max: 128) ?? text(json["id"]?.string, max: 128)
        if let id = json["id"]?.string, !id.isEmpty, id.count <= 128 { alarm.deliveryID = "custom:" + id }
        return alarm
    }

    // MARK: Fields

    /// Region and account from a well-formed alarm ARN. A malformed one (AWS's own samples say
    /// "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:…") is left out rather than refused: the
    /// alarm is still shown, keyed by its account and name.
    mutating func take(arn: String?) {
        guard let arn, !arn.isEmpty else { return }
        let parts = arn.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        guard arn.count <= 1600, parts.count == 7, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "cloudwatch",
              parts[5] == "alarm", let region = Alarm.regionCode(String(parts[3])), let account = Alarm.accountID(String(parts[4])) else { return }
        self.arn = arn
        self.region = region
        self.account = account
    }

    static func alarmName(_ s: String?) throws(AlarmParseError) -> String {
        // CloudWatch allows 1–255 characters.
        guard let s, !s.isEmpty, s.unicodeScalars.count <= 255, !s.contains(where: { $0.isNewline }) else {
            throw AlarmParseError("the alarm has no usable name (1–255 characters on one line)")
        }
        return s
    }

    static func stateValue(_ s: String?, field: String) throws(AlarmParseError) -> State {
        guard let s, let state = State(rawValue: s) else {
            throw AlarmParseError("\(field) '\(preview(s ?? "missing"))' is not ALARM, OK or INSUFFICIENT_DATA")
        }
        return state
    }

    static func time(_ s: String?, field: String) throws(AlarmParseError) -> Date {
        guard let s, let date = Timestamp.parse(s) else {
            throw AlarmParseError("\(field) '\(preview(s ?? "missing"))' is not a timestamp")
        }
        return date
    }

    static func accountID(_ s: String) -> String? { s.count == 12 && s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber) ? s : nil }

    /// "eu-west-1", "us-gov-west-1", "cn-north-1".
    static func regionCode(_ s: String) -> String? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard s.count <= 32, parts.count >= 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) } }),
              parts.last?.allSatisfy(\.isNumber) == true else { return nil }
        return s
    }

    static func dimensions(_ json: JSON?) -> [Dimension] {
        // SNS writes [{"value": …, "name": …}]; the API writes Name/Value; EventBridge an object.
        if let object = json?.object {
            return object.keys.sorted().prefix(30).compactMap { k in
                object[k]?.string.map { Dimension(name: k.scalars(upTo: 255), value: $0.scalars(upTo: 1024)) }
            }
        }
        return (json?.array ?? []).prefix(30).compactMap { d in
            guard let name = (d["name"] ?? d["Name"])?.string, let value = (d["value"] ?? d["Value"])?.string else { return nil }
            return Dimension(name: name.scalars(upTo: 255), value: value.scalars(upTo: 1024))
        }
    }

    /// One entry of SNS's `Trigger.Metrics[]` (the API's MetricDataQuery shape).
    static func query(_ json: JSON) -> Query? {
        guard let id = text(json["Id"]?.string, max: 255) else { return nil }
        var metric: Metric?
        if let stat = json["MetricStat"], let m = stat["Metric"], let name = m["MetricName"]?.string {
            metric = Metric(namespace: (m["Namespace"]?.string ?? "").scalars(upTo: 255), name: name.scalars(upTo: 255), dimensions: dimensions(m["Dimensions"]),
                            statistic: stat["Stat"]?.string, period: stat["Period"]?.int, unit: stat["Unit"]?.string)
        }
        return Query(id: id, label: text(json["Label"]?.string, max: 255), expression: text(json["Expression"]?.string, max: 2048),
                     metric: metric, returnData: json["ReturnData"]?.bool ?? false)
    }

    /// One entry of EventBridge's `configuration.metrics[]` (camelCase, dimensions as an object).
    static func eventQuery(_ json: JSON) -> Query? {
        guard let id = text(json["id"]?.string, max: 255) else { return nil }
        var metric: Metric?
        if let stat = json["metricStat"], let m = stat["metric"], let name = m["name"]?.string {
            metric = Metric(namespace: (m["namespace"]?.string ?? "").scalars(upTo: 255), name: name.scalars(upTo: 255), dimensions: dimensions(m["dimensions"]),
                            statistic: stat["stat"]?.string, period: stat["period"]?.int, unit: stat["unit"]?.string)
        }
        return Query(id: id, label: text(json["label"]?.string, max: 255), expression: text(json["expression"]?.string, max: 2048),
                     metric: metric, returnData: json["returnData"]?.bool ?? false)
    }

    /// Tags as an object of strings, or as [{"Key", "Value"}]; at most 50 (CloudWatch's limit).
    static func tags(_ json: JSON?) -> [String: String] {
        var out: [String: String] = [:]
        if let object = json?.object {
            for (k, v) in object.prefix(50) { if let v = v.string, k.unicodeScalars.count <= 128, v.unicodeScalars.count <= 256 { out[k] = v } }
        } else if let list = json?.array {
            for t in list.prefix(50) {
                if let k = t["Key"]?.string ?? t["key"]?.string, let v = t["Value"]?.string ?? t["value"]?.string,
                   k.unicodeScalars.count <= 128, v.unicodeScalars.count <= 256 { out[k] = v }
            }
        }
        return out
    }

    static func number(_ json: JSON?) -> Double? {
        if case .number(let n) = json, n.isFinite { return n }
        if let s = json?.string, let n = Double(s), n.isFinite { return n }
        return nil
    }

    static func text(_ s: String?, max: Int) -> String? {
        guard let s else { return nil }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        return trimmed.unicodeScalars.count <= max ? trimmed : trimmed.scalars(upTo: max) + "…"
    }

    static func strings(_ json: JSON?, max: Int) -> [String] {
        (json?.array ?? []).prefix(max).compactMap { text($0.string, max: 500) }
    }

    /// A short, printable piece of what was sent, for the reason stored with a parked message.
    static func preview(_ s: String) -> String {
        let flat = s.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : String($0) }.joined()
        return flat.unicodeScalars.count <= 60 ? flat : flat.scalars(upTo: 60) + "…"
    }
}
