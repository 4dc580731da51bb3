import ConvOpsCore
import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// Alerts on WhatsApp: queued with the alert by the desk, sent here at about one message per
/// person per 6 s (WhatsApp's pair rate); what piled up meanwhile goes as one message. A lone
/// new alarm comes with Acknowledge, its fix and Snooze 1h as reply buttons (quick replies of
/// the alert template outside the 24-hour window), which enter the normal flow.
extension WhatsAppChannel {
    /// WhatsApp's pair rate is one message per 6 s to one person; counted from when the last
    /// one was answered, with a margin for the way there.
    static let alertSpacing: TimeInterval = 6.5

    /// The conversations for a route's people: phone numbers and Slack ids of configured contacts.
    public func conversations(for people: [String]) -> [String] {
        var out: [String] = []
        for entry in people {
            guard let contact = settings.people.first(where: { $0.number == entry || $0.slack == entry }) else {
                logger.warning("whatsapp.alert_recipient_unknown", metadata: ["whatsapp.reason": "a route names someone not in whatsapp.people"])
                continue
            }
            let channel = store.whatsAppChannel(waID: String(number(of: contact).dropFirst()))
            if !out.contains(channel) { out.append(channel) }
        }
        return out
    }

    /// Sends what is due: per conversation, at most one message every 6 s.
    func sendAlerts() async {
        guard let pending = try? store.pendingWhatsAppAlerts(), !pending.isEmpty else { return }
        var byChannel: [String: [QueuedWhatsAppAlert]] = [:]
        var order: [String] = []
        for alert in pending {
            if byChannel[alert.channel] == nil { order.append(alert.channel) }
            byChannel[alert.channel, default: []].append(alert)
        }
        let now = Date()
        for channel in order {
            guard let batch = byChannel[channel] else { continue }
            if let last = alertSentAt.withLock({ $0[channel] }), now.timeIntervalSince(last) < Self.alertSpacing { continue }
            guard let to = recipient(ofChannel: channel) else {
                // Taken out of whatsapp.people (or renumbered) since it was queued: said, not lost.
                for alert in batch {
                    park(channel: channel, personID: nil, what: "alert " + alert.episodeID, code: 0,
                         reason: "nobody in whatsapp.people has this conversation any more (taken out of the config, or given another number)")
                }
                try? store.sentWhatsAppAlerts(batch, messageRef: nil, at: now)
                continue
            }
            // Tried now, whatever comes of it: the next try for this person is 6 s away.
            alertSentAt.withLock { $0[channel] = now }
            let episodes = batch.compactMap { try? store.episode(id: $0.episodeID) }
            let outcome: WhatsAppSender.Outcome
            var summarised = false
            if batch.count == 1, let episode = episodes.first, batch[0].kind != .resolved, episode.isOpen {
                outcome = await sendAlert(episode, to: to, flapping: batch[0].kind == .flapping)
            } else {
                let text = summary(batch, episodes)
                let notice = OutboundMessage.template(settings.noticeTemplate, language: settings.templateLanguage,
                                                      parameters: [text.utf16(upTo: 900)], quickReplies: [], to: to)
                outcome = await attempt(OutboundMessage.text(text, to: to)[0], orTemplate: notice)
                summarised = true
            }
            alertSentAt.withLock { $0[channel] = Date() }
            switch outcome {
            case .sent(let sent):
                // A summary carries no buttons: its id is kept apart, so no tap can name it.
                let ref = store.whatsAppMessageRef(sent.messageID)
                try? store.sentWhatsAppAlerts(batch, messageRef: summarised ? "c:" + ref : ref, at: Date())
            case .givenUp:
                try? store.sentWhatsAppAlerts(batch, messageRef: nil, at: Date())
            case .later:
                // Kept: Meta or the network is down, a limit holds, or the token awaits replacing.
                continue
            }
        }
    }

