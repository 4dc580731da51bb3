import ConvOpsCore
import ConvOpsSlack
import Foundation

/// Envelopes past the in-flight bound, waiting to be told "busy", and the tasks telling them:
/// one lock for both, so a worker never leaves one behind.
struct ShedQueue: Sendable {
    var items: [(envelope: Envelope, at: ContinuousClock.Instant)] = []
    var head = 0
    var workers = 0
    /// When each person was last told (at most once per `SlackChannel.busyWindow`).
    var told: [String: ContinuousClock.Instant] = [:]

    var count: Int { items.count - head }

    mutating func pop() -> (envelope: Envelope, at: ContinuousClock.Instant)? {
        guard head < items.count else { return nil }
        let next = items[head]
        head += 1
        // Compacted now and then: popping stays O(1) amortised.
        if head > 1_024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return next
    }
}

/// Backpressure that keeps acking at once: an envelope past the in-flight bound (already
/// acknowledged on its socket) is not queued for the engine without end, and not dropped
/// unanswered either: the person is told ConvOps is busy and to ask again in a few seconds,
/// once per window however often they ask. The telling is bounded too: at most
/// `shedQueueLimit` wait, none longer than `busyMaxAge` (a late "busy" would mislead), answered
/// by a few tasks.
extension SlackChannel {
    static let shedQueueLimit = 2_000
    static let shedWorkerLimit = 4
    static let busyWindow: Duration = .seconds(10)
    /// A "busy" older than this is not sent (it would arrive when it is no longer true).
    static let busyMaxAge: Duration = .seconds(60)

    func shedding(_ envelope: Envelope) {
        let startWorker = shed.withLock { q -> Bool? in
            guard q.count < Self.shedQueueLimit else { return nil }
            q.items.append((envelope, .now))
            guard q.workers < Self.shedWorkerLimit else { return false }
            q.workers += 1
            return true
        }
        guard let startWorker else {
            // Beyond even that: acknowledged, not answered; counted in the log.
            logger.warning("slack.envelope_shed", metadata: ["slack.envelope_id": "\(envelope.id)", "engine.limit": "\(Self.envelopesInFlight)"])
            return
        }
        guard startWorker else { return }
        Task { [self] in
            // The worker leaves in the same lock that finds the queue empty: nothing is left behind.
            while let next = shed.withLock({ q -> (envelope: Envelope, at: ContinuousClock.Instant)? in
                if let next = q.pop() { return next }
                q.workers -= 1
                return nil
            }) {
                guard ContinuousClock.now - next.at < Self.busyMaxAge else { continue }
                await sayBusy(next.envelope)
            }
        }
    }

    /// "Busy" to whoever sent it, where they would have got the answer; nothing for envelopes
    /// from elsewhere (another workspace or app), the bot's own messages, what is not a
    /// request, or someone told so within the window.
    private func sayBusy(_ envelope: Envelope) async {
        guard let me = await ownIdentity(), SlackOrigin.of(envelope).mismatch(with: me) == nil else { return }
        let context: Context
        let user: String
        switch SlackInbound.read(envelope) {
        case .slashCommand(let c):
            context = .slash(channel: c.channelID, user: c.userID, responseURL: c.responseURL)
            user = c.userID
        case .message(let m) where m.userID != botUserID:
            context = .message(channel: m.channelID, user: m.userID, threadTS: m.isDirect ? nil : (m.threadTS ?? m.ts))
            user = m.userID
        case .blockAction(let a):
            context = .click(channel: a.channelID ?? "", user: a.userID)
            user = a.userID
        default: return
        }
        let now = ContinuousClock.now
        let due = shed.withLock { q -> Bool in
            if let last = q.told[user], now - last < Self.busyWindow { return false }
            if q.told.count > 10_000 { q.told = q.told.filter { now - $0.value < Self.busyWindow } }
            q.told[user] = now
            return true
        }
        guard due else { return }
        await say(m.text("limits.full", ["n": String(Self.envelopesInFlight)]), to: context, privately: true)
    }
}
