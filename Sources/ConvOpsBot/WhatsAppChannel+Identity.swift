import ConvOpsCore
import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// Who a WhatsApp id is: the number in the config, a number that changed since, the id Meta
/// reported when it differs from the number dialled (Brazil, Mexico: learned from a send's
/// answer, never guessed from the digits), or the business-scoped user id.
extension WhatsAppChannel {
    func contact(for message: WebhookEvent.InboundMessage) -> WhatsAppSettings.Contact? {
        let changed = numbers.withLock { $0 }
        if !message.from.isEmpty {
            if let personID = changed.first(where: { $0.value == "+" + message.from })?.key {
                return settings.people.first { $0.personID == personID }
            }
            // Their number changed: the old one may be someone else's now (carriers hand
            // numbers out again).
            if let c = settings.people.first(where: { $0.waID == message.from }) { return changed[c.personID] == nil ? c : nil }
            if let c = learnedContact(message.from) { return c }
        }
        // A username writer (no number at all) is known by the user id alone.
        guard let userID = message.userID, !userID.isEmpty, let c = settings.people.first(where: { $0.userID == userID }) else { return nil }
        if changed[c.personID] != nil, !message.from.isEmpty { return nil }
        return c
    }

    /// People only WhatsApp knows (no `slack`) are not "everyone" in the policy: they are
    /// given what the policy names them for, by number, and nothing a "*" rule gives. A
    /// person linked to a Slack user stands as Slack says that user does now (a guest, a
    /// deactivated or outside account is not "everyone" here either); with no Slack to ask,
    /// as a guest: named or nothing.
    func standing(of contact: WhatsAppSettings.Contact) async -> Standing {
        guard let slack = contact.slack, let lookup = slackStanding.withLock({ $0 }) else { return .guest }
        return await lookup(slack)
    }

    /// How Slack users stand (users.info, cached by the Slack side): set when Slack runs too.
    public func standings(from lookup: @escaping @Sendable (String) async -> Standing) {
        slackStanding.withLock { $0 = lookup }
    }

    /// Where to send to a person: their number, as changed if it did.
    func number(of contact: WhatsAppSettings.Contact) -> String { numbers.withLock { $0[contact.personID] } ?? contact.number }

    /// The number we dial for a status's recipient (which is Meta's id for them).
    func dialled(recipient digits: String) -> String? {
        if let c = settings.people.first(where: { number(of: $0).dropFirst() == digits }) { return number(of: c) }
        return learnedContact(digits).map(number(of:))
    }

    func learnedContact(_ waID: String) -> WhatsAppSettings.Contact? {
        let numberOf = { [self] (personID: String) -> String? in settings.people.first { $0.personID == personID }.map(number(of:)) }
        guard let personID = try? store.whatsAppPerson(waID: waID, numberOf: numberOf) else {
            // Not (or no longer) anyone's: it may be learned again for whoever has it now.
            learned.withLock { _ = $0.remove(waID) }
            return nil
        }
        return settings.people.first { $0.personID == personID }
    }

    /// A send's answer named another id than the number dialled: kept (as a keyed hash) for
    /// that person, unless it is someone else's configured number.
    func learn(_ sent: GraphAPI.Sent, dialled to: String) {
        guard let waID = sent.waID, !waID.isEmpty, waID != String(to.dropFirst()), waID.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              learned.withLock({ !$0.contains(waID) }),
              let contact = settings.people.first(where: { number(of: $0) == to }) else { return }
        guard !settings.people.contains(where: { $0.waID == waID || number(of: $0).dropFirst() == waID }) else {
            logger.warning("whatsapp.id_conflict", metadata: ["whatsapp.reason": "Meta reported, for one configured number, another configured number's id; not learned"])
            return
        }
        do {
            guard try store.learnWhatsAppID(waID, personID: contact.personID, dialled: to, at: Date()) else {
                logger.warning("whatsapp.id_conflict", metadata: ["whatsapp.reason": "Meta reported an id already learned for another person; kept theirs"])
                return
            }
            learned.withLock { _ = $0.insert(waID) }
            logger.notice("whatsapp.id_learned", metadata: ["whatsapp.reason": "Meta knows a configured person by another id than the number dialled"])
        } catch {
            logger.error("whatsapp.id_not_kept", metadata: ["error.message": "\(error)"])
        }
    }
}
