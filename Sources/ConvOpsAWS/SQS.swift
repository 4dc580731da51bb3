import Foundation

public struct SQSMessage: Sendable, Hashable {
    public var id: String
    public var receiptHandle: String
    public var body: String
}

/// The SQS operations the alarm intake uses (JSON 1.0, target AmazonSQS).
public struct SQS: Sendable {
    let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// ReceiveMessage with a long poll (up to 20 s): returns as soon as messages arrive.
    public func receiveMessages(queueURL: String, waitSeconds: Int = 20, max: Int = 10,
                                region: String? = nil) async throws(AWSError) -> [SQSMessage] {
        let answer = try await client.json(.sqs, action: "ReceiveMessage",
                                           body: ["QueueUrl": queueURL, "WaitTimeSeconds": min(20, Swift.max(0, waitSeconds)),
                                                  "MaxNumberOfMessages": min(10, Swift.max(1, max))],
                                           region: region)
        return (answer["Messages"] as? [[String: Any]] ?? []).compactMap { m in
            guard let id = m["MessageId"] as? String, let handle = m["ReceiptHandle"] as? String else { return nil }
            return SQSMessage(id: id, receiptHandle: handle, body: m["Body"] as? String ?? "")
        }
    }

    /// DeleteMessage: done with it (only after the alert is stored, so none is lost).
    public func deleteMessage(queueURL: String, receiptHandle: String, region: String? = nil) async throws(AWSError) {
        _ = try await client.json(.sqs, action: "DeleteMessage", body: ["QueueUrl": queueURL, "ReceiptHandle": receiptHandle],
                                  region: region, idempotent: true)
    }

    /// SendMessage: what SNS does for a subscribed queue (the tests' and the storm benchmark's sender).
    @discardableResult
    public func sendMessage(queueURL: String, body: String, region: String? = nil) async throws(AWSError) -> String {
        let answer = try await client.json(.sqs, action: "SendMessage", body: ["QueueUrl": queueURL, "MessageBody": body], region: region)
        return answer["MessageId"] as? String ?? ""
    }

    /// DeleteMessageBatch: up to 10 at once; returns the receipt handles SQS did not delete
    /// (they come back after their visibility timeout and are recognised as seen).
    public func deleteMessages(queueURL: String, receiptHandles: [String], region: String? = nil) async throws(AWSError) -> [String] {
        var failed: [String] = []
        var start = 0
        while start < receiptHandles.count {
            let chunk = Array(receiptHandles[start..<min(receiptHandles.count, start + 10)])
            let entries = chunk.enumerated().map { ["Id": "m\($0.offset)", "ReceiptHandle": $0.element] }
            let answer = try await client.json(.sqs, action: "DeleteMessageBatch", body: ["QueueUrl": queueURL, "Entries": entries],
                                               region: region, idempotent: true)
            for f in answer["Failed"] as? [[String: Any]] ?? [] {
                if let id = f["Id"] as? String, let n = Int(id.dropFirst()), chunk.indices.contains(n) { failed.append(chunk[n]) }
            }
            start += 10
        }
        return failed
    }

    /// SendMessageBatch: up to 10 bodies at once (the storm benchmark's and tests' sender).
    public func sendMessages(queueURL: String, bodies: [String], region: String? = nil) async throws(AWSError) {
        var start = 0
        while start < bodies.count {
            let chunk = bodies[start..<min(bodies.count, start + 10)]
            let entries = chunk.enumerated().map { ["Id": "m\($0.offset)", "MessageBody": $0.element] }
            let answer = try await client.json(.sqs, action: "SendMessageBatch", body: ["QueueUrl": queueURL, "Entries": entries], region: region)
            if let failed = answer["Failed"] as? [[String: Any]], !failed.isEmpty {
                throw AWSError(kind: .serviceUnavailable, operation: "sqs:SendMessageBatch", code: "BatchFailed",
                               message: "\(failed.count) of \(chunk.count) messages were not sent")
            }
            start += 10
        }
    }
}
