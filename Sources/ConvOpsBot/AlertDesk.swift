import ConvOpsCore
import ConvOpsStore
import Foundation
import Logging
import Synchronization

/// What an alert's message shows after a change: the engine's typed event, which each chat
/// channel renders its own way.
public struct AlertNotice: Sendable, Hashable {
    public enum Change: Sendable, Hashable {
        case opened, again, insufficientData, resolved, acknowledged, flapping, reminder
    }

    public var episode: AlertEpisode
    public var change: Change
    /// The environment of the resource the alarm is about, when known.
    public var environment: String?
    /// Who acknowledged it, by name (for the card).
    public var acknowledgedBy: String?
    /// How long the post waited for Slack's pace in its channel, in seconds.
    public var delayedSeconds: Int?
}

/// A chat that will never take this message (the channel is gone or closed to the bot): the
/// alert is marked undeliverable with the reason rather than tried for ever.
public struct AlertUndeliverable: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where alert messages are shown (Slack; WhatsApp next). Posting returns the message's
/// id in that channel, which the store records before the queue message is deleted.
public protocol AlertSink: Sendable {
    /// Posts the message without its buttons (see `addButtons`).
    func post(_ notice: AlertNotice, to channel: String) async throws -> String
    /// Gives a posted message its buttons, once the desk has recorded it: no click can come
    /// before the message is known.
    func addButtons(_ notice: AlertNotice, at message: AlertMessage) async
    func update(_ notice: AlertNotice, at message: AlertMessage) async throws
    /// A line in the message's thread ("ALARM again, 3× in 30 min").
    func reply(_ notice: AlertNotice, under message: AlertMessage) async throws
    /// A snooze ended: what it held back, where it was asked for and in the alert channels.
    func snoozeEnded(_ snooze: Snooze, held: [StoredAlert], channels: [String]) async throws
    /// A snooze began: told to the alert channels (other than where it was asked for).
    func snoozeStarted(_ snooze: Snooze, by person: String, channels: [String]) async throws
    /// The message a crashed earlier attempt may have posted for `id` in `channel` since `since`.
    func find(_ id: String, in channel: String, since: Date) async -> String?
    /// A storm's grouped message: posted once, then updated in place.
    func postGroup(_ summary: AlertGroupSummary, to channel: String) async throws -> String
    func updateGroup(_ summary: AlertGroupSummary, at message: AlertMessage) async throws
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

    /// What each alarm subject resolved to, for a minute: a storm of alarms on a few resources
    /// asks AWS once per resource, not once per alarm.
    let resources = Resources()

    final class Resources: Sendable {
        let known = Mutex<[String: (ref: ResourceRef?, at: Date)]>([:])
    }

    func resource(for alarm: Alarm) async -> ResourceRef? {
        guard let subject = alarm.subject else { return nil }
        let key = "\(alarm.account ?? "-")|\(alarm.region ?? "-")|\(subject.kind.rawValue)|\(subject.container ?? "")|\(subject.id)"
        let now = clock.now()
        if let hit = resources.known.withLock({ $0[key] }), now.timeIntervalSince(hit.at) < 60 { return hit.ref }
        let ref = await engine.alarmResource(alarm)
        resources.known.withLock { known in
            if known.count > 5_000 { known = known.filter { now.timeIntervalSince($0.value.at) < 60 } }
            // Still full (thousands of distinct subjects within a minute): start over rather than grow.
            if known.count > 5_000 { known.removeAll() }
            known[key] = (ref, now)
        }
        return ref
    }

    /// One decision at a time per channel: post or group, then the post itself. Four queues
    /// read at once must not each see nine posts and all post a tenth.
    let channelTurns = Turns()
    /// One change at a time per alarm.
    let alarmTurns = Turns()

    final class Turns: Sendable {
        let tails = Mutex<[String: Task<Void, Never>]>([:])

        /// Queues `body` after everything queued for `key` so far, in the order of the calls
        /// (a task started per call would start in no set order). For few, long-lived keys:
        /// the last task of a key stays in the table.
        @discardableResult
        func submit(_ key: String, _ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
            tails.withLock { tails in
                let previous = tails[key]
                let task = Task {
                    await previous?.value
                    await body()
                }
                tails[key] = task
                return task
            }
        }

        func run<T: Sendable>(_ key: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            let (task, tail): (Task<Swift.Result<T, Error>, Never>, Task<Void, Never>) = tails.withLock { tails in
                let previous = tails[key]
                let task = Task { () async -> Swift.Result<T, Error> in
                    await previous?.value
                    do { return .success(try await body()) } catch { return .failure(error) }
                }
                let tail = Task { _ = await task.value }
                tails[key] = tail
                return (task, tail)
            }
            let result = await task.value
            // The last in line for its key leaves no entry behind: the table holds only keys in use.
            tails.withLock { tails in if tails[key] == tail { tails[key] = nil } }
            return try result.get()
        }
    }

    final class InHand: Sendable {
        let ids = Mutex<Set<String>>([])
        func take(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
        func release(_ id: String) { _ = ids.withLock { $0.remove(id) } }
    }

    let metrics: UsageMetrics?

    /// The WhatsApp conversations for a route's `people` (phone numbers, or Slack ids of people
    /// who have WhatsApp); nil: no WhatsApp.
    let whatsAppRecipients: (@Sendable ([String]) -> [String])?

