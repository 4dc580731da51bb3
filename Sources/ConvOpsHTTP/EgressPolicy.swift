import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where outbound calls may go. Our promise is that nothing leaves the customer's account
/// except calls to Slack, WhatsApp and AWS; this is where the code keeps it.
public struct EgressPolicy: Sendable, Hashable {
    /// Exact host names, or suffixes starting with a dot (".slack.com").
    public var allowedHosts: [String]
    /// AWS service endpoint prefixes that may be called as `PREFIX.REGION.amazonaws.com`
    /// (`.amazonaws.com.cn` in China). Only these: a plain `.amazonaws.com` suffix would admit
    /// hosts anyone can own (S3 website buckets, API Gateway stages, load balancers).
    public var awsServices: Set<String>
    /// Whether loopback addresses (127.0.0.0/8, ::1, localhost) may be called, over plain http
    /// too. For local emulators and tests; off by default.
    public var allowLoopback: Bool
    /// Link-local credential endpoints inside the instance or task (EC2's IMDS at
    /// 169.254.169.254, ECS's at 169.254.170.2): plain http by design, never leaving the host.
    public var metadataHosts: [String] = []

    public init(allowedHosts: [String], awsServices: Set<String> = [], allowLoopback: Bool = false) {
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.awsServices = awsServices
        self.allowLoopback = allowLoopback
    }

    /// The link-local hosts AWS serves credentials from; only these may be added with
    /// `allowingMetadata`.
    public static let linkLocalCredentialHosts: Set<String> = ["169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "[fd00:ec2::254]"]

    /// The AWS services ConvOps calls (the endpoint prefixes of `AWSService`, and SNS for alerts).
    public static let convopsAWSServices: Set<String> = ["ec2", "sts", "rds", "autoscaling", "monitoring", "ecs", "logs", "sqs", "sns"]

    /// Adds a credential endpoint's host: loopback, or one of AWS's link-local ones.
    public func allowingMetadata(endpoint: String) -> EgressPolicy {
        guard let host = URLComponents(string: endpoint)?.host?.lowercased() else { return self }
        if Self.isLoopback(host) { return allowing(endpoint: endpoint) }
        guard Self.linkLocalCredentialHosts.contains(host) else { return self }
        var copy = self
        if !copy.metadataHosts.contains(host) { copy.metadataHosts.append(host) }
        return copy
    }

    /// AWS's endpoints for the services we call, Slack and WhatsApp (Meta's Graph API), nothing else.
    public static let production = EgressPolicy(allowedHosts: ["slack.com", ".slack.com", "graph.facebook.com"],
                                                awsServices: convopsAWSServices)

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
        guard Self.isPlainHost(host) else { return "the host name has characters no host name has (\(host.debugDescription))" }
        if Self.isLoopback(host) {
            return allowLoopback ? nil : "loopback hosts are not allowed outside tests and local emulators"
        }
        if metadataHosts.contains(host) { return nil }
        guard scheme == "https" else { return "only https is allowed beyond loopback (TLS 1.2 or later)" }
        let allowed = isAWSEndpoint(host) || allowedHosts.contains { pattern in
            pattern.hasPrefix(".") ? host.hasSuffix(pattern) : host == pattern
        }
        return allowed ? nil : "the host is not on the egress allowlist (AWS's endpoints for our services, Slack, WhatsApp, and configured endpoints)"
    }

    /// `ec2.eu-west-1.amazonaws.com`: a service of ours, a region-shaped middle, AWS's domain.
    func isAWSEndpoint(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let domain: ArraySlice<Substring>
        if parts.count == 4, parts[2] == "amazonaws", parts[3] == "com" {
            domain = parts[..<2]
        } else if parts.count == 5, parts[2] == "amazonaws", parts[3] == "com", parts[4] == "cn" {
            domain = parts[..<2]
        } else {
            return false
        }
        return awsServices.contains(String(domain[domain.startIndex])) && Self.isRegion(domain[domain.startIndex + 1])
    }

    /// `eu-west-1`, `us-gov-west-1`, `cn-north-1`: two letters, words of letters, one digit.
    static func isRegion(_ s: Substring) -> Bool {
        let words = s.split(separator: "-", omittingEmptySubsequences: false)
        guard words.count >= 3, words[0].count == 2, let last = words.last, last.count == 1,
              last.allSatisfy(\.isASCIIDigit) else { return false }
        return words.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= "a" && $0 <= "z" } }
    }

    /// Letters, digits, dots and hyphens, or an IP address. Foundation decodes `%00` and other
    /// escapes in a URL's host, so `evil.example%00.slack.com` would end in `.slack.com` here
    /// and connect to `evil.example` in C: such a host is no host.
    public static func isPlainHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        if host.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) { return true }
        var v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// Loopback by address, not by spelling: `localhost`, an IPv4 address in 127.0.0.0/8 or
    /// the IPv6 address ::1 (also as ::ffff:127.x.y.z). `127.evil.example` is a host name
    /// anyone can register, not loopback.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
