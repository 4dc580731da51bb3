import ConvOpsSlack
import Logging
import ServiceLifecycle
import UnixSignals

/// `convops run` as a ServiceGroup: the audit, the sweeper, then Slack. They start in that
/// order and stop in reverse on SIGTERM: Slack stops taking envelopes and lets the work in hand
/// finish within a bound, then closes its sockets; the sweeper stops; the audit head is signed
/// last, when nothing can write any more.
extension Runtime {
    public func services(slack: SlackChannel, sweepInterval: Duration = .seconds(1), signals: [UnixSignal] = [.sigterm, .sigint],
                         logger: Logger) -> ServiceGroup {
        let sweeper = Sweeper(engine: engine, interval: sweepInterval, retentionDays: configuration.retentionDays)
        var group = ServiceGroupConfiguration(services: [
            .init(service: AuditService(runtime: self, logger: logger), serviceName: "audit"),
            .init(service: SweeperService(sweeper: sweeper, announce: { await slack.announce($0) }), serviceName: "sweeper"),
            .init(service: slack, successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "slack"),
        ], gracefulShutdownSignals: signals, logger: logger)
        // Slack's drain, then a little for the others; past that, the group cancels.
        group.maximumGracefulShutdownDuration = slack.options.drain + .seconds(10)
        return ServiceGroup(configuration: group)
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

/// The sweeper until the group stops.
struct SweeperService<C: Clock>: Service where C.Duration == Duration {
    let sweeper: Sweeper<C>
    let announce: @Sendable (Reply) async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown { [sweeper, announce] in await sweeper.run(announce: announce) }
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
        }
    }
}
