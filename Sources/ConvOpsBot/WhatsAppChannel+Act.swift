import ConvOpsCore
import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// What a person's WhatsApp message does, and how the engine's replies look there.
extension WhatsAppChannel {
    func act(on message: WebhookEvent.InboundMessage) async {
        guard let contact = contact(for: message) else {
            await refuseStranger(message)
            return
        }
        let to = number(of: contact)
        let person = Person(id: contact.personID, name: contact.name)
        let channel = store.whatsAppChannel(waID: String(to.dropFirst()))
        let standing = await standing(of: contact)
        switch message.content {
        case .text(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let replies = await engine.handle(InboundMessage(text: trimmed.isEmpty ? "help" : trimmed, person: person, channel: channel,
                                                             standing: standing))
            for reply in replies { await deliver(reply, to: to, channel: channel) }
        case .buttonReply(let id, _), .templateButton(let id, _):
            await tap(id, context: message.contextID, person: person, standing: standing, to: to, channel: channel)
        case .listReply(let id, _):
            // A row of a "which one?" list carries the command to run, as if typed.
            guard id.hasPrefix("say:"), id.count > 4 else { return await sendText(m.text("whatsapp.unknown_button"), to: to) }
            let replies = await engine.handle(InboundMessage(text: String(id.dropFirst(4)), person: person, channel: channel,
                                                             standing: standing))
            for reply in replies { await deliver(reply, to: to, channel: channel) }
        case .numberChanged(let new):
            let number = "+" + new
            guard AlertSettings.isPhoneNumber(number) else { return }
            do {
                try store.changedNumber(personID: contact.personID, to: number, at: Date())
                numbers.withLock { $0[contact.personID] = number }
                learned.withLock { $0.removeAll() }
                logger.notice("whatsapp.number_changed", metadata: ["whatsapp.reason": "user_changed_number"])
            } catch {
                logger.error("whatsapp.number_not_kept", metadata: ["error.message": "\(error)"])
            }
        case .other(let type):
            logger.notice("whatsapp.unsupported", metadata: ["whatsapp.type": "\(type)"])
            await sendText(m.text("whatsapp.unsupported"), to: to)
        }
    }

    /// A reply button or a template's quick reply: `confirm:rq-…` and the like. The tapped
    /// message (`context`) must be the card recorded for that request, as a Slack click's must.
    func tap(_ id: String, context: String?, person: Person, standing: Standing, to: String, channel: String) async {
        let parts = id.split(separator: ":", maxSplits: 1).map(String.init)
        if parts.count == 2, ["ack", "fix", "snooze"].contains(parts[0]) {
            return await alertTap(parts[0], episodeID: parts[1], context: context, person: person, standing: standing, to: to, channel: channel)
        }
        guard parts.count == 2, let button = Engine.Button(rawValue: parts[0]) else {
            await engine.recordRefusal(action: "whatsapp.tap", target: String(id.prefix(64)), by: person, why: "unknown button", requestID: nil)
            return await sendText(m.text("whatsapp.unknown_button"), to: to)
        }
        guard RequestID.isValid(parts[1]) else {
            await engine.recordRefusal(action: button.rawValue, target: "-", by: person, why: "button not on that request's message", requestID: nil)
            return await sendText(m.text("request.not_its_card"), to: to)
        }
        let card = MessageRef(role: Engine.cardRole(for: button), channel: channel, ts: context.map(store.whatsAppMessageRef) ?? "")
        // A message is recorded as the request's card once WhatsApp has taken it; a tap can come
        // back faster than that (an approval sent from the Slack side's turn): wait a moment.
        for _ in 0..<30 where !((try? store.messages(for: parts[1])) ?? []).contains(card) {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let replies = await engine.click(button, requestID: parts[1], card: card, by: person, from: Origin(channel: channel, standing: standing),
                                         progress: { [self] reply in await deliver(reply, to: to, channel: channel) })
        for reply in replies { await deliver(reply, to: to, channel: channel) }
    }

    /// One polite no per unknown number and hour; nothing else happens for them.
    func refuseStranger(_ message: WebhookEvent.InboundMessage) async {
        let key = store.whatsAppChannel(waID: message.from.isEmpty ? (message.userID ?? "-") : message.from)
        let now = Date()
        let due = refusedAt.withLock { seen -> Bool in
            if let last = seen[key], now.timeIntervalSince(last) < 3600 { return false }
            if seen.count > 10_000 { seen = seen.filter { now.timeIntervalSince($0.value) < 3600 } }
            // Still full (a flood of numbers within the hour): start over rather than grow.
            if seen.count > 10_000 { seen.removeAll() }
            seen[key] = now
            return true
        }
        logger.notice("whatsapp.stranger", metadata: ["whatsapp.sender": "\(key)", "whatsapp.answered": "\(due)"])
        guard due, !message.from.isEmpty else { return }
        await sendText(m.text("whatsapp.unknown_number"), to: "+" + message.from)
    }
}
