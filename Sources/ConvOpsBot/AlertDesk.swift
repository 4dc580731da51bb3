import ConvOpsCore
import ConvOpsStore
import Foundation
import Logging
import Synchronization

/// What an alert's message shows after a change: the engine's typed event, which each chat
/// channel renders its own way.
public struct AlertNotice: Sendable, Hashable {
    public enum Change: Sendable, Hashable {
        case opened, again, insufficientData, resolved, acknowledged
    }

    public var episode: AlertEpisode
    public var change: Change
    /// The environment of the resource the alarm is about, when known.
    public var environment: String?
    /// Who acknowledged it, by name (for the card).
    public var acknowledgedBy: String?
}

/// Where alert messages are shown (Slack; WhatsApp next). Posting returns the message's
/// id in that channel, which the store records before the queue message is deleted.
public protocol AlertSink: Sendable {
    func post(_ notice: AlertNotice, to channel: String) async throws -> String
    func update(_ notice: AlertNotice, at message: AlertMessage) async throws
    /// A line in the message's thread ("ALARM again, 3× in 30 min").
    func reply(_ notice: AlertNotice, under message: AlertMessage) async throws
    /// A snooze ended: what it held back, where it was asked for.
    func snoozeEnded(_ snooze: Snooze, held: [StoredAlert]) async throws
}

/// Takes messages off the alarm queue one at a time: reads, deduplicates, stores, routes and
/// shows them. `take` says whether the queue message may be deleted: only once what it
/// caused is stored (a post with its message id, or the reason nothing was posted).
public struct AlertDesk: Sendable {
    let store: Store
    let engine: Engine
    let settings: AlertSettings
    let sink: any AlertSink
    let clock: any WallClock
    let logger: Logger
    /// Alerts being shown now: a sweep for pending ones leaves them alone.
    let inHand = InHand()

    final class InHand: Sendable {
        let ids = Mutex<Set<String>>([])
        func take(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
        func release(_ id: String) { _ = ids.withLock { $0.remove(id) } }
    }

    public init(store: Store, engine: Engine, settings: AlertSettings, sink: any AlertSink, clock: any WallClock = SystemClock(),
                logger: Logger) {
        self.store = store
        self.engine = engine
        self.settings = settings
        self.sink = sink
        self.clock = clock
        self.logger = logger
    }

    public enum Result: Sendable, Hashable {
        /// Stored and dealt with: delete it from the queue.
        case done(AlertDisposition)
        /// Could not be read: parked with the reason; delete it from the queue.
        case parked(String)
        /// Stored, but the chat did not take it: leave it for the queue to deliver again.
        case retryLater(String)
    }

    /// One message from the queue. `queueMessageID` stands in for a delivery id when the
    /// body has none (raw delivery): SQS redelivers a message under the same id.
    public func take(body: String, queueMessageID: String) async -> Result {
        let now = clock.now()
        var alarm: Alarm
        do {
            alarm = try Alarm.parse(body, receivedAt: now)
        } catch {
            do {
                let id = try store.park(body: body, deliveryID: "sqs:" + queueMessageID, reason: error.description, id: Self.newID("pk"), at: now)
                logger.warning("alerts.parked", metadata: ["alert.parked_id": "\(id)", "alert.reason": "\(error.description)"])
                return .parked(id)
            } catch {
                return .retryLater("could not park it: \(error)")
            }
        }
        if alarm.deliveryID == nil { alarm.deliveryID = "sqs:" + queueMessageID }
        let stored: StoredAlert
        do {
            switch try store.admit(alarm, id: Self.newID("al"), receivedAt: now) {
            case .new(let a): stored = a
            case .seen(let a):
                // A redelivery: done if the first copy was, else carry on where it stopped.
                guard a.disposition == .pending else { return .done(a.disposition) }
                stored = a
            }
        } catch {
            return .retryLater("could not store it: \(error)")
        }
        return await show(stored)
    }

