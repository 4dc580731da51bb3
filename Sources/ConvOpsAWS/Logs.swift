import Foundation

public struct LogEvent: Sendable, Hashable {
    public var timestamp: Date
    public var message: String
    public var stream: String
}

/// CloudWatch Logs FilterLogEvents (JSON 1.1, target Logs_20140328).
public struct Logs: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// Events of a log group since `start`, matching `pattern` when given, at most `limit`,
    /// following nextToken.
    public func filterLogEvents(group: String, since start: Date, pattern: String? = nil, limit: Int = 50,
                                region: String? = nil) async throws(AWSError) -> [LogEvent] {
        var body: [String: Any] = ["logGroupName": group, "startTime": Int64(start.timeIntervalSince1970 * 1000),
                                   "limit": min(10_000, max(1, limit))]
        if let pattern, !pattern.isEmpty { body["filterPattern"] = pattern }
        var out: [LogEvent] = []
        var token: String?
        repeat {
            var page = body
            if let token { page["nextToken"] = token }
            let answer = try await client.json(.logs, action: "FilterLogEvents", body: page, region: region)
            for e in answer["events"] as? [[String: Any]] ?? [] {
                let ms = (e["timestamp"] as? NSNumber)?.doubleValue ?? 0
                out.append(LogEvent(timestamp: Date(timeIntervalSince1970: ms / 1000), message: e["message"] as? String ?? "",
                                    stream: e["logStreamName"] as? String ?? ""))
            }
            token = (answer["nextToken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil && out.count < limit
        return Array(out.prefix(limit))
    }
}
