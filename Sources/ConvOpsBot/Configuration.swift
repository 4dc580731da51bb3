import ConvOpsAWS
import ConvOpsCore
import Foundation

/// Settings, from the environment first, then an optional JSON config file, then defaults.
/// Every setting is documented in the README.
public struct Configuration: Sendable {
    /// The folder holding `commands/` and `locales/`.
    public var home: String
    /// The SQLite file (CONVOPS_DB).
    public var databasePath: String
    public var locale: String
    /// Audit entries and finished requests older than this many days are purged (at most 365).
    public var retentionDays: Int
    /// The data key file used when CONVOPS_DATA_KEY is not set (created beside the database).
    public var dataKeyFile: String
    /// Who may do what; without a `policy` section in the config file, one person may do all.
    public var policy: AccessPolicy
    public var aws: AWSConfiguration
    /// Slack's Web API base (SLACK_API_URL), Socket Mode connections to hold, the approvers'
    /// channel. The tokens are read from the environment only, when `convops run` starts.
    public var slackAPIURL: String = "https://slack.com/api/"
    public var slackConnections: Int = 2
    public var slackApprovalChannel: String?

    public var commandsDirectory: String { (home as NSString).appendingPathComponent("commands") }
    public var localesDirectory: String { (home as NSString).appendingPathComponent("locales") }

    /// The keys a config file may set, with their environment variable.
    static let keys: [(file: String, env: String)] = [
        ("home", "CONVOPS_HOME"), ("db", "CONVOPS_DB"), ("locale", "CONVOPS_LOCALE"),
        ("confirmation_timeout_seconds", "CONVOPS_CONFIRMATION_TIMEOUT"),
        ("retention_days", "CONVOPS_RETENTION_DAYS"), ("data_key_file", "CONVOPS_DATA_KEY_FILE"),
        ("region", "AWS_REGION"), ("endpoint_url", "AWS_ENDPOINT_URL"),
        ("slack_api_url", "SLACK_API_URL"), ("slack_connections", "SLACK_CONNECTIONS"),
        ("slack_approval_channel", "SLACK_APPROVAL_CHANNEL"),
    ]

    public static func load(environment env: [String: String], currentDirectory: String) throws(ConfigurationError) -> Configuration {
        var file: [String: String] = [:]
        var policy = AccessPolicy.openSolo
        if let path = env["CONVOPS_CONFIG"], !path.isEmpty {
            let (values, policyObject) = try readFile(path)
            file = values
            if let policyObject { policy = try PolicyFile.parse(policyObject, source: path) }
        }
        func value(_ fileKey: String, _ envKey: String) -> String? {
            if let v = env[envKey], !v.isEmpty { return v }
            return file[fileKey]
        }
        let home = value("home", "CONVOPS_HOME") ?? findHome(from: currentDirectory)
        let db = value("db", "CONVOPS_DB") ?? (currentDirectory as NSString).appendingPathComponent("convops.db")
        var timeout: TimeInterval = 600
        if let raw = value("confirmation_timeout_seconds", "CONVOPS_CONFIRMATION_TIMEOUT") {
            guard let seconds = TimeInterval(raw), seconds >= 10, seconds <= 86_400 else {
                throw ConfigurationError("CONVOPS_CONFIRMATION_TIMEOUT (confirmation_timeout_seconds) must be a number of seconds from 10 to 86400, not '\(raw)'")
            }
            timeout = seconds
        }
        var retention = 365
        if let raw = value("retention_days", "CONVOPS_RETENTION_DAYS") {
            // The privacy policy promises at most 12 months.
            guard let days = Int(raw), days >= 1, days <= 365 else {
                throw ConfigurationError("CONVOPS_RETENTION_DAYS (retention_days) must be a whole number of days from 1 to 365, not '\(raw)'")
            }
            retention = days
        }
        let keyFile = value("data_key_file", "CONVOPS_DATA_KEY_FILE") ?? db + ".key"
        // The environment (or confirmation_timeout_seconds) overrides the policy's expiry_seconds.
        if value("confirmation_timeout_seconds", "CONVOPS_CONFIRMATION_TIMEOUT") != nil || policy == .openSolo {
            policy.expiry = timeout
            policy.warning = min(policy.warning, timeout / 2)
        }
        var aws = AWSConfiguration.fromEnvironment(env)
        if env["AWS_REGION"]?.isEmpty != false, env["AWS_DEFAULT_REGION"]?.isEmpty != false, let region = file["region"] {
            aws.region = region
        }
        if aws.endpoint == nil, let endpoint = file["endpoint_url"] { aws.endpoint = endpoint }
        if let endpoint = aws.endpoint {
            guard let url = URLComponents(string: endpoint), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ConfigurationError("AWS_ENDPOINT_URL must be an http(s) URL such as http://127.0.0.1:5000, not '\(endpoint)'")
            }
        }
        var configuration = Configuration(home: home, databasePath: db, locale: value("locale", "CONVOPS_LOCALE") ?? "en",
                                          retentionDays: retention, dataKeyFile: keyFile, policy: policy, aws: aws)
        if let url = value("slack_api_url", "SLACK_API_URL") {
            guard let c = URLComponents(string: url), c.scheme == "https" || c.scheme == "http", c.host != nil else {
                throw ConfigurationError("SLACK_API_URL (slack_api_url) must be an http(s) URL such as https://slack.com/api/, not '\(url)'")
            }
            configuration.slackAPIURL = url
        }
        if let raw = value("slack_connections", "SLACK_CONNECTIONS") {
            // Slack allows at most 10 Socket Mode connections per app, across all replicas.
            guard let n = Int(raw), (1...10).contains(n) else {
                throw ConfigurationError("SLACK_CONNECTIONS (slack_connections) must be a whole number from 1 to 10, not '\(raw)'")
            }
            configuration.slackConnections = n
        }
        if let channel = value("slack_approval_channel", "SLACK_APPROVAL_CHANNEL") {
            guard channel.allSatisfy({ $0.isUppercase || $0.isNumber }), let first = channel.first, "CGD".contains(first) else {
                throw ConfigurationError("SLACK_APPROVAL_CHANNEL (slack_approval_channel) must be a channel id such as C0123ABCD (right-click the channel → Copy link), not '\(channel)'")
            }
            configuration.slackApprovalChannel = channel
        }
        return configuration
    }

    private static func readFile(_ path: String) throws(ConfigurationError) -> ([String: String], Any?) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path) (CONVOPS_CONFIG)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("\(path) is not a JSON object; see the README for its keys")
        }
        var out: [String: String] = [:]
        let known = Set(keys.map(\.file))
        for (key, value) in object where key != "policy" {
            guard known.contains(key) else {
                throw ConfigurationError("\(path): unknown key '\(key)' (known: \((keys.map(\.file) + ["policy"]).joined(separator: ", ")))")
            }
            switch value {
            case let s as String: out[key] = s
            case let n as NSNumber: out[key] = n.stringValue
            default: throw ConfigurationError("\(path): '\(key)' must be a string or a number")
            }
        }
        return (out, object["policy"])
    }

    /// The folder with `commands/`: the current one, or one above the executable (a checkout).
    static func findHome(from currentDirectory: String) -> String {
        var candidates = [currentDirectory]
        var dir = (CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? currentDirectory) as NSString
        for _ in 0..<6 {
            dir = dir.deletingLastPathComponent as NSString
            candidates.append(dir as String)
        }
        return candidates.first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("commands")) } ?? currentDirectory
    }
}

public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
