import ConvOpsAWS
import ConvOpsSlack
import Logging
import ServiceLifecycle
import UnixSignals

/// `convops run` as a ServiceGroup: the audit, the sweeper, then Slack and/or WhatsApp. They start in that
/// order and stop in reverse on SIGTERM: Slack stops taking envelopes and lets the work in hand
/// finish within its drain bound, then closes its sockets; the sweeper stops after its current
/// sweep; the audit head is signed last. (A run that outlasted the drain may still write its
/// outcome after that; the next digest signs it.) The whole stop takes at most the drain and
/// 10 s: give the process a longer grace period than that before SIGKILL.
extension Runtime {
    /// `slack` nil: a WhatsApp-only process (`whatsApp` then must be set).
    public func services(slack: SlackChannel?, whatsApp: WhatsAppChannel? = nil, sweepInterval: Duration = .seconds(1),
                         signals: [UnixSignal] = [.sigterm, .sigint], logger: Logger) -> ServiceGroup {
        precondition(slack != nil || whatsApp != nil, "convops run needs Slack, WhatsApp or both")
        let sweeper = Sweeper(engine: engine, interval: sweepInterval, retentionDays: configuration.retentionDays)
        // A request's news goes to the channels its cards are in.
        let hub = self.hub
        let announce: @Sendable (Reply) async -> Void = { reply in await hub.announce(reply) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: AuditService(runtime: self, logger: logger), failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "audit"),
            .init(service: SweeperService(sweeper: sweeper, announce: announce), serviceName: "sweeper"),
        ]
        if let slack {
            services.append(.init(service: slack, successTerminationBehavior: .gracefullyShutdownGroup,
                                  failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "slack"))
        }
        if let whatsApp, let slack { whatsApp.standings { id in await slack.standing(ofUser: id) } }
        if let whatsApp {
            // Alone, its end is the process's end; beside Slack, a failure of its own still stops the group.
            services.append(.init(service: WhatsAppService(channel: whatsApp),
                                  successTerminationBehavior: slack == nil ? .gracefullyShutdownGroup : .ignore,
                                  failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "whatsapp"))
        }
        // Alerts last: stopped first, so that nothing is taken off the queue that the chats can no longer show.
        if !configuration.alerts.queueURLs.isEmpty {
            var recipients: (@Sendable ([String]) -> [String])?
            if let whatsApp { recipients = { people in whatsApp.conversations(for: people) } }
            let desk = AlertDesk(store: store, engine: engine, settings: configuration.alerts, sink: AlertSinks(slack: slack, whatsApp: whatsApp),
                                 metrics: metrics, whatsAppRecipients: recipients, logger: logger)
            if let slack { whatsApp?.whenAcknowledged { episode, name in await slack.showAcknowledged(episode, by: name) } }
            services.append(.init(service: AlertIntake(desk: desk, sqs: SQS(client: aws), settings: configuration.alerts,
                                                       defaultRegion: aws.configuration.region, logger: logger), serviceName: "alerts"))
        }
        if let port = configuration.metricsPort {
            services.append(.init(service: MetricsService(metrics: metrics, port: port, logger: logger), serviceName: "metrics"))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        // The chats' drain, then a little for the others; past that, the group cancels.
        group.maximumGracefulShutdownDuration = max(slack?.options.drain ?? .zero, whatsApp == nil ? .zero : WhatsAppChannel.drain) + .seconds(10)
        return ServiceGroup(configuration: group)
    }

    /// Why a process without Slack cannot run this configuration: alerts routed to Slack
    /// channels would all be undeliverable, and an alarm no route names anyone for would reach
    /// nobody. Nil when it can.
    public func withoutSlackProblem() -> String? {
        let alerts = configuration.alerts
        guard !alerts.queueURLs.isEmpty else { return nil }
        let slackChannels = alerts.defaultChannels + alerts.routes.flatMap(\.channels)
        if !slackChannels.isEmpty {
            return "alerts are routed to Slack channels (\(slackChannels.prefix(3).joined(separator: ", "))), but Slack is not connected: set SLACK_APP_TOKEN and SLACK_BOT_TOKEN, or route alerts to WhatsApp people only (\"people\" in alerts.routes, \"default_people\" instead of default_channels)"
        }
        if alerts.defaultPeople.isEmpty {
            return "without Slack, an alarm no route matches would reach nobody: set alerts.default_people to the numbers (or Slack ids of whatsapp.people) who get those"
        }
        return nil
    }
}

extension Runtime {
    /// Route people (and default people) nobody in `whatsapp.people` answers to: their alerts
    /// would go nowhere on WhatsApp. Said at start.
    public func unknownAlertPeople() -> [String] {
        let alerts = configuration.alerts
        guard !alerts.queueURLs.isEmpty else { return [] }
        let known = configuration.whatsApp?.people ?? []
        var unknown: [String] = []
        for entry in alerts.defaultPeople + alerts.routes.flatMap(\.people)
        where !known.contains(where: { $0.number == entry || $0.slack == entry }) && !unknown.contains(entry) {
            unknown.append(entry)
        }
        return unknown
    }
}

/// Slack stopped for a reason of its own (a revoked token), not because it was asked to.
public struct SlackStopped: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

extension SlackChannel: Service {
    public func run() async throws {
        let reason = await withGracefulShutdownHandler {
            await serve()
        } onGracefulShutdown: {
            Task { await self.drain() }
        }
        guard reason == ConnectionMachine.shutDownReason else { throw SlackStopped(reason: reason) }
    }
}

/// The WhatsApp webhook and its worker until the group stops; kept bodies not yet processed
/// are processed at the next start.
struct WhatsAppService: Service {
    let channel: WhatsAppChannel

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await channel.serve(until: { Task.isShuttingDownGracefully })
        } onGracefulShutdown: {
            channel.shutdown()
        }
    }
}

/// The sweeper until the group stops.
struct SweeperService<C: Clock>: Service where C.Duration == Duration {
    let sweeper: Sweeper<C>
    let announce: @Sendable (Reply) async -> Void

    func run() async throws {
        // Stopped between sweeps, never cancelled in one: an expiry is stored before its card
        // is updated, and a cancelled update would leave the buttons on an expired plan.
        await sweeper.run(until: { Task.isShuttingDownGracefully }, announce: announce)
    }
}

/// Waits for the stop, then signs the audit head and sends what the digest copy still holds.
struct AuditService: Service {
    let runtime: Runtime
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await runtime.finishAudit()
        } catch {
            logger.error("audit.not_signed_at_stop", metadata: ["error.message": "\(error)"])
            throw AuditNotSigned(reason: "\(error)")
        }
    }
}

/// The audit head could not be signed as the process stopped: `convops run` says so and exits non-zero.
public struct AuditNotSigned: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the audit head was not signed at stop: \(reason); run `convops audit verify`" }
}