    /// Applies a stored, pending alert to its episode and shows the change.
    public func show(_ stored: StoredAlert) async -> Result {
        guard inHand.take(stored.id) else { return .retryLater("already being shown") }
        defer { inHand.release(stored.id) }
        do {
            let open = try store.openEpisode(key: stored.alarm.key)
            // A pending alert already applied (a restart between storing and showing) is shown again.
            if let id = stored.episodeID, let episode = try store.episode(id: id) {
                return try await present(episode, change: change(of: stored.alarm, in: episode), alert: stored)
            }
            switch AlertEpisode.step(open, stored.alarm, newID: Self.newID("ep"), now: clock.now()) {
            case .quiet, .stale:
                try store.settle(alert: stored.id, .quiet, episodeID: open?.id)
                return .done(.quiet)
            case .open(var episode):
                episode.resource = await engine.alarmResource(stored.alarm)
                var environment: String?
                if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
                let now = clock.now()
                if let snooze = try store.activeSnoozes().first(where: { $0.covers(stored.alarm, resource: episode.resource,
                                                                                   environment: environment, at: now) }) {
                    // Held back: kept, and told when the snooze ends.
                    try store.suppress(alert: stored.id, by: snooze.id)
                    return .done(.suppressed)
                }
                try store.save(episode, settling: stored.id, as: .pending)
                return try await present(episode, change: .opened, alert: stored)
            case .changed(let episode):
                try store.save(episode, settling: stored.id, as: .pending)
                return try await present(episode, change: episode.state == .alarm ? .again : .insufficientData, alert: stored)
            case .closed(let episode):
                try store.save(episode, settling: stored.id, as: .pending)
                return try await present(episode, change: .resolved, alert: stored)
            }
        } catch {
            return .retryLater("\(error)")
        }
    }

    func change(of alarm: Alarm, in episode: AlertEpisode) -> AlertNotice.Change {
        if episode.closedAt != nil { return .resolved }
        if episode.changes <= 1 { return .opened }
        return alarm.state == .alarm ? .again : .insufficientData
    }

    /// Posts a new episode's message in each routed channel (those without one yet), or
    /// updates the existing ones and adds the thread line; then marks the alert done.
    func present(_ episode: AlertEpisode, change: AlertNotice.Change, alert: StoredAlert) async throws -> Result {
        var environment: String?
        if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
        let notice = AlertNotice(episode: episode, change: change, environment: environment,
                                 acknowledgedBy: episode.acknowledgedBy.map(store.displayName(pseudonym:)))
        let posted = try store.alertMessages(episodeID: episode.id)
        if change == .opened {
            let channels = settings.destinations(for: episode.alarm, environment: environment).channels
            guard !channels.isEmpty else {
                try store.settle(alert: alert.id, .unrouted, episodeID: episode.id)
                logger.warning("alerts.unrouted", metadata: ["alert.id": "\(alert.id)"])
                return .done(.unrouted)
            }
            for channel in channels where !posted.contains(where: { $0.channel == channel }) {
                do {
                    let ts = try await sink.post(notice, to: channel)
                    try store.recordAlertMessage(AlertMessage(episodeID: episode.id, channel: channel, ts: ts))
                } catch let error as StoreError {
                    throw error
                } catch {
                    logger.warning("alerts.post_failed", metadata: ["alert.id": "\(alert.id)", "error.message": "\(error)"])
                    return .retryLater("the chat did not take it: \(error)")
                }
            }
            try store.settle(alert: alert.id, .posted, episodeID: episode.id)
            return .done(.posted)
        }
        for message in posted {
            do {
                try await sink.update(notice, at: message)
                try await sink.reply(notice, under: message)
            } catch {
                logger.warning("alerts.update_failed", metadata: ["alert.id": "\(alert.id)", "error.message": "\(error)"])
                return .retryLater("the chat did not take the update: \(error)")
            }
        }
        try store.settle(alert: alert.id, .updated, episodeID: episode.id)
        return .done(.updated)
    }

    /// Ends the snoozes whose time has come and says what each held back. Ended in the store
    /// first: a summary that cannot be posted is logged, not repeated.
    public func endSnoozes() async {
        guard let due = try? store.endDueSnoozes(now: clock.now()) else { return }
        for (snooze, held) in due {
            do {
                try await sink.snoozeEnded(snooze, held: held)
            } catch {
                logger.warning("alerts.snooze_summary_failed", metadata: ["snooze.id": "\(snooze.id)", "error.message": "\(error)"])
            }
        }
    }

    public static func newID(_ prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return prefix + "-" + String((0..<12).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
