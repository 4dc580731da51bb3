import Foundation

/// A WhatsApp credential (the access token, the app secret, the webhook's verify token): read
/// from the environment only, never printed. Its description names the kind, not the value.
public struct WhatsAppSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    let kind: String

    public init?(_ value: String?, kind: String) {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        self.value = trimmed
        self.kind = kind
    }

    var authorization: String { "Bearer \(value)" }
    var bytes: [UInt8] { Array(value.utf8) }

    public var description: String { "WhatsAppSecret(\(kind), …)" }
    public var debugDescription: String { description }
}
