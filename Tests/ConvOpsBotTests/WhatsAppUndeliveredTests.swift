@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWhatsApp
import Foundation
import Testing

/// What Meta would not deliver is parked with its code, for `convops whatsapp undelivered`,
/// exported and erased with the person; and a snooze asked for on WhatsApp is summed up there.
@Suite struct WhatsAppUndeliveredTests {
    static let alice = WhatsAppAlertsTests.alice
    let base = WhatsAppAlertsTests()

    @Test func anAlertMetaWillNotDeliverIsParkedExportedAndErasedWithThePerson() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(Self.alice.dropFirst()))
        let channel = base.channel(r.bot, wa)
        let desk = base.desk(r, channel, routing: "cpu-*", to: Self.alice)
        wa.fail(to: Self.alice, code: 131026)
        #expect(await desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.posted))
        await channel.sendAlerts()
        #expect(try r.bot.store.whatsAppAlertCounts().givenUp == 1, "given up, not tried for ever")
        let parked = try r.bot.store.undeliveredWhatsApp()
        #expect(parked.count == 1)
        let first = try #require(parked.first)
        #expect(first.code == 131026 && first.what.hasPrefix("alert ep-"), "\(first)")
        #expect(first.channel == r.bot.store.whatsAppChannel(waID: String(Self.alice.dropFirst())))
        #expect(!first.reason.isEmpty && !first.reason.contains(String(Self.alice.dropFirst())))
        #expect(WhatsAppErrorAdvice.forCode(first.code).contains("not on WhatsApp"))
        // Alice's: in her export, gone when she is erased (she never made a request: the rows alone are her data).
        let exported = try #require(try r.bot.store.export(chatID: "U111"))
        #expect(exported.whatsAppUndelivered.map(\.code) == [131026])
        #expect(try r.bot.store.undeliveredWhatsApp(personID: "U111").count == 1)
        #expect(try r.bot.store.erase(chatID: "U111") != nil)
        #expect(try r.bot.store.undeliveredWhatsApp().isEmpty)
        #expect(try r.bot.store.export(chatID: "U111") == nil)
    }

    /// Accepted, then failed in a status: parked too, naming what it was (the callback data);
    /// a late 131047 is not parked (its template goes instead).
    @Test func aLateFailureIsParkedButAClosedWindowIsSentAgainInstead() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let channel = base.channel(r.bot, wa)
        func failed(_ id: String, _ code: Int, _ title: String, reference: String?) -> WebhookEvent {
            .status(DeliveryStatus(messageID: id, state: .failed, timestamp: Date(), recipient: String(Self.alice.dropFirst()),
                                   errors: [WhatsAppErrorDetail(code: code, title: title)], callbackData: reference,
                                   phoneNumberID: WhatsAppEmulator.phoneNumberID))
        }
        try await channel.handle(failed("wamid.A", 131049, "This message was not delivered to maintain healthy ecosystem engagement.",
                                        reference: "rq:r-abc"))
        try await channel.handle(failed("wamid.A", 131049, "again", reference: "rq:r-abc"))
        try await channel.handle(failed("wamid.B", 131047, "Re-engagement message", reference: "al:ep-gone"))
        try await channel.handle(failed("wamid.C", 130472, "User's number is part of an experiment +49 170 1234567", reference: nil))
        // A reply outside the window: nothing can go in its place, so it is parked.
        try await channel.handle(failed("wamid.D", 131047, "Re-engagement message", reference: nil))
        let parked = try r.bot.store.undeliveredWhatsApp().sorted { $0.code < $1.code }
        #expect(parked.map(\.code) == [130472, 131047, 131049], "once per message; a 131047 sent again as its template not parked")
        #expect(parked.last?.what == "approval request r-abc")
        #expect(parked.first?.what == "a message")
        #expect(parked.first?.reason == "User's number is part of an experiment +…", "a number in Meta's text is masked, spaces and all")
        #expect(WhatsAppErrorAdvice.forCode(131047).contains("24 hours"))
        #expect(try r.bot.store.forgetUndelivered(id: parked[0].id) == 1)
        #expect(try r.bot.store.forgetUndelivered(id: parked[0].id) == 0)
        #expect(try r.bot.store.forgetUndelivered(id: nil) == 2)
    }

    @Test func numbersInMetasTextAreMasked() {
        #expect(WhatsAppSender.withoutNumbers("to 491701234567 failed") == "to … failed")
        #expect(WhatsAppSender.withoutNumbers("(#131026) Message Undeliverable") == "(#131026) Message Undeliverable")
        #expect(WhatsAppSender.withoutNumbers("1234567") == "…")
        #expect(WhatsAppSender.withoutNumbers("") == "")
        #expect(WhatsAppSender.withoutNumbers("call +49 (170) 123-4567 now") == "call +… now")
        #expect(WhatsAppSender.withoutNumbers("12 34 56") == "12 34 56", "short groups stay")
    }

    /// A snooze asked for on WhatsApp ends: its summary goes back to that conversation, and
    /// the Slack alert channels still get theirs (before, a "wa:" channel was posted to Slack,
    /// which refused it, and the alert channels heard nothing).
    @Test func aSnoozeAskedOnWhatsAppIsSummedUpThereAndInSlack() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(Self.alice.dropFirst()))
        let channel = base.channel(r.bot, wa)
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: AlertSinks(slack: r.chat, whatsApp: channel),
                             clock: r.bot.clock, logger: .quiet)
        let conversation = r.bot.store.whatsAppChannel(waID: String(Self.alice.dropFirst()))
        _ = await r.bot.engine.handle(InboundMessage(text: "snooze alarm cpu-high 1h", person: Person(id: "U111", name: "Alice"),
                                                     channel: conversation))
        #expect(await desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.suppressed))
        r.bot.clock.advance(by: 3700)
        await desk.endSnoozes()
        let texts = wa.accepted.filter { $0.type == "text" }.compactMap { $0.body["text"]?["body"]?.string }
        #expect(texts.contains { $0.contains("cpu-high") }, "\(texts)")
        #expect(r.chat.seen.withLock { $0.summaries.count } == 1, "and the Slack side's summary")
    }

    /// Without Slack, a Slack channel is a place no alert can go: said, not retried.
    @Test func withoutSlackASlackChannelIsUndeliverable() async throws {
        let sinks = AlertSinks(slack: nil, whatsApp: nil)
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: { var s = AlertSettings(); s.defaultChannels = ["C0X"]; return s }(),
                             sink: sinks, clock: r.bot.clock, logger: .quiet)
        #expect(await desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.undeliverable))
        #expect(await sinks.find("ep-x", in: "C0X", since: Date()) == nil)
    }
}
