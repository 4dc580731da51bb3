import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// Sending through the sender, and parking what Meta would not deliver (131026 and its kin,
/// at once or later in a `failed` status) with the code and title, for `convops whatsapp
/// undelivered`: a message nobody got is never only a log line.
extension WhatsAppChannel {
    /// For a sender that keeps what did not go (the alert queue): `.later` is not parked.
    func attempt(_ message: OutboundMessage, orTemplate template: OutboundMessage?) async -> WhatsAppSender.Outcome {
        let outcome = await sender.attempt(message, orTemplate: template)
        switch outcome {
        case .givenUp(let code, let reason): park(message.to, what: Self.what(message), code: code, reason: reason)
        case .sent(let sent): learn(sent, dialled: message.to)
        case .later: break
        }
        return outcome
    }

    /// For everything else (replies, plans, approval requests): what could not go now is not
    /// kept to send later (a plan an hour late would mislead), so it is parked too.
    func send(_ message: OutboundMessage, orTemplate template: OutboundMessage?) async -> GraphAPI.Sent? {
        switch await attempt(message, orTemplate: template) {
        case .sent(let sent): return sent
        case .givenUp: return nil
        case .later(let reason):
            park(message.to, what: Self.what(message), code: 0, reason: "not sent: " + reason)
            return nil
        }
    }

    /// A message that could not be built within WhatsApp's limits: nobody got it either.
    func unbuilt(to: String, what: String) -> WhatsAppSender.Outcome {
        let reason = "the message did not fit WhatsApp's limits (buttons, titles or a template's parameters)"
        logger.error("whatsapp.not_built", metadata: ["whatsapp.what": "\(what)"])
        park(to, what: what, code: 0, reason: reason)
        return .givenUp(code: 0, reason: reason)
    }

    /// A sent message Meta failed later (its `failed` status); the 24-hour window's 131047 is
    /// not parked: that message goes again as its template.
    func failedLater(_ status: DeliveryStatus) {
        // 131047 with a reference is sent again as its template (see `handle`); without one
        // (a reply, a plan) nothing can go in its place.
        guard let error = status.errors.first, error.code != 131047 || status.callbackData == nil else { return }
        let what = status.callbackData.map(Self.what(reference:)) ?? "a message"
        park(dialled(recipient: status.recipient) ?? "+" + status.recipient, what: what, code: error.code, reason: WhatsAppSender.withoutNumbers(error.title))
    }

    func park(_ to: String, what: String, code: Int, reason: String) {
        let person = settings.people.first { number(of: $0) == to }
        park(channel: store.whatsAppChannel(waID: String(to.dropFirst())), personID: person?.personID, what: what, code: code, reason: reason)
    }

    func park(channel: String, personID: String?, what: String, code: Int, reason: String) {
        let parked = UndeliveredWhatsApp(id: AlertDesk.newID("wu"), channel: channel, what: what, code: code, reason: reason, at: Date())
        do {
            try store.parkUndelivered(parked, personID: personID)
        } catch {
            logger.error("whatsapp.undelivered_not_parked", metadata: ["error.message": "\(error)", "whatsapp.code": "\(code)"])
        }
    }

    /// What a message was, in words an operator can act on, with the id it concerns.
    static func what(_ message: OutboundMessage) -> String {
        if let reference = message.reference { return what(reference: reference) }
        switch message.body {
        case .buttons(_, let buttons):
            if let id = buttons.first?.id, id.hasPrefix("confirm:") { return "plan " + id.dropFirst("confirm:".count) }
            return "a message with buttons"
        case .list: return "a list of choices"
        case .template(let name, _, _, _): return "template \(name)"
        case .text: return "a reply"
        }
    }

    static func what(reference: String) -> String {
        if reference.hasPrefix("al:") { return "alert " + reference.dropFirst(3) }
        if reference.hasPrefix("rq:") { return "approval request " + reference.dropFirst(3) }
        return "a message"
    }
}
