import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsHTTP
import ConvOpsSlack
import ConvOpsStore
import Foundation
import Logging

/// Builds the running parts from configuration, in dependency order.
public struct Runtime: Sendable {
    public let configuration: Configuration
    public let grammar: Grammar
    public let store: Store
    public let aws: AWSClient
    public let engine: Engine
    /// The CloudWatch Logs copy of the audit digests, when configured.
    public let digestShipper: DigestShipper?
    /// Anonymous usage counters, served at /metrics when `metrics_port` is set.
    public let metrics: UsageMetrics
    /// The channels of this process, for requests asked for in one and decided in another.
    public let hub = ChannelHub()

    public static func grammar(_ configuration: Configuration) throws(GrammarLoadError) -> Grammar {
        try Grammar.load(commandsDirectory: configuration.commandsDirectory, localesDirectory: configuration.localesDirectory,
                         requiredMessageKeys: Engine.requiredMessageKeys, defaultLocale: "en")
    }

    /// The data key: CONVOPS_DATA_KEY, else the key file (made on first use, readable by its
    /// owner only, beside the database and never in it).
    public static func dataKeys(_ configuration: Configuration, environment: [String: String]) throws -> DataKeys {
        if let text = environment["CONVOPS_DATA_KEY"], !text.isEmpty {
            return try DataKeys.fromEnvironment(["CONVOPS_DATA_KEY": text])!
        }
        return try DataKeys.createFile(configuration.dataKeyFile)
    }

    public static func store(_ configuration: Configuration, environment: [String: String],
                             digestSink: (@Sendable (String) -> Void)? = nil) throws -> Store {
        try Store(path: configuration.databasePath, keys: try dataKeys(configuration, environment: environment),
                  digestFile: configuration.auditDigestFile, digestSink: digestSink)
    }

    /// Signs the audit head and sends what the digest copy still holds: as the process stops.
    public func finishAudit() async throws {
        try store.signAuditHead()
        await digestShipper?.finish()
    }

    public static func start(_ configuration: Configuration, environment: [String: String], logger: Logger) throws -> Runtime {
        let grammar = try grammar(configuration)
        var egress = EgressPolicy.production
        if let endpoint = configuration.aws.endpoint { egress = egress.allowing(endpoint: endpoint) }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: egress, proxy: configuration.proxy), logger: logger)
        // The bot's own identity, in the SDKs' order; target accounts are reached from it by
        // sts:AssumeRole, per person.
        let (credentials, source) = CredentialChain.provider(environment: environment, configuration: configuration.aws, http: http)
        logger.info("aws.credentials", metadata: ["aws.source": "\(source.rawValue)"])
        let aws = AWSClient(configuration: configuration.aws, credentials: credentials, http: http, logger: logger)
        // The digests' second copy goes out with the bot's own identity, to its own account.
        let shipper = configuration.auditDigestLogGroup.map { DigestShipper(logs: Logs(client: aws), group: $0, logger: logger) }
        var sink: (@Sendable (String) -> Void)?
        if let shipper { sink = { line in shipper.send(line) } }
        let store = try Runtime.store(configuration, environment: environment, digestSink: sink)
        let roles = configuration.accounts.isEmpty ? nil : AssumedRoles(base: aws, accounts: configuration.accounts)
        let metrics = UsageMetrics()
        let engine = Engine(grammar: grammar, store: store, aws: aws,
                            access: configuration.policy,
                            locale: configuration.locale, roles: roles,
                            waitPollInterval: .milliseconds(Int(configuration.waitPollSeconds * 1000)),
                            waitTimeout: .milliseconds(Int(configuration.waitTimeoutSeconds * 1000)),
                            logGroups: configuration.logGroups, environmentTag: configuration.environmentTag,
                            routingTagKeys: configuration.alerts.resourceTagKeys,
                            ownEnvironment: configuration.environment, timeZone: configuration.alerts.timeZone, metrics: metrics,
                            logger: logger)
        return Runtime(configuration: configuration, grammar: grammar, store: store, aws: aws, engine: engine, digestShipper: shipper,
                       metrics: metrics)
    }
}

extension Runtime {
    /// The Slack channel from SLACK_APP_TOKEN and SLACK_BOT_TOKEN (environment only: tokens are
    /// never read from a file we might log, nor stored).
    public func slack(environment: [String: String], logger: Logger) throws -> SlackChannel {
        guard let appToken = SlackToken(environment["SLACK_APP_TOKEN"]), appToken.kind == "xapp" else {
            throw ConfigurationError("SLACK_APP_TOKEN must be set to the app-level token (xapp-…, scope connections:write); see “Connecting Slack” in the README")
        }
        guard let botToken = SlackToken(environment["SLACK_BOT_TOKEN"]), botToken.kind == "xoxb" else {
            throw ConfigurationError("SLACK_BOT_TOKEN must be set to the bot token (xoxb-…) from OAuth & Permissions; see “Connecting Slack” in the README")
        }
        var egress = EgressPolicy.production.allowing(endpoint: configuration.slackAPIURL)
        if let endpoint = configuration.aws.endpoint { egress = egress.allowing(endpoint: endpoint) }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: egress, proxy: configuration.proxy), logger: logger)
        let api = SlackWebAPI(http: http, baseURL: configuration.slackAPIURL, botToken: botToken, appToken: appToken, logger: logger)
        let loopback = URLComponents(string: configuration.slackAPIURL)?.host.map(EgressPolicy.isLoopback) ?? false
        var options = SocketModeClient.Options(connections: configuration.slackConnections, allowLoopback: loopback)
        options.machine.pingInterval = configuration.slackPingSeconds
        options.machine.pongTimeout = configuration.slackPongSeconds
        let socket = try SocketModeClient(api: api, options: options, logger: logger)
        return SlackChannel(engine: engine, api: api, socket: socket,
                            messages: grammar.messages(for: configuration.locale),
                            options: .init(approvalChannel: configuration.slackApprovalChannel, sharedLogChannels: configuration.sharedLogChannels),
                            hub: hub, logger: logger)
    }
}
