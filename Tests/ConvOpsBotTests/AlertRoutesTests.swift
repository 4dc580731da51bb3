@testable import ConvOpsBot
import ConvOpsCore
import Foundation
import Testing

/// Routing: first match decides unless it says continue; the default takes the rest; every
/// mistake in the config is named at start.
@Suite struct AlertRoutesTests {
    func alarm(_ name: String, namespace: String = "AWS/EC2", tags: [String: String] = [:]) -> Alarm {
        var a = Alarm(form: .raw, name: name, state: .alarm, reason: "", changedAt: Date(timeIntervalSince1970: 0))
        a.account = "123456789012"
        a.metric = Alarm.Metric(namespace: namespace, name: "CPUUtilization")
        a.tags = tags
        return a
    }

    @Test func routesInOrderWithContinueAndDefault() throws {
        let settings = try AlertSettings.parse([
            "queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/convops-alarms",
            "routes": [
                ["match": ["namespace": "AWS/RDS"], "channels": ["C0DBA00001"], "continue": true],
                ["match": ["alarm": "api-*", "environment": "prod"], "channels": ["C0PAGER001"], "people": ["U0ONCALL01"]],
                ["match": ["tags": ["team": "payments"]], "channels": ["C0PAY00001"]],
                ["match": ["alarm": "db-?-*"], "channels": ["C0DBHIGH01"]],
            ],
            "default_channels": ["C0OPS00001"],
        ] as [String: Any], source: "test")
        #expect(settings.destinations(for: alarm("api-5xx"), environment: "prod").channels == ["C0PAGER001"])
        #expect(settings.destinations(for: alarm("api-5xx"), environment: "prod").people == ["U0ONCALL01"])
        #expect(settings.destinations(for: alarm("api-5xx"), environment: "staging").channels == ["C0OPS00001"])
        #expect(settings.destinations(for: alarm("x", tags: ["team": "payments"]), environment: nil).channels == ["C0PAY00001"])
        #expect(settings.destinations(for: alarm("db-1-cpu", namespace: "AWS/RDS"), environment: nil).channels == ["C0DBA00001", "C0DBHIGH01"])
        #expect(settings.destinations(for: alarm("db-12-cpu", namespace: "AWS/EC2"), environment: nil).channels == ["C0OPS00001"])
        #expect(AlertSettings.region(of: settings.queueURLs[0], default: "us-east-1") == "eu-west-1")
    }

    @Test(arguments: [
        (#"{"queue_url": "https://evil.example.com/123456789012/q"}"#, "is not an SQS queue URL"),
        (#"{"routes": [{"match": {}, "channels": ["C0OPS00001"]}]}"#, "'match' must name"),
        (##"{"routes": [{"match": {"alarm": "x"}, "channels": ["#ops"]}]}"##, "channel ids such as C0123ABCD"),
        (#"{"routes": [{"match": {"alarm": "x"}}]}"#, "names no channels and no people"),
        (#"{"routes": [{"match": {"severity": "x"}, "channels": ["C0OPS00001"]}]}"#, "unknown key 'severity'"),
        (#"{"routes": [{"match": {"account": "prod"}, "channels": ["C0OPS00001"]}]}"#, "12-digit account id"),
        (#"{"poll_seconds": 60}"#, "from 1 to 20"),
        (#"{"queue": "x"}"#, "unknown key 'queue'"),
    ])
    func mistakesAreNamed(section: String, message: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(section.utf8))
        #expect {
            _ = try AlertSettings.parse(object, source: "convops.json")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func globsDoNotBacktrackForever() {
        #expect(AlertRoute.glob("a*a*a*a*a*a*a*b", String(repeating: "a", count: 5000)) == false)
        #expect(AlertRoute.glob("*", ""))
        #expect(AlertRoute.glob("api-?", "api-1") && !AlertRoute.glob("api-?", "api-12"))
    }

    @Test func aRouteThatNamesOnlyPeopleDoesNotSwallowTheAlert() throws {
        let settings = try AlertSettings.parse([
            "routes": [["match": ["alarm": "api-*"], "people": ["+491701234567"]]], "default_channels": ["C0OPS00001"],
        ] as [String: Any], source: "test")
        let d = settings.destinations(for: alarm("api-5xx"), environment: nil)
        #expect(d.channels == ["C0OPS00001"] && d.people == ["+491701234567"])
    }

    /// `default_people`: who hears on WhatsApp of an alarm no route names anyone for (a
    /// process without Slack has no default channel); a route's own people replace them.
    @Test func defaultPeopleTakeWhatNoRouteNamesAnyoneFor() throws {
        let settings = try AlertSettings.parse([
            "routes": [["match": ["alarm": "api-*"], "people": ["+491701234567"]]], "default_people": ["+491709999999"],
        ] as [String: Any], source: "test")
        #expect(settings.destinations(for: alarm("api-5xx"), environment: nil).people == ["+491701234567"])
        #expect(settings.destinations(for: alarm("db-cpu"), environment: nil).people == ["+491709999999"])
        #expect(settings.destinations(for: alarm("db-cpu"), environment: nil).channels.isEmpty)
        #expect(throws: ConfigurationError.self) {
            try AlertSettings.parse(["default_people": ["alice"]] as [String: Any], source: "test")
        }
    }

    /// A tag of the alarm's resource routes it: the resolver keeps exactly the keys routes name.
    @Test func aTagOfTheAlarmsResourceRoutesIt() throws {
        let settings = try AlertSettings.parse([
            "routes": [["match": ["resource_tags": ["Team": "payments"]], "channels": ["C0PAY00001"]],
                       ["match": ["tags": ["team": "payments"]], "channels": ["C0ALARMTAG"]]],
            "default_channels": ["C0OPS00001"],
        ] as [String: Any], source: "test")
        #expect(settings.resourceTagKeys == ["team"])
        let tagged = ResourceRef(kind: .ec2Instance, id: "i-1", name: "pay-1", region: "eu-west-1", tags: ["team": "payments", "env": "prod"])
        let other = ResourceRef(kind: .ec2Instance, id: "i-2", name: "web-1", region: "eu-west-1", tags: ["team": "web"])
        #expect(settings.destinations(for: alarm("cpu"), environment: nil, resource: tagged).channels == ["C0PAY00001"])
        #expect(settings.destinations(for: alarm("cpu"), environment: nil, resource: other).channels == ["C0OPS00001"])
        // No resource found: no tag to match; an alarm's own tag is another key.
        #expect(settings.destinations(for: alarm("cpu"), environment: nil, resource: nil).channels == ["C0OPS00001"])
        #expect(settings.destinations(for: alarm("cpu", tags: ["team": "payments"]), environment: nil, resource: nil).channels == ["C0ALARMTAG"])
        #expect {
            _ = try AlertSettings.parse(["routes": [["match": ["resource_tags": ["team": 3]], "channels": ["C0OPS00001"]]]] as [String: Any], source: "c")
        } throws: { "\($0)".contains("resource_tags must be an object of tag keys to values") }
    }
}