    func sendAlert(_ episode: AlertEpisode, to: String, asTemplate: Bool = false, flapping: Bool = false) async -> WhatsAppSender.Outcome {
        let a = episode.alarm
        var lines = [flapping ? "🔁 " + m.text("whatsapp.alert_flapping", ["alarm": a.name]) : "🔴 " + m.text("alert.header.alarm", ["alarm": a.name])]
        if !a.reason.isEmpty { lines.append(a.reason) }
        let resource: String
        if let r = episode.resource {
            let place = [await engine.environmentName(of: r), r.region].compactMap { $0 }.joined(separator: "/")
            resource = m.text("alert.resource", ["name": r.name ?? r.id, "kind": r.kind.noun, "place": place])
        } else if let s = a.subject {
            resource = m.text("alert.resource_unknown", ["id": s.id, "kind": s.kind.noun])
        } else {
            resource = a.region ?? "-"
        }
        lines.append(resource)
        if let runbook = a.runbook { lines.append(runbook) }
        var buttons: [OutboundMessage.Button] = [.init(id: "ack:\(episode.id)", title: m.text("alert.acknowledge"))]
        if let r = episode.resource, Engine.fixVerb(r.kind) != nil {
            buttons.append(.init(id: "fix:\(episode.id)", title: m.text("alert.fix.restart", ["name": r.name ?? r.id])))
        }
        buttons.append(.init(id: "snooze:\(episode.id)", title: m.text("alert.snooze")))
        guard let message = OutboundMessage.buttons(lines.joined(separator: "\n"), buttons, to: to) else {
            return unbuilt(to: to, what: "alert \(episode.id)")
        }
        // The template always has its three quick replies (Acknowledge, Restart, Snooze): an
        // alarm without a fix still fills the middle one, and a tap on it says there is none.
        var template = OutboundMessage.template(settings.alertTemplate, language: settings.templateLanguage,
                                                parameters: [m.text("alert.header.alarm", ["alarm": a.name]), resource, a.reason],
                                                quickReplies: ["ack:\(episode.id)", "fix:\(episode.id)", "snooze:\(episode.id)"], to: to)
        var withButtons = message
        // Echoed in its statuses: a late 131047 says which alert to send again as the template.
        withButtons.reference = "al:" + episode.id
        template?.reference = "al:" + episode.id
        if asTemplate {
            guard let template else { return unbuilt(to: to, what: "alert \(episode.id)") }
            return await attempt(template, orTemplate: nil)
        }
        return await attempt(withButtons, orTemplate: template)
    }

    /// A message accepted and then refused for the 24-hour window, sent again as its template
    /// (once: the template's own failure is only logged). `reference`: "al:EPISODE" or "rq:REQUEST".
    /// `failed`: the wamid Meta failed; the new message takes its place for taps.
    func resendAsTemplate(_ reference: String, failed: String, to: String) async {
        guard let contact = settings.people.first(where: { number(of: $0) == to }) else { return }
        let channel = store.whatsAppChannel(waID: String(to.dropFirst()))
        if reference.hasPrefix("al:"), let episode = try? store.episode(id: String(reference.dropFirst(3))), episode.isOpen {
            guard case .sent(let sent) = await sendAlert(episode, to: to, asTemplate: true) else { return }
            try? store.replacedWhatsAppAlertMessage(episodeID: episode.id, channel: channel, old: store.whatsAppMessageRef(failed),
                                                    new: store.whatsAppMessageRef(sent.messageID))
        } else if reference.hasPrefix("rq:"), let request = try? store.request(id: String(reference.dropFirst(3))),
                  request.state == .awaitingApproval {
            await askApprover(contact, request: request, text: "", asTemplate: true)
        }
    }

    /// "5 alerts: …": one line each (new, or resolved), at most ten, then how many more.
    func summary(_ batch: [QueuedWhatsAppAlert], _ episodes: [AlertEpisode]) -> String {
        let byID = Dictionary(episodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var lines = [m.text("whatsapp.alerts_summary", ["n": String(batch.count)])]
        for alert in batch.prefix(10) {
            guard let e = byID[alert.episodeID] else { continue }
            switch alert.kind {
            case .resolved:
                lines.append("✅ " + m.text("alert.header.resolved", ["alarm": e.alarm.name, "minutes": String(e.minutes(until: e.closedAt ?? e.updatedAt))]))
            case .flapping: lines.append("🔁 " + m.text("whatsapp.alert_flapping", ["alarm": e.alarm.name]))
            case .opened: lines.append("🔴 " + m.text("alert.header.alarm", ["alarm": e.alarm.name]))
            }
        }
        if batch.count > 10 { lines.append(m.text("whatsapp.alerts_more", ["n": String(batch.count - 10)])) }
        return lines.joined(separator: "\n")
    }

    /// A tap on an alert's button: the same click as in Slack, checked against the message it
    /// was sent as; an acknowledgement is shown on the Slack cards too.
    func alertTap(_ kind: String, episodeID: String, context: String?, person: Person, standing: Standing = .member, to: String,
                  channel: String) async {
        let click: Engine.AlertClick = kind == "ack" ? .acknowledge : kind == "fix" ? .fix : .snooze
        let card = AlertMessage(episodeID: episodeID, channel: channel, ts: context.map(store.whatsAppMessageRef) ?? "")
        let (replies, changed) = await engine.alertClick(click, episodeID: String(episodeID.prefix(64)), card: card, by: person,
                                                         from: Origin(channel: channel, standing: standing))
        if let episode = changed {
            await sendText(m.text("alert.thread.acknowledged", ["person": person.name]), to: to)
            await onAcknowledged.withLock({ $0 })?(episode, person.name)
        }
        for reply in replies { await deliver(reply, to: to, channel: channel) }
    }

    /// What to do when someone acknowledges on WhatsApp (Slack's cards show it).
    public func whenAcknowledged(_ body: @escaping @Sendable (AlertEpisode, String) async -> Void) {
        onAcknowledged.withLock { $0 = body }
    }
}
