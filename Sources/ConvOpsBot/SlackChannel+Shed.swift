import ConvOpsCore
import ConvOpsSlack
import Foundation

/// Backpressure that keeps acking at once: an envelope past the in-flight bound (already
/// acknowledged on its socket) is not queued for the engine without end, and not dropped
/// unanswered either: the person is told ConvOps is busy and to ask again in a few seconds.
/// The telling is bounded too: at most `shedQueueLimit` wait, answered by a few tasks.
extension SlackChannel {
    static let shedQueueLimit = 10_000
    static let shedWorkerLimit = 4

    func shed(_ envelope: Envelope) {
        let queued = shedQueue.withLock { queue -> Bool in
            guard queue.count < Self.shedQueueLimit else { return false }
            queue.append(envelope)
            return true
        }
        guard queued else {
            // Beyond even that: acknowledged, not answered; counted in the log.
            logger.warning("slack.envelope_shed", metadata: ["slack.envelope_id": "\(envelope.id)", "engine.limit": "\(Self.envelopesInFlight)"])
            return
        }
        let start = shedWorkers.withLock { n -> Bool in
            guard n < Self.shedWorkerLimit else { return false }
            n += 1
            return true
        }
        guard start else { return }
        Task { [self] in
            while let next = shedQueue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { await sayBusy(next) }
            shedWorkers.withLock { $0 -= 1 }
            // One queued between the last look and leaving: answered by the next shed's worker,
            // or started here if none is running.
            if shedQueue.withLock({ !$0.isEmpty }), shedWorkers.withLock({ $0 == 0 }), let again = shedQueue.withLock({ $0.popLast() }) {
                shed(again)
            }
        }
    }

    /// "Busy" to whoever sent it, where they would have got the answer; nothing for envelopes
    /// from elsewhere (another workspace or app), the bot's own messages, or what is not a request.
    private func sayBusy(_ envelope: Envelope) async {
        guard let me = await ownIdentity(), SlackOrigin.of(envelope).mismatch(with: me) == nil else { return }
        let context: Context
        switch SlackInbound.read(envelope) {
        case .slashCommand(let c): context = .slash(channel: c.channelID, user: c.userID, responseURL: c.responseURL)
        case .message(let m) where m.userID != botUserID:
            context = .message(channel: m.channelID, user: m.userID, threadTS: m.isDirect ? nil : (m.threadTS ?? m.ts))
        case .blockAction(let a): context = .click(channel: a.channelID ?? "", user: a.userID)
        default: return
        }
        await say(m.text("limits.full", ["n": String(Self.envelopesInFlight)]), to: context, privately: true)
    }
}
