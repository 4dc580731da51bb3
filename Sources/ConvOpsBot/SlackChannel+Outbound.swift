import ConvOpsCore
import ConvOpsGrammar
import ConvOpsSlack
import ConvOpsStore
import Foundation

/// What Slack shows for each of the engine's replies: a request's card, posted once and updated
/// in place; an approval card for the approvers; answers where they were asked; refusals,
/// errors and details only to the person who asked.
extension SlackChannel: RequestChannel {
    /// Slack's cards are in Slack channels; WhatsApp's conversations are named "wa:…".
    public func owns(_ card: MessageRef) -> Bool { !card.channel.hasPrefix("wa:") }

    func deliver(_ reply: Reply, to context: Context) async {
        switch reply {
        case .answer(let text): await say(text, to: context)
        // Refusals and errors may carry ARNs; log lines are the asker's.
        case .refused(let text), .detail(let text), .choose(let text, _): await say(text, to: context, privately: true)
        case .request(let update): await show(update, to: context)
        }
    }

    private func show(_ whole: RequestUpdate, to context: Context) async {
        // This channel's cards only; the others' are theirs to show, after this.
        var update = whole
        update.cards = whole.cards.filter(owns)
        await showHere(update, to: context)
        if case .system = context { return }
        await hub.forward(whole, from: self)
    }

    private func showHere(_ update: RequestUpdate, to context: Context) async {
        switch update.step {
        case .planned where context.channel != nil:
            await postPlan(update, in: context)
        case .planned:
            await say(update.text, to: context)
        case .awaitingApproval:
            await updateCards(update, status: update.text)
            await postApproval(update)
        case .progress:
            await updateCards(update, status: update.text)
        case .finished where update.request.state == .failed:
            // AWS's error names roles and sessions: the cards say it failed, the requester reads why.
            let r = update.request
            await updateCards(update, status: m.text("slack.failed_card", ["canonical": r.plan.canonicalText, "resource": r.plan.resource.label,
                                                                          "requester": r.requester.name]))
            if let card = update.card {
                do {
                    try await api.postEphemeral(channel: card.channel, user: r.requester.id, BlockKit.text(update.text), threadTS: card.ts)
                } catch {
                    logger.warning("slack.reply_failed", metadata: ["request.id": "\(r.id)", "slack.error": "\(error)"])
                }
            } else {
                await say(update.text, to: context, privately: true)
            }
        case .finished:
            await updateCards(update, status: update.text)
        case .note:
            // The bot's own notices about a request (its expiry is near): under its card.
            if context.channel == nil, let card = update.card {
                await post(update.text, channel: card.channel, threadTS: card.ts)
            } else {
                await say(update.text, to: context)
            }
        }
    }

    private func postPlan(_ update: RequestUpdate, in context: Context) async {
        guard let channel = context.channel else { return }
        let request = update.request
        var card = BlockKit.plan(request, headline: headline(request), highRisk: Self.isHighRisk(request), labels)
        let footer = m.text("slack.plan_footer", ["expiry": Engine.duration(request.expiresAt.timeIntervalSince(request.createdAt), m)])
        card.blocks.insert(["type": "context", "elements": [["type": "mrkdwn", "text": .string(BlockKit.escape(footer))]]],
                           at: card.blocks.count - 1)
        let threadTS: String? = if case .message(_, _, let t) = context { t } else { nil }
        if let failure = await postCard(card, role: .request, channel: channel, threadTS: threadTS, for: request) {
            // The plan exists but nobody can click it: say so privately; it will expire.
            await say(failure.text(request.id, m), to: context)
        }
    }

    private func postApproval(_ update: RequestUpdate) async {
        guard !update.cards.contains(where: { $0.role == .approval }) else { return }
        let request = update.request
        // A request made elsewhere (WhatsApp) is put before Slack's approvers only in their channel.
        guard let channel = options.approvalChannel ?? (request.channel.hasPrefix("wa:") ? nil : request.channel) else { return }
        let headline = m.text("slack.approval_headline", ["requester": request.requester.name,
                                                          "canonical": request.plan.canonicalText, "id": request.id])
        let card = BlockKit.approval(request, headline: headline, labels)
        if let failure = await postCard(card, role: .approval, channel: channel, threadTS: nil, for: request), let mine = update.card {
            await post(failure.text(request.id, m), channel: mine.channel, threadTS: mine.ts)
        }
    }

