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
    /// Where the policy comes from. `convops run` serves a whole workspace, so it refuses to
    /// start on `.none`; `.open` is the config's explicit `"mode": "open"`.
    public var policySource: PolicySource = .none

    public enum PolicySource: Sendable, Hashable {
        /// No `policy` section and no `"mode": "open"`: the console's one person may do all.
        case none
        /// `"mode": "open"`: everyone may do everything, without approval. Said at start and by `check`.
        case open
        /// The config's `policy` section.
        case configured
    }
    public var aws: AWSConfiguration
    /// Slack's Web API base (SLACK_API_URL), Socket Mode connections to hold, the approvers'
    /// channel. The tokens are read from the environment only, when `convops run` starts.
    public var slackAPIURL: String = "https://slack.com/api/"
    public var slackConnections: Int = 2
    /// Our Socket Mode pings (SLACK_PING_SECONDS) and how long one may go unanswered before the
    /// socket counts as dead (SLACK_PONG_SECONDS).
    public var slackPingSeconds: Double = 1
    public var slackPongSeconds: Double = 2
    public var slackApprovalChannel: String?
    /// Accounts ConvOps acts in through an assumed role (config file `accounts`); none: the
    /// bot's own credentials, in its own account.
    public var accounts: [TargetAccount] = []
    /// How often a running plan checks its effect (CONVOPS_WAIT_POLL_SECONDS, 0.1–60).
    public var waitPollSeconds: Double = 5
    /// How long a running plan waits for its effect before it says it is not confirmed
    /// (CONVOPS_WAIT_TIMEOUT_SECONDS, 1–3600).
    public var waitTimeoutSeconds: Double = 600
    /// Which CloudWatch Logs group holds a resource's logs, by resource name or id (config
    /// file `log_groups`); ECS services default to /ecs/SERVICE without an entry.
    public var logGroups: [String: String] = [:]
    /// The outbound HTTPS proxy (config file `proxy`, CONVOPS_PROXY), or none. The usual
    /// `https_proxy` variables are ignored: where tokens go is configured, not inherited.
    public var proxy: String?
    /// The signed audit digests (config `audit_digest_file`, CONVOPS_AUDIT_DIGEST_FILE); nil:
    /// `<db>.digests`. Put it where the database's writer can append but an attacker with the
    /// database alone cannot reach (another volume, a WORM mount).
    public var auditDigestFile: String?
    /// A CloudWatch Logs group in the bot's own account that gets a copy of every digest.
    public var auditDigestLogGroup: String?
    /// The tag naming a resource's environment (also read: `environment`, `env`, any case).
    public var environmentTag: String = ResourceEnvironment.defaultTagKey
    /// The environment of the bot's own account when no `accounts` are configured.
    public var environment: String?
    /// Channels that show log lines and error details to everyone (`channels.<id>.share_logs`).
    public var sharedLogChannels: Set<String> = []
    /// The alarm queues and where alerts go (config file `alerts`; CONVOPS_ALERTS_QUEUE_URL and
    /// CONVOPS_ALERTS_CHANNEL for one queue and one channel).
    public var alerts = AlertSettings()
    /// WhatsApp (config file `whatsapp`); nil: not used.
    public var whatsApp: WhatsAppSettings?
    /// The loopback port GET /metrics is served on (CONVOPS_METRICS_PORT, `metrics_port`); nil: not served.
    public var metricsPort: Int?

    public var commandsDirectory: String { (home as NSString).appendingPathComponent("commands") }
    public var localesDirectory: String { (home as NSString).appendingPathComponent("locales") }

    /// The keys a config file may set, with their environment variable.
    static let keys: [(file: String, env: String)] = [
        ("home", "CONVOPS_HOME"), ("db", "CONVOPS_DB"), ("locale", "CONVOPS_LOCALE"),
        ("confirmation_timeout_seconds", "CONVOPS_CONFIRMATION_TIMEOUT"),
        ("retention_days", "CONVOPS_RETENTION_DAYS"), ("data_key_file", "CONVOPS_DATA_KEY_FILE"),
        ("region", "AWS_REGION"), ("endpoint_url", "AWS_ENDPOINT_URL"),
        ("slack_api_url", "SLACK_API_URL"), ("slack_connections", "SLACK_CONNECTIONS"),
        ("slack_ping_seconds", "SLACK_PING_SECONDS"), ("slack_pong_seconds", "SLACK_PONG_SECONDS"),
        ("slack_approval_channel", "SLACK_APPROVAL_CHANNEL"), ("wait_poll_seconds", "CONVOPS_WAIT_POLL_SECONDS"),
        ("wait_timeout_seconds", "CONVOPS_WAIT_TIMEOUT_SECONDS"), ("proxy", "CONVOPS_PROXY"), ("mode", "CONVOPS_MODE"),
        ("audit_digest_file", "CONVOPS_AUDIT_DIGEST_FILE"), ("environment_tag", "CONVOPS_ENVIRONMENT_TAG"),
        ("environment", "CONVOPS_ENVIRONMENT"), ("audit_digest_log_group", "CONVOPS_AUDIT_DIGEST_LOG_GROUP"),
        ("metrics_port", "CONVOPS_METRICS_PORT"),
    ]

    public static func load(environment env: [String: String], currentDirectory: String) throws(ConfigurationError) -> Configuration {
        var file: [String: String] = [:]
        var policy = AccessPolicy.openSolo
        var accounts: [TargetAccount] = []
        var logGroups: [String: String] = [:]
        var sharedLogChannels: Set<String> = []
        var alerts = AlertSettings()
        var whatsApp: WhatsAppSettings?
        var hasPolicy = false
        if let path = env["CONVOPS_CONFIG"], !path.isEmpty {
            let (values, objects) = try readFile(path)
            file = values
            if let policyObject = objects["policy"] {
                policy = try PolicyFile.parse(policyObject, source: path)
                hasPolicy = true
            }
            if let accountsObject = objects["accounts"] { accounts = try parseAccounts(accountsObject, source: path) }
            if let groupsObject = objects["log_groups"] { logGroups = try parseLogGroups(groupsObject, source: path) }
            if let channelsObject = objects["channels"] { sharedLogChannels = try parseChannels(channelsObject, source: path) }
            if let alertsObject = objects["alerts"] { alerts = try AlertSettings.parse(alertsObject, source: path) }
            if let object = objects["whatsapp"] { whatsApp = try WhatsAppSettings.parse(object, source: path) }
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
        configuration.policySource = hasPolicy ? .configured : .none
        if let mode = value("mode", "CONVOPS_MODE") {
            guard mode == "open" else {
                throw ConfigurationError("mode (CONVOPS_MODE) can only be \"open\" (everyone may do everything, without approval); for anything else write a `policy` section, not '\(mode)'")
            }
            guard !hasPolicy else {
                throw ConfigurationError("the config has both \"mode\": \"open\" and a `policy` section: keep one (open lets everyone do everything)")
            }
            configuration.policySource = .open
        }
        configuration.logGroups = logGroups
        if let url = env["CONVOPS_ALERTS_QUEUE_URL"], !url.isEmpty {
            guard AlertSettings.isQueueURL(url) else {
                throw ConfigurationError("CONVOPS_ALERTS_QUEUE_URL must be an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/convops-alarms, not '\(url)'")
            }
            if !alerts.queueURLs.contains(url) { alerts.queueURLs.append(url) }
        }
        if let channel = env["CONVOPS_ALERTS_CHANNEL"], !channel.isEmpty {
            guard AlertSettings.isChannelID(channel) else {
                throw ConfigurationError("CONVOPS_ALERTS_CHANNEL must be a channel id such as C0123ABCD, not '\(channel)'")
            }
            alerts.defaultChannels = [channel]
        }
        if !alerts.queueURLs.isEmpty, alerts.defaultChannels.isEmpty, alerts.routes.isEmpty {
            throw ConfigurationError("alerts: there is a queue but no route and no default channel (CONVOPS_ALERTS_CHANNEL or alerts.default_channels): every alarm would go nowhere")
        }
        configuration.alerts = alerts
        configuration.whatsApp = whatsApp
        if let raw = value("metrics_port", "CONVOPS_METRICS_PORT") {
            guard let port = Int(raw), (1024...65535).contains(port) else {
                throw ConfigurationError("CONVOPS_METRICS_PORT (metrics_port) must be a port from 1024 to 65535 (served on 127.0.0.1 only), not '\(raw)'")
            }
            configuration.metricsPort = port
        }
        configuration.sharedLogChannels = sharedLogChannels
        configuration.accounts = accounts.map { account in
            var a = account
            if a.regions.isEmpty { a.regions = [aws.region] }
            return a
        }
        if let raw = value("wait_poll_seconds", "CONVOPS_WAIT_POLL_SECONDS") {
            guard let seconds = Double(raw), seconds >= 0.1, seconds <= 60 else {
                throw ConfigurationError("CONVOPS_WAIT_POLL_SECONDS (wait_poll_seconds) must be a number of seconds from 0.1 to 60, not '\(raw)'")
            }
            configuration.waitPollSeconds = seconds
        }
        if let raw = value("wait_timeout_seconds", "CONVOPS_WAIT_TIMEOUT_SECONDS") {
            guard let seconds = Double(raw), seconds >= 1, seconds <= 3600 else {
                throw ConfigurationError("CONVOPS_WAIT_TIMEOUT_SECONDS (wait_timeout_seconds) must be a number of seconds from 1 to 3600, not '\(raw)'")
            }
            configuration.waitTimeoutSeconds = seconds
        }
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
        for (key, env, range) in [("slack_ping_seconds", "SLACK_PING_SECONDS", 0.2...30.0), ("slack_pong_seconds", "SLACK_PONG_SECONDS", 0.5...60.0)] {
            guard let raw = value(key, env) else { continue }
            guard let n = Double(raw), range.contains(n) else {
                throw ConfigurationError("\(env) (\(key)) must be a number of seconds from \(range.lowerBound) to \(Int(range.upperBound)), not '\(raw)'")
            }
            if key == "slack_ping_seconds" { configuration.slackPingSeconds = n } else { configuration.slackPongSeconds = n }
        }
        configuration.auditDigestFile = value("audit_digest_file", "CONVOPS_AUDIT_DIGEST_FILE")
        if let group = value("audit_digest_log_group", "CONVOPS_AUDIT_DIGEST_LOG_GROUP") {
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/.#")
            guard (1...512).contains(group.count), group.allSatisfy(allowed.contains) else {
                throw ConfigurationError("CONVOPS_AUDIT_DIGEST_LOG_GROUP (audit_digest_log_group) must be a log group name such as /convops/audit (letters, digits and _ - / . #), not '\(group)'")
            }
            configuration.auditDigestLogGroup = group
        }
        if let tag = value("environment_tag", "CONVOPS_ENVIRONMENT_TAG") {
            // AWS tag keys: 1–128 characters; keep to the plain ones people use for this.
            guard tag.count <= 128, !tag.isEmpty, tag.allSatisfy({ $0.isLetter || $0.isNumber || "_-.:/".contains($0) }) else {
                throw ConfigurationError("CONVOPS_ENVIRONMENT_TAG (environment_tag) must be a tag key such as Environment, not '\(tag)'")
            }
            configuration.environmentTag = tag
        }
        if let name = value("environment", "CONVOPS_ENVIRONMENT") {
            guard Self.isEnvironmentName(name) else {
                throw ConfigurationError("CONVOPS_ENVIRONMENT (environment) must be a short environment name such as prod, not '\(name)'")
            }
            guard accounts.isEmpty else {
                throw ConfigurationError("environment (CONVOPS_ENVIRONMENT) is for the bot's own account; with `accounts`, give each account its own \"environment\"")
            }
            configuration.environment = name
        }
        if let proxy = value("proxy", "CONVOPS_PROXY") {
            guard let c = URLComponents(string: proxy), c.scheme == "http" || c.scheme == "https", let host = c.host, !host.isEmpty,
                  c.user == nil, c.password == nil else {
                // Never echo the value: it may carry a password.
                throw ConfigurationError("CONVOPS_PROXY (proxy) must be a proxy URL such as http://proxy.internal:3128, without a user or password")
            }
            configuration.proxy = proxy
        }
        if let channel = value("slack_approval_channel", "SLACK_APPROVAL_CHANNEL") {
            guard channel.allSatisfy({ $0.isUppercase || $0.isNumber }), let first = channel.first, "CGD".contains(first) else {
                throw ConfigurationError("SLACK_APPROVAL_CHANNEL (slack_approval_channel) must be a channel id such as C0123ABCD (right-click the channel → Copy link), not '\(channel)'")
            }
            configuration.slackApprovalChannel = channel
            // Approvers decide there too.
            configuration.policy.approvalChannels.insert(channel)
        }
        return configuration
    }

    /// `accounts`: `[{"alias", "role_arn", "external_id", "regions", "duration_seconds"}]`.
    static func parseAccounts(_ object: Any, source: String) throws(ConfigurationError) -> [TargetAccount] {
        guard let list = object as? [[String: Any]] else {
            throw ConfigurationError("\(source): 'accounts' must be a list of objects with alias, role_arn, external_id and regions")
        }
        var out: [TargetAccount] = []
        for (i, entry) in list.enumerated() {
            let at = "\(source): accounts[\(i)]"
            let known: Set<String> = ["alias", "role_arn", "external_id", "regions", "duration_seconds", "environment"]
            if let unknown = entry.keys.first(where: { !known.contains($0) }) {
                throw ConfigurationError("\(at): unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            guard let alias = entry["alias"] as? String, !alias.isEmpty, alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigurationError("\(at): 'alias' must be a short name such as prod (letters, digits, - and _)")
            }
            guard !out.contains(where: { $0.alias.lowercased() == alias.lowercased() }) else {
                throw ConfigurationError("\(at): the alias '\(alias)' is used twice")
            }
            let role = entry["role_arn"] as? String ?? ""
            let parts = role.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[4].count == 12, parts[4].allSatisfy(\.isNumber),
                  parts[5].hasPrefix("role/") else {
                throw ConfigurationError("\(at): 'role_arn' must be a role ARN such as arn:aws:iam::123456789012:role/convops, not '\(role)'")
            }
            guard let external = entry["external_id"] as? String, external.count >= 2, external.count <= 1224 else {
                throw ConfigurationError("\(at): 'external_id' is required: the ExternalId the role's trust policy asks for (see deploy/convops-role.yaml)")
            }
            let regions = entry["regions"] as? [String] ?? []
            let duration = (entry["duration_seconds"] as? NSNumber)?.intValue ?? 900
            guard (900...3600).contains(duration) else {
                throw ConfigurationError("\(at): 'duration_seconds' must be from 900 to 3600 (the role allows at most an hour), not \(duration)")
            }
            let environment = entry["environment"] as? String
            if entry["environment"] != nil, !(environment.map(isEnvironmentName) ?? false) {
                throw ConfigurationError("\(at): 'environment' must be a short environment name such as prod or staging")
            }
            out.append(TargetAccount(alias: alias, roleARN: role, externalID: external, regions: regions, durationSeconds: duration,
                                     environment: environment))
        }
        return out
    }

    /// `channels`: `{"C0123ABCD": {"share_logs": true}}`: the channels that see log lines and
    /// error details in the thread; everywhere else only the asker sees them.
    static func parseChannels(_ object: Any, source: String) throws(ConfigurationError) -> Set<String> {
        guard let map = object as? [String: Any] else {
            throw ConfigurationError("\(source): 'channels' must be an object from channel ids to settings, such as {\"C0123ABCD\": {\"share_logs\": true}}")
        }
        var out: Set<String> = []
        for (channel, value) in map {
            guard let settings = value as? [String: Any] else { throw ConfigurationError("\(source): channels.\(channel) must be an object") }
            if let unknown = settings.keys.first(where: { $0 != "share_logs" }) {
                throw ConfigurationError("\(source): channels.\(channel): unknown key '\(unknown)' (known: share_logs)")
            }
            guard let share = settings["share_logs"] as? Bool else {
                throw ConfigurationError("\(source): channels.\(channel).share_logs must be true or false")
            }
            if share { out.insert(channel) }
        }
        return out
    }

    /// "prod", "staging-eu": what an environment tag or an account's `environment` may say.
    static func isEnvironmentName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// `log_groups`: `{"web-1": "/var/log/web", "orders-db": "/aws/rds/instance/orders-db/postgresql"}`.
    static func parseLogGroups(_ object: Any, source: String) throws(ConfigurationError) -> [String: String] {
        guard let map = object as? [String: Any] else {
            throw ConfigurationError("\(source): 'log_groups' must be an object from resource names to log groups, such as {\"web-1\": \"/var/log/web\"}")
        }
        var out: [String: String] = [:]
        for (name, value) in map {
            // CloudWatch Logs' own rule for group names: 1–512 of [A-Za-z0-9_/.#-].
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/.#")
            guard let group = value as? String, (1...512).contains(group.count), group.allSatisfy(allowed.contains) else {
                throw ConfigurationError("\(source): log_groups[\"\(name)\"] must be a log group name (letters, digits and _ - / . #), not '\(value)'")
            }
            out[name] = group
        }
        return out
    }

    /// The file's plain keys as strings, and its structured sections (policy, accounts, log_groups).
    static let sections: Set<String> = ["policy", "accounts", "log_groups", "channels", "alerts", "whatsapp"]

    private static func readFile(_ path: String) throws(ConfigurationError) -> ([String: String], [String: Any]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path) (CONVOPS_CONFIG)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("\(path) is not a JSON object; see the README for its keys")
        }
        var out: [String: String] = [:]
        let known = Set(keys.map(\.file))
        for (key, value) in object where !sections.contains(key) {
            guard known.contains(key) else {
                throw ConfigurationError("\(path): unknown key '\(key)' (known: \((keys.map(\.file) + sections.sorted()).joined(separator: ", ")))")
            }
            switch value {
            case let s as String: out[key] = s
            case let n as NSNumber: out[key] = n.stringValue
            default: throw ConfigurationError("\(path): '\(key)' must be a string or a number")
            }
        }
        return (out, object.filter { sections.contains($0.key) })
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
