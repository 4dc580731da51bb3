import ConvOpsAWS
import Foundation
import Logging

/// Copies every signed audit digest to a CloudWatch Logs stream in the customer's own account
/// (config `audit_digest_log_group`), in order: a second record of the audit head, kept where
/// whoever can edit the database and the digest file on this host cannot reach.
public final class DigestShipper: Sendable {
    /// The stream the digests go to, in the configured group.
    public static let streamName = "convops-audit-digests"

    private let lines: AsyncStream<String>.Continuation
    private let worker: Task<Void, Never>

    public init(logs: Logs, group: String, logger: Logger) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        lines = continuation
        worker = Task {
            var created = false
            for await line in stream {
                var attempt = 0
                while true {
                    attempt += 1
                    do {
                        if !created {
                            try await logs.createLogStream(group: group, stream: Self.streamName)
                            created = true
                        }
                        try await logs.putLogEvents(group: group, stream: Self.streamName, events: [(Date(), line)])
                        break
                    } catch {
                        guard attempt < 3 else {
                            logger.error("audit.digest_not_copied", metadata: ["aws.log_group": "\(group)", "error.message": "\(error)"])
                            break
                        }
                        try? await Task.sleep(for: .milliseconds(200 * attempt))
                    }
                }
            }
        }
    }

    /// The store's sink: called with each digest line once it is in the file.
    public func send(_ line: String) { lines.yield(line) }

    /// Sends what is queued, then stops.
    public func finish() async {
        lines.finish()
        await worker.value
    }
}
