import Foundation

/// Where outbound calls may go. Our promise is that nothing leaves the customer's account
/// except calls to Slack, WhatsApp and AWS; this is where the code keeps it.
public struct EgressPolicy: Sendable, Hashable {
    /// Exact host names, or suffixes starting with a dot (".amazonaws.com").
    public var allowedHosts: [String]
    /// Whether loopback hosts (127.0.0.0/8, ::1, localhost) may be called, over plain http too.
    /// For local emulators and tests; off by default.
    public var allowLoopback: Bool
    /// Link-local credential endpoints inside the instance or task (EC2's IMDS at
    /// 169.254.169.254, ECS's at 169.254.170.2): plain http by design, never leaving the host.
    public var metadataHosts: [String] = []

    public init(allowedHosts: [String], allowLoopback: Bool = false) {
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.allowLoopback = allowLoopback
    }

    /// The link-local hosts AWS serves credentials from; only these may be added with
    /// `allowingMetadata`.
    public static let linkLocalCredentialHosts: Set<String> = ["169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "[fd00:ec2::254]"]

    /// Adds a credential endpoint's host: loopback, or one of AWS's link-local ones.
    public func allowingMetadata(endpoint: String) -> EgressPolicy {
        guard let host = URLComponents(string: endpoint)?.host?.lowercased() else { return self }
        if Self.isLoopback(host) { return allowing(endpoint: endpoint) }
        guard Self.linkLocalCredentialHosts.contains(host) else { return self }
        var copy = self
        if !copy.metadataHosts.contains(host) { copy.metadataHosts.append(host) }
        return copy
    }

    /// AWS, Slack and WhatsApp (Meta's Graph API), nothing else.
    public static let production = EgressPolicy(allowedHosts: [
        ".amazonaws.com", ".amazonaws.com.cn", ".api.aws",
        "slack.com", ".slack.com",
        "graph.facebook.com",
    ])

    /// Adds the host of an endpoint the operator configured (AWS_ENDPOINT_URL, SLACK_API_URL).
    public func allowing(endpoint: String) -> EgressPolicy {
        guard let host = URLComponents(string: endpoint)?.host?.lowercased(), !host.isEmpty else { return self }
        var copy = self
        if Self.isLoopback(host) { copy.allowLoopback = true } else if !copy.allowedHosts.contains(host) { copy.allowedHosts.append(host) }
        return copy
    }

    /// Nil when the call may go ahead, otherwise why not.
    func check(scheme: String, host: String) -> String? {
        let host = host.lowercased()
        if Self.isLoopback(host) {
            return allowLoopback ? nil : "loopback hosts are not allowed outside tests and local emulators"
        }
        if metadataHosts.contains(host) { return nil }
        guard scheme == "https" else { return "only https is allowed beyond loopback (TLS 1.2 or later)" }
        let allowed = allowedHosts.contains { pattern in
            pattern.hasPrefix(".") ? host.hasSuffix(pattern) : host == pattern
        }
        return allowed ? nil : "the host is not on the egress allowlist (AWS, Slack, WhatsApp, and configured endpoints)"
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