    public init(store: Store, engine: Engine, settings: AlertSettings, sink: any AlertSink, clock: any WallClock = SystemClock(),
                metrics: UsageMetrics? = nil, whatsAppRecipients: (@Sendable ([String]) -> [String])? = nil, logger: Logger) {
        self.whatsAppRecipients = whatsAppRecipients
        self.metrics = metrics
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
        /// Seen before (SNS or SQS delivered it again) and dealt with then: delete it.
        case duplicate(AlertDisposition)
        /// Stored, but the chat did not take it: leave it for the queue to deliver again.
        case retryLater(String)
    }

    /// One message from the queue. `queueMessageID` stands in for a delivery id when the
    /// body has none (raw delivery): SQS redelivers a message under the same id.
    public func take(body: String, queueMessageID: String) async -> Result {
        let started = ContinuousClock.now
        let result = await taking(body: body, queueMessageID: queueMessageID)
        switch result {
        case .done(let d): metrics?.alert(d, parked: false, took: ContinuousClock.now - started)
        case .parked: metrics?.alert(nil, parked: true, took: ContinuousClock.now - started)
        case .duplicate: metrics?.duplicate(took: ContinuousClock.now - started)
        case .retryLater: metrics?.alert(nil, parked: false, took: ContinuousClock.now - started)
        }
        return result
    }

    func taking(body: String, queueMessageID: String) async -> Result {
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
                guard a.disposition == .pending else { return .duplicate(a.disposition) }
                stored = a
            }
        } catch {
            return .retryLater("could not store it: \(error)")
        }
        return await show(stored)
    }

    /// Applies a stored, pending alert to its episode and shows the change, one change of an
    /// alarm at a time (four queues, the sweep and the timers may hold changes of one alarm).
    /// `holding`: false for an alarm a snooze already kept quiet (no hold wait on top of it).
    public func show(_ stored: StoredAlert, holding: Bool = true) async -> Result {
        guard inHand.take(stored.id) else { return .retryLater("already being shown") }
        defer { inHand.release(stored.id) }
        do {
            return try await alarmTurns.run(stored.alarm.key) { [self] in await showNow(stored, holding: holding) }
        } catch {
            return .retryLater("\(error)")
        }
    }

    func showNow(_ stored: StoredAlert, holding: Bool = true) async -> Result {
        do {
            // Read again in hand: a sweep's list may be older than what another task just did.
            guard let stored = try store.alert(id: stored.id) else { return .done(.quiet) }
            guard stored.disposition == .pending else { return .done(stored.disposition) }
            let alarm = stored.alarm
            let open = try store.openEpisode(key: alarm.key)
            // A pending alert already applied (a restart between storing and showing) is shown again.
            if let id = stored.episodeID, let episode = try store.episode(id: id) {
                return try await present(episode, change: change(of: alarm, in: episode), alertID: stored.id)
            }
            let now = clock.now()
            var rules = settings.episodes
            if !holding { rules.holdSeconds = 0 }
            var lastClosed: AlertEpisode?
            var recent = 0
            if open == nil, alarm.state == .alarm, rules.flapChanges > 0 {
                lastClosed = try store.lastClosedEpisode(key: alarm.key)
                recent = try store.stateChanges(key: alarm.key, since: alarm.changedAt.addingTimeInterval(-rules.flapWindow), except: stored.id)
            }
            switch AlertEpisode.step(open, alarm, newID: Self.newID("ep"), now: now, rules: rules, lastClosed: lastClosed, recentChanges: recent) {
            case .quiet, .stale:
                try store.settle(alert: stored.id, .quiet, episodeID: open?.id)
                return .done(.quiet)
            case .open(var episode), .held(var episode):
                episode.resource = await resource(for: alarm)
                var environment: String?
                if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
                if let snooze = try store.activeSnoozes().first(where: { $0.covers(alarm, resource: episode.resource,
                                                                                   environment: environment, at: now) }) {
                    // Held back: kept, and told when the snooze ends.
                    try store.suppress(alert: stored.id, by: snooze.id)
                    return .done(.suppressed)
                }
                if episode.holdUntil != nil {
                    try store.save(episode, settling: stored.id, as: .held)
                    return .done(.held)
                }
                try store.save(episode, settling: stored.id)
                return try await present(episode, change: .opened, alertID: stored.id)
            case .heldChanged(let episode):
                try store.save(episode, settling: stored.id, as: .held)
                return .done(.held)
            case .recoveredUnseen(let episode):
                // Recovered within the hold: nothing is posted, all of it is kept.
                try store.save(episode, settling: stored.id, as: .quiet)
                try store.settleHeld(episodeID: episode.id, as: .quiet)
                return .done(.quiet)
            case .flapping(let episode):
                try store.save(episode, settling: stored.id)
                return try await present(episode, change: .flapping, alertID: stored.id, announce: lastClosed?.flapping == false)
            case .changed(let episode):
                try store.save(episode, settling: stored.id)
                return try await present(episode, change: episode.state == .alarm ? .again : .insufficientData, alertID: stored.id)
            case .closed(let episode):
                try store.save(episode, settling: stored.id)
                return try await present(episode, change: .resolved, alertID: stored.id)
            }
        } catch {
            return .retryLater("\(error)")
        }
    }

    func change(of alarm: Alarm, in episode: AlertEpisode) -> AlertNotice.Change {
        if episode.closedAt != nil { return .resolved }
        if episode.changes <= 1 { return .opened }
        if episode.flapping { return .flapping }
        return alarm.state == .alarm ? .again : .insufficientData
    }

    public static func newID(_ prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return prefix + "-" + String((0..<12).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
