import ConvOpsCore
import ConvOpsSlack
import Foundation

/// Envelopes past the in-flight bound, waiting to be told "busy" (only where to answer and
/// whom: a few hundred bytes each, not the envelope), and the tasks telling them: one lock for
/// both, so a worker never leaves one behind.
struct ShedQueue: Sendable {
    struct Item: Sendable {
        var context: SlackChannel.Context
        var user: String
        var at: ContinuousClock.Instant
    }

    var items: [Item] = []
    var head = 0
    var workers = 0
    /// Items waiting per person: one person's flood cannot fill the queue.
    var perPerson: [String: Int] = [:]

    var count: Int { items.count - head }

    mutating func pop() -> Item? {
        guard head < items.count else { return nil }
        let next = items[head]
        head += 1
        let left = perPerson[next.user, default: 1] - 1
        perPerson[next.user] = left > 0 ? left : nil
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
/// unanswered either: the person is told ConvOps is busy and to ask again in a few seconds.
/// The telling is bounded too: at most `shedQueueLimit` wait (`perPersonLimit` of one
/// person's; past that their flood is dropped, counted in the log), none older than
/// `busyMaxAge` (a late "busy" would mislead), answered by a few tasks.
extension SlackChannel {
    static let shedQueueLimit = 10_000
    static let perPersonLimit = 30
    static let shedWorkerLimit = 4
    /// A "busy" older than this is not sent (it would arrive when it is no longer true).
    static let busyMaxAge: Duration = .seconds(60)

    func shedding(_ envelope: Envelope) {
        // Nothing for envelopes from elsewhere (another workspace or app), the bot's own
        // messages, or what is not a request.
        guard let me = identity.withLock({ $0 }), SlackOrigin.of(envelope).mismatch(with: me) == nil else { return }
        let item: ShedQueue.Item
        switch SlackInbound.read(envelope) {
        case .slashCommand(let c):
            item = .init(context: .slash(channel: c.channelID, user: c.userID, responseURL: c.responseURL), user: c.userID, at: .now)
        case .message(let m) where m.userID != botUserID:
            item = .init(context: .message(channel: m.channelID, user: m.userID, threadTS: m.isDirect ? nil : (m.threadTS ?? m.ts)),
                         user: m.userID, at: .now)
        case .blockAction(let a):
            item = .init(context: .click(channel: a.channelID ?? "", user: a.userID), user: a.userID, at: .now)
        default:
            return
        }
        let startWorker = shed.withLock { q -> Bool? in
            guard q.count < Self.shedQueueLimit, q.perPerson[item.user, default: 0] < Self.perPersonLimit else { return nil }
            q.items.append(item)
            q.perPerson[item.user, default: 0] += 1
            guard q.workers < Self.shedWorkerLimit else { return false }
            q.workers += 1
            return true
        }
        guard let startWorker else {
            logger.warning("slack.envelope_shed", metadata: ["slack.envelope_id": "\(envelope.id)", "engine.limit": "\(Self.envelopesInFlight)"])
            return
        }
        guard startWorker else { return }
        Task { [self] in
            // The worker leaves in the same lock that finds the queue empty: nothing is left behind.
            while let next = shed.withLock({ q -> ShedQueue.Item? in
                if let next = q.pop() { return next }
                q.workers -= 1
                return nil
            }) {
                guard ContinuousClock.now - next.at < Self.busyMaxAge else { continue }
                await say(m.text("limits.full", ["n": String(Self.envelopesInFlight)]), to: next.context, privately: true)
            }
        }
    }
}
