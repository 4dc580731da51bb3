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

    /// Timestamps at or past this many milliseconds (the year 33658) are not times.
    static let latestTimestamp = 1e15

    /// Events of a log group since `start`, matching `pattern` when given, at most `limit`,
    /// following nextToken.
    public func filterLogEvents(group: String, since start: Date, pattern: String? = nil, limit: Int = 50,
                                region: String? = nil) async throws(AWSError) -> [LogEvent] {
        var body: [String: Any] = ["logGroupName": group, "startTime": Int64(start.timeIntervalSince1970 * 1000),
                                   "limit": min(10_000, max(1, limit))]
        if let pattern, !pattern.isEmpty { body["filterPattern"] = pattern }
        var out: [LogEvent] = []
        var token: String?
        var walk = PageWalk("logs:FilterLogEvents")
        repeat {
            var page = body
            if let token { page["nextToken"] = token }
            let answer = try await client.json(.logs, action: "FilterLogEvents", body: page, region: region)
            for e in answer["events"] as? [[String: Any]] ?? [] {
                // Milliseconds since 1970; a time no clock can show (NaN, ±1e300) is left out.
                let ms = (e["timestamp"] as? NSNumber)?.doubleValue ?? 0
                guard ms.isFinite, abs(ms) < Self.latestTimestamp else { continue }
                out.append(LogEvent(timestamp: Date(timeIntervalSince1970: ms / 1000), message: e["message"] as? String ?? "",
                                    stream: e["logStreamName"] as? String ?? ""))
            }
            token = try walk.next(answer["nextToken"] as? String)
        } while token != nil && out.count < limit
        return Array(out.prefix(limit))
    }
}