    /// Why a card is not clickable: not posted at all, or posted without working buttons.
    enum CardFailure {
        case notPosted(String)
        case noButtons(String)

        func text(_ id: String, _ m: Messages) -> String {
            switch self {
            case .notPosted(let error): m.text("slack.post_failed", ["id": id, "error": error])
            case .noButtons(let error): m.text("slack.buttons_failed", ["id": id, "error": error])
            }
        }
    }

    /// Posts a card without its buttons, records where it went, then adds the buttons: a click
    /// can only come from a card already recorded. Returns why it is not clickable, if it is not.
    private func postCard(_ card: SlackMessage, role: MessageRef.Role, channel: String, threadTS: String?,
                          for request: Request) async -> CardFailure? {
        let ts: String
        do {
            ts = try await api.postMessage(channel: channel, card.withoutButtons, threadTS: threadTS)
        } catch {
            logger.warning("slack.card_not_posted", metadata: ["request.id": "\(request.id)", "slack.role": "\(role.rawValue)",
                                                              "slack.error": "\(error.code)"])
            return .notPosted(error.description)
        }
        do {
            try await engine.record(card: MessageRef(role: role, channel: channel, ts: ts), for: request.id)
        } catch {
            // Unrecorded, its buttons would be refused: leave them off.
            logger.error("slack.card_not_recorded", metadata: ["request.id": "\(request.id)", "error.message": "\(error)"])
            return .noButtons(m.text("slack.card_not_recorded"))
        }
        var last: SlackAPIError?
        for attempt in 1...3 {
            do {
                try await api.update(channel: channel, ts: ts, card)
                return nil
            } catch {
                last = error
                logger.warning("slack.buttons_not_added", metadata: ["request.id": "\(request.id)", "slack.error": "\(error.code)",
                                                                    "slack.attempt": "\(attempt)"])
                if error.isFatalForToken { break }
                try? await Task.sleep(for: .milliseconds(250 * attempt))
            }
        }
        return .noButtons(last?.description ?? "chat.update failed")
    }

    /// Updates every card of the request: the status replaces the buttons once it is decided.
    private func updateCards(_ update: RequestUpdate, status: String) async {
        let request = update.request
        for ref in update.cards {
            // An approval card keeps its buttons while the request still waits for approval.
            if ref.role == .approval, request.state == .awaitingApproval { continue }
            do {
                try await api.update(channel: ref.channel, ts: ref.ts, BlockKit.status(request, headline: headline(request), status: status, labels))
            } catch {
                logger.warning("slack.card_not_updated", metadata: ["request.id": "\(request.id)", "slack.error": "\(error)"])
            }
        }
    }

    private func headline(_ request: Request) -> String {
        m.text("slack.plan_headline", ["requester": request.requester.name, "canonical": request.plan.canonicalText, "id": request.id])
    }

    /// Says text to whoever the context is about. In a thread, status answers are for the
    /// thread; errors and details (`privately`) only for the asker, unless the channel shares them.
    func say(_ text: String, to context: Context, privately: Bool = false) async {
        let message = BlockKit.text(text)
        do {
            switch context {
            case .slash(let channel, let user, let responseURL):
                if let responseURL {
                    try await api.respond(to: responseURL, message)
                } else {
                    try await api.postEphemeral(channel: channel, user: user, message)
                }
            case .message(let channel, let user, let threadTS):
                if privately, threadTS != nil, !options.sharedLogChannels.contains(channel) {
                    try await api.postEphemeral(channel: channel, user: user, message, threadTS: threadTS)
                } else {
                    _ = try await api.postMessage(channel: channel, message, threadTS: threadTS)
                }
            case .click(let channel, let user):
                try await api.postEphemeral(channel: channel, user: user, message)
            case .system:
                // Nowhere to show it (a request without a card); its text may name ARNs, so it is not logged.
                logger.notice("slack.notice_undelivered", metadata: ["slack.text_bytes": "\(text.utf8.count)"])
            }
        } catch {
            logger.warning("slack.reply_failed", metadata: ["slack.error": "\(error)"])
        }
    }

    func post(_ text: String, channel: String, threadTS: String?) async {
        do {
            _ = try await api.postMessage(channel: channel, BlockKit.text(text), threadTS: threadTS)
        } catch {
            logger.warning("slack.reply_failed", metadata: ["slack.error": "\(error)"])
        }
    }
}
