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

    /// CreateLogStream; a stream that already exists is fine.
    public func createLogStream(group: String, stream: String, region: String? = nil) async throws(AWSError) {
        do {
            _ = try await client.json(.logs, action: "CreateLogStream", body: ["logGroupName": group, "logStreamName": stream],
                                      region: region, idempotent: true)
        } catch where error.code == "ResourceAlreadyExistsException" {
            return
        }
    }

    /// PutLogEvents, in order (no sequence token: CloudWatch Logs stopped asking for one in 2023).
    public func putLogEvents(group: String, stream: String, events: [(at: Date, message: String)], region: String? = nil) async throws(AWSError) {
        let items: [[String: Any]] = events.map { ["timestamp": Int64($0.at.timeIntervalSince1970 * 1000), "message": $0.message] }
        _ = try await client.json(.logs, action: "PutLogEvents", body: ["logGroupName": group, "logStreamName": stream, "logEvents": items],
                                  region: region, idempotent: false)
    }

    /// The most of one event's message that is kept (an event may be 256 KB).
    public static let messageBytesKept = 2_048
    /// About how many bytes of messages one read keeps.
    public static let bytesKept = 1 << 20

    /// Events of a log group since `start`, matching `pattern` when given, at most `limit`
    /// events and about `byteLimit` bytes of messages, following nextToken. Each message is
    /// kept to its first `messageBytesKept` bytes.
    public func filterLogEvents(group: String, since start: Date, pattern: String? = nil, limit: Int = 50,
                                byteLimit: Int = Logs.bytesKept, region: String? = nil) async throws(AWSError) -> [LogEvent] {
        var body: [String: Any] = ["logGroupName": group, "startTime": Int64(start.timeIntervalSince1970 * 1000),
                                   "limit": min(10_000, max(1, limit))]
        if let pattern, !pattern.isEmpty { body["filterPattern"] = pattern }
        var out: [LogEvent] = []
        var bytes = 0
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
                var message = e["message"] as? String ?? ""
                if message.utf8.count > Self.messageBytesKept {
                    message = String(decoding: message.utf8.prefix(Self.messageBytesKept), as: UTF8.self) + "…"
                }
                bytes += message.utf8.count
                out.append(LogEvent(timestamp: Date(timeIntervalSince1970: ms / 1000), message: message,
                                    stream: e["logStreamName"] as? String ?? ""))
            }
            token = try walk.next(answer["nextToken"] as? String)
        } while token != nil && out.count < limit && bytes < byteLimit
        return Array(out.prefix(limit))
    }
}
