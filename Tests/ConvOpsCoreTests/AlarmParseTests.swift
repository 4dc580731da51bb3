import ConvOpsCore
import ConvOpsTestSupport
import Foundation
import Testing

/// Every form an alarm arrives in, from real payloads (Sources/ConvOpsTestSupport/AlarmFixtures,
/// each with its source in SOURCES.md), and what hostile or broken bodies do: never trap.
@Suite struct AlarmParseTests {
    static let received = Date(timeIntervalSince1970: 1_800_000_000)

    func parse(_ fixture: String) throws -> Alarm {
        try Alarm.parse(try AlarmFixtures.text(fixture), receivedAt: Self.received)
    }

    @Test func everyFixtureParses() throws {
        let names = try AlarmFixtures.names()
        #expect(names.count >= 15)
        for name in names where name != "raw_metric_alarm_localstack_snapshot_2026.json" {
            let alarm = try parse(name)
            #expect(!alarm.name.isEmpty, "\(name)")
        }
    }

    /// LocalStack's snapshot of a real 2026 message has its values replaced by placeholders
    /// ("StateChangeTime": "date"): its keys are real, the message is not, and it is refused.
    @Test func placeholderValuesAreRefusedWithTheReason() {
        #expect {
            _ = try parse("raw_metric_alarm_localstack_snapshot_2026.json")
        } throws: { "\($0)".contains("StateChangeTime 'date' is not a timestamp") }
    }

    @Test func theSNSEnvelopeCarriesTheAlarmAndItsMessageID() throws {
        let a = try parse("sns_envelope_metric_alarm.json")
        #expect(a.form == .sns)
        #expect(a.name == "bucketbytesAlarm")
        #expect(a.deliveryID == "e288882d-4281-5be4-8fde-dccc11c8cb01")
        #expect(a.state == .alarm && a.previous == .insufficientData)
        #expect(a.metric?.namespace == "AWS/S3" && a.metric?.dimension("BucketName") == "try.alerta.io")
        #expect(a.threshold == 0 && a.comparison == "GreaterThanOrEqualToThreshold")
        // 2019: no AlarmArn, and the account id in this sample is not 12 digits.
        #expect(a.arn == nil && a.region == nil)
        #expect(a.changedAt == Timestamp.parse("2019-02-15T23:53:45.093Z"))
    }

    @Test func theRegionComesFromTheARNNotTheDisplayName() throws {
        let a = try parse("raw_metric_alarm.json")
        #expect(a.form == .raw)
        #expect(a.region == "eu-south-1")
        #expect(a.account == "975050211138")
        #expect(a.subject == Alarm.Subject(kind: .rdsInstance, id: "sharedinfra-alpha-databas-databaseinstance24d16791-o3f70cahozc6", container: nil))
        #expect(a.description == nil)
        #expect(a.consoleLink?.hasPrefix("https://eu-south-1.console.aws.amazon.com/cloudwatch/home?region=eu-south-1#alarmsV2:alarm/SharedInfra-") == true)
    }

    @Test func metricMathAndAnomalyAlarmsShowTheirQueries() throws {
        let math = try parse("raw_metric_math_alarm.json")
        #expect(math.metric == nil)
        #expect(math.queries.map(\.id) == ["e1", "m1"])
        #expect(math.queries[0].expression == "m1*1" && math.queries[0].returnData)
        #expect(math.subject?.kind == .ec2Instance && math.subject?.id == "TestInstance")
        // AWS's sample ARN has placeholders: left out, the alarm still shown.
        #expect(math.arn == nil)

        let anomaly = try parse("raw_anomaly_alarm.json")
        #expect(anomaly.thresholdMetricID == "ad1")
        #expect(anomaly.queries.contains { $0.expression?.hasPrefix("ANOMALY_DETECTION_BAND") == true })
        // A name with #, |, spaces and non-ASCII: the ARN is split on its first six colons only.
        #expect(anomaly.name.contains("Sesión"))
        #expect(anomaly.region == "us-east-1")
        #expect(anomaly.consoleLink?.contains("%23%20Error%20Api") == true)
    }

    @Test func compositeAlarmsHaveARuleAndNoMetric() throws {
        let a = try parse("raw_composite_alarm.json")
        #expect(a.isComposite && a.metric == nil && a.queries.isEmpty)
        #expect(a.rule?.hasPrefix("ALARM(arn:aws:cloudwatch:us-east-1:427809481713:alarm:") == true)
        #expect(a.subject == nil)

        let event = try parse("eventbridge_composite_alarm_state_change.json")
        #expect(event.form == .eventBridge && event.isComposite)
        #expect(event.deliveryID == "d3dfc86d-384d-24c8-0345-9f7986db0b80")
    }

    @Test func eventBridgeStateChanges() throws {
        let a = try parse("eventbridge_alarm_state_change.json")
        #expect(a.form == .eventBridge)
        #expect(a.name == "ServerCpuTooHigh" && a.state == .alarm && a.previous == .ok)
        #expect(a.region == "us-east-1" && a.account == "123456789012")
        #expect(a.metric?.name == "CPUUtilization")
        #expect(a.subject == Alarm.Subject(kind: .ec2Instance, id: "i-12345678901234567", container: nil))
        #expect(a.threshold == 50)
        #expect(a.description == "Goes into alarm when server CPU utilization is too high!")
        let math = try parse("eventbridge_metric_math_alarm_state_change.json")
        #expect(!math.queries.isEmpty && math.metric == nil)
    }

    @Test func customNotifications() throws {
        let a = try parse("custom_notification.json")
        #expect(a.form == .custom)
        #expect(a.title == ":warning: Banana Order processing is down!")
        #expect(a.nextSteps.count == 3 && a.keywords == ["BananaOrderIntake", "Critical", "SRE"])
        #expect(a.key == "custom:OrderProcessing-1")
        #expect(a.changedAt == Self.received)
        #expect(a.runbook == nil)
        _ = try parse("custom_notification_minimal.json")
    }

    @Test func aRunbookLinkIsTakenFromTheDescriptionOrATag() throws {
        var a = Alarm(form: .raw, name: "x", state: .alarm, reason: "", changedAt: Self.received)
        a.description = "CPU high. Runbook: https://wiki.example.com/runbooks/web?x=1&y=2."
        #expect(a.runbook == "https://wiki.example.com/runbooks/web?x=1&y=2")
        a.tags = ["Runbook": "https://runbooks.example.com/cpu"]
        #expect(a.runbook == "https://runbooks.example.com/cpu")
        a.tags = ["runbook": "javascript:alert(1)"]
        a.description = "see <javascript:alert(1)|here>"
        #expect(a.runbook == nil)
    }

    @Test(arguments: [
        ("", "not a JSON object"),
        ("[1,2]", "not a JSON object"),
        (#"{"Type":"SubscriptionConfirmation","MessageId":"1","TopicArn":"t"}"#, "SubscriptionConfirmation"),
        (#"{"Type":"Notification","MessageId":"1","TopicArn":"t","Message":"hello","Subject":"hi"}"#, "Message is not JSON"),
        (#"{"detail-type":"EC2 Instance State-change Notification","detail":{}}"#, "not a CloudWatch Alarm State Change"),
        (#"{"AlarmName":"a","NewStateValue":"PANIC","StateChangeTime":"2024-07-05T15:20:44.959+0000"}"#, "NewStateValue 'PANIC'"),
        (#"{"AlarmName":"a","NewStateValue":"OK","StateChangeTime":"yesterday"}"#, "StateChangeTime 'yesterday'"),
        (#"{"AlarmName":"","NewStateValue":"OK","StateChangeTime":"2024-07-05T15:20:44.959+0000"}"#, "no usable name"),
        (#"{"version":"1.0","source":"custom","content":{}}"#, "content.description"),
        (#"{"hello":"world"}"#, "not a CloudWatch alarm"),
    ])
    func brokenBodiesAreRefusedWithTheReason(body: String, reason: String) {
        #expect {
            _ = try Alarm.parse(body, receivedAt: Self.received)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func aChangeTimeInTheFutureIsTakenAsArrival() throws {
        let body = #"{"AlarmName":"a","NewStateValue":"ALARM","StateChangeTime":"9999-12-31T23:59:59.000+0000"}"#
        let a = try Alarm.parse(body, receivedAt: Self.received)
        #expect(a.changedAt == Self.received.addingTimeInterval(300))
    }

    @Test func aBodyOverOneMebibyteIsRefusedUnread() {
        let body = "{\"AlarmName\":\"" + String(repeating: "a", count: Alarm.maximumBytes) + "\"}"
        #expect(throws: AlarmParseError.self) { _ = try Alarm.parse(body, receivedAt: Self.received) }
    }

    /// Every fixture, cut short, with bytes changed and with fields swapped for the wrong
    /// types: an error or an alarm, never a trap.
    @Test func mangledFixturesNeverTrap() async throws {
        // Thousands of parses: on a thread of its own, not on the two-thread cooperative pool
        // the loopback servers of the tests running beside it need.
        try await onOwnThread { try Self.mangle() }
    }

    static func mangle() throws {
        var rng = SystemRandomNumberGenerator()
        let hostile: [String] = ["null", "true", "-1e309", "1.7976931348623157e308", "\"\"", "[]", "{}", "\"\\u0000\"",
                                 "\"2024-02-30T25:61:61.000+9999\"", "\"arn:aws:cloudwatch:::alarm:\"", "123456789012345678901234567890"]
        for name in try AlarmFixtures.names() {
            let text = try AlarmFixtures.text(name)
            let bytes = Array(text.utf8)
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
                _ = try? Alarm.parse(String(decoding: bytes[..<cut], as: UTF8.self), receivedAt: Self.received)
            }
            for _ in 0..<50 {
                var b = bytes
                b[Int(rng.next() % UInt64(b.count))] = UInt8(rng.next() % 256)
                _ = try? Alarm.parse(String(decoding: b, as: UTF8.self), receivedAt: Self.received)
            }
            guard let json = JSON.parse(text), case .object(let top) = json else { continue }
            for key in top.keys {
                for value in hostile {
                    let swapped = json.setting(key, JSON.parse(value) ?? .string(value))
                    _ = try? Alarm.parse(swapped.text, receivedAt: Self.received)
                    if case .string(let inner) = top[key], let innerJSON = JSON.parse(inner), case .object(let fields) = innerJSON {
                        for field in fields.keys {
                            let nested = json.setting(key, .string(innerJSON.setting(field, JSON.parse(value) ?? .null).text))
                            _ = try? Alarm.parse(nested.text, receivedAt: Self.received)
                        }
                    }
                }
            }
        }
    }

    @Test func timestampsAsAWSWritesThem() {
        let t = Date(timeIntervalSince1970: 1_720_192_844.959)
        #expect(abs((Timestamp.parse("2024-07-05T15:20:44.959+0000")?.timeIntervalSince1970 ?? 0) - t.timeIntervalSince1970) < 0.0005)
        #expect(Timestamp.parse("2024-07-05T17:20:44.959+02:00") == Timestamp.parse("2024-07-05T15:20:44.959Z"))
        #expect(Timestamp.parse("2019-10-02T17:04:40Z")?.timeIntervalSince1970 == 1_570_035_880)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        for bad in ["", "2024-02-30T00:00:00Z", "2024-07-05T15:20:44", "2024-07-05T24:00:00Z", "2024-07-05T15:20:44.Z",
                    "2024-07-05T15:20:44.959+000", "٢٠٢٤-07-05T15:20:44Z", "2024-07-05T15:20:44Zjunk"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
