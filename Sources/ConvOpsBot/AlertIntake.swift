import ConvOpsAWS
import ConvOpsCore
import Foundation
import Logging
import ServiceLifecycle

/// Long-polls each alarm queue and hands every message to the desk; a message is deleted
/// only once the desk has stored what it caused. Errors back off (1 s doubling to 30 s) and
/// never stop the process: the queue keeps what was not deleted.
public struct AlertIntake: Service {
    let desk: AlertDesk
    let sqs: SQS
    let settings: AlertSettings
    let region: String
    let logger: Logger

    public init(desk: AlertDesk, sqs: SQS, settings: AlertSettings, defaultRegion: String, logger: Logger) {
        self.desk = desk
        self.sqs = sqs
        self.settings = settings
        region = defaultRegion
        self.logger = logger
    }

    public func run() async throws {
        // Alerts stored but not shown when the last process stopped go first.
        await carryOn()
        await withDiscardingTaskGroup { group in
            for url in settings.queueURLs {
                group.addTask { await self.poll(url) }
            }
            // Every second: held episodes due, storm groups, reminders.
            group.addTask {
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                    await self.desk.releaseHeld()
                    await self.desk.showGroups()
                    await self.desk.remind()
                }
            }
            // Every five, on its own so a slow chat cannot hold up the rest: alerts a failed post
            // left or `convops alerts retry` stored, and snoozes that ended.
            group.addTask {
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
                    await self.carryOn()
                    await self.desk.announceSnoozes()
                    await self.desk.endSnoozes()
                    await self.desk.settleFlaps()
                }
            }
        }
    }

    /// Alerts stored but not shown (a post that failed, a restart, a retry), oldest first, a
    /// few hundred at a time; one the chat still does not take waits for the next round.
    func carryOn() async {
        guard let pending = try? desk.store.pendingAlerts(limit: 200), !pending.isEmpty else { return }
        logger.notice("alerts.carry_on", metadata: ["alerts.pending": "\(pending.count)"])
        for alert in pending where !Task.isShuttingDownGracefully { _ = await desk.show(alert) }
    }

    func poll(_ url: String) async {
        let region = AlertSettings.region(of: url, default: self.region)
        var failures = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch: [SQSMessage]
            do {
                batch = try await cancelWhenGracefulShutdown {
                    try await sqs.receiveMessages(queueURL: url, waitSeconds: settings.pollSeconds, max: 10, region: region)
                }
                failures = 0
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                failures += 1
                let wait = min(30.0, pow(2, Double(min(failures, 6) - 1)))
                logger.warning("alerts.receive_failed", metadata: ["alerts.queue": "\(Self.queueName(url))", "error.message": "\(error)",
                                                                   "alerts.retry_in": "\(wait)"])
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                continue
            }
            var done: [String] = []
            for message in batch {
                switch await desk.take(body: message.body, queueMessageID: message.id) {
                case .done, .parked, .duplicate:
                    done.append(message.receiptHandle)
                case .retryLater(let why):
                    logger.warning("alerts.kept_in_queue", metadata: ["alerts.reason": "\(why)"])
                }
            }
            // Deleted only now that what each caused is stored; one call for the batch.
            if !done.isEmpty {
                do {
                    let failed = try await sqs.deleteMessages(queueURL: url, receiptHandles: done, region: region)
                    if !failed.isEmpty { logger.warning("alerts.delete_failed", metadata: ["alerts.count": "\(failed.count)"]) }
                } catch {
                    // Redelivered later, and recognised as seen.
                    logger.warning("alerts.delete_failed", metadata: ["error.message": "\(error)"])
                }
            }
        }
    }

    /// The queue's name, for logs (not its account).
    static func queueName(_ url: String) -> String { String(url.split(separator: "/").last ?? "") }
}
