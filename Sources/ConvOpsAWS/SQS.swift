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
}
