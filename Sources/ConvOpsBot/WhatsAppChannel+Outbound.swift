import ConvOpsCore
import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// The engine's replies as WhatsApp messages: a plan gets Confirm / Cancel reply buttons, an
/// approval request Approve / Reject (as the approval template outside the 24-hour window),
/// each recorded as the request's card once sent; everything else is text.
extension WhatsAppChannel: RequestChannel {
    public func owns(_ card: MessageRef) -> Bool { card.channel.hasPrefix("wa:") }

    /// A reply to the person who wrote: shown here, then handed to the other channels.
    func deliver(_ reply: Reply, to: String, channel: String) async {
        if case .choose(let text, let choices) = reply {
            // A list of up to ten to tap, each row carrying what picking it says.
            let rows = choices.map { OutboundMessage.Row(id: "say:" + $0.say, title: $0.label, description: $0.detail) }
            if let list = OutboundMessage.list(text, button: m.text("whatsapp.pick"), rows, to: to),
               rows.allSatisfy({ $0.id.utf8.count <= OutboundMessage.Limit.rowID }) {
                if await send(list, orTemplate: nil) != nil { return }
            }
            return await sendText(text, to: to)
        }
        guard case .request(let update) = reply else { return await sendText(reply.text, to: to) }
        await show(update, to: to, channel: channel)
        if update.step == .awaitingApproval {
            await askApprovers(update)
        } else {
            await tell(update, except: channel)
        }
        await hub.forward(update, from: self)
    }

    func show(_ update: RequestUpdate, to: String, channel: String) async {
        guard update.step == .planned else { return await sendText(update.text, to: to) }
        let id = update.request.id
        guard let card = OutboundMessage.buttons(update.text, [
            .init(id: "confirm:\(id)", title: m.text("slack.confirm")), .init(id: "cancel:\(id)", title: m.text("slack.cancel")),
        ], to: to) else { return await sendText(update.text, to: to) }
        guard let sent = await send(card, orTemplate: nil) else { return }
        await record(MessageRef(role: .request, channel: channel, ts: store.whatsAppMessageRef(sent.messageID)), for: id, to: to)
    }

    /// Every WhatsApp contact the policy lets approve, but the requester, gets the request
    /// with Approve / Reject once.
    func askApprovers(_ update: RequestUpdate) async {
        let request = update.request
        for contact in settings.people where contact.personID != request.requester.id {
            guard engine.access.mayApprove(contact.personID, standing: await standing(of: contact)) else { continue }
            let channel = store.whatsAppChannel(waID: String(number(of: contact).dropFirst()))
            guard !update.cards.contains(where: { $0.role == .approval && $0.channel == channel }) else { continue }
            await askApprover(contact, request: request, text: update.text, asTemplate: false)
        }
    }

    /// Approve / Reject for one approver; outside the window the approval template, its quick
    /// replies carrying only the request id.
    func askApprover(_ contact: WhatsAppSettings.Contact, request: Request, text: String, asTemplate: Bool) async {
        let to = number(of: contact)
        let channel = store.whatsAppChannel(waID: String(to.dropFirst()))
        let headline = m.text("slack.approval_headline", ["requester": request.requester.name, "canonical": request.plan.canonicalText, "id": request.id])
        let payloads = ["approve:\(request.id)", "reject:\(request.id)"]
        guard var buttons = OutboundMessage.buttons(text.isEmpty ? headline : headline + "\n\n" + text, [
            .init(id: payloads[0], title: m.text("slack.approve")), .init(id: payloads[1], title: m.text("slack.reject")),
        ], to: to) else { return }
        var template = OutboundMessage.template(settings.approvalTemplate, language: settings.templateLanguage,
                                                parameters: [request.requester.name, request.plan.canonicalText, request.id],
                                                quickReplies: payloads, to: to)
        buttons.reference = "rq:" + request.id
        template?.reference = "rq:" + request.id
        let sent: GraphAPI.Sent?
        if asTemplate {
            guard let template else { return }
            sent = await send(template, orTemplate: nil)
        } else {
            sent = await send(buttons, orTemplate: template)
        }
        guard let sent else { return }
        await record(MessageRef(role: .approval, channel: channel, ts: store.whatsAppMessageRef(sent.messageID)), for: request.id, to: to)
    }

    func record(_ card: MessageRef, for id: String, to: String) async {
        do {
            try await engine.record(card: card, for: id)
        } catch {
            // Unrecorded, its buttons would be refused: say how to decide instead.
            logger.error("whatsapp.card_not_recorded", metadata: ["request.id": "\(id)", "error.message": "\(error)"])
            await sendText(m.text("whatsapp.card_not_recorded", ["id": id]), to: to)
        }
    }

    func sendText(_ text: String, to: String) async {
        for message in OutboundMessage.text(text, to: to) {
            // The notice carries this piece, cut to what a template parameter may hold.
            guard case .text(let piece) = message.body else { continue }
            let notice = OutboundMessage.template(settings.noticeTemplate, language: settings.templateLanguage,
                                                  parameters: [piece.utf16(upTo: 900)], quickReplies: [], to: to)
            _ = await send(message, orTemplate: notice)
        }
    }

    /// News of a request that happened elsewhere (a Slack click, the sweeper): the requester's
    /// conversation and each approver's hear of it once; a wait for approval asks approvers here.
    public func announce(_ reply: Reply) async {
        guard case .request(let update) = reply else { return }
        if update.step == .awaitingApproval {
            await askApprovers(update)
            return
        }
        await tell(update, except: nil)
    }

    /// The text of a request's news to each conversation here holding one of its cards, once.
    func tell(_ update: RequestUpdate, except: String?) async {
        var told: Set<String> = except.map { [$0] } ?? []
        for card in update.cards where owns(card) && !told.contains(card.channel) {
            told.insert(card.channel)
            guard let to = recipient(ofChannel: card.channel) else { continue }
            await sendText(update.text, to: to)
        }
    }

    /// The number behind a conversation's opaque channel name.
    func recipient(ofChannel channel: String) -> String? {
        for contact in settings.people {
            let number = number(of: contact)
            if store.whatsAppChannel(waID: String(number.dropFirst())) == channel { return number }
        }
        return nil
    }
}
