/// A Slack token, held in memory only. It never prints: interpolating it into a log line or an
/// error shows its kind, not its value.
public struct SlackToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String

    public init?(_ value: String?) {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        self.value = value.trimmingCharacters(in: .whitespaces)
    }

    /// `xapp-` (app-level), `xoxb-` (bot), …
    public var kind: String { String(value.prefix(while: { $0 != "-" })) }

    var authorization: String { "Bearer \(value)" }

    public var description: String { "SlackToken(\(kind)-…)" }
    public var debugDescription: String { description }
}
