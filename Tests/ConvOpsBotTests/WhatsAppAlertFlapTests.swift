@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// A recovered alarm that flaps back: the WhatsApp person is told it is flapping (once) and
/// hears its next recovery; further flaps stay on the Slack card, never a message each.
@Suite struct WhatsAppAlertFlapTests {
    @Test func aFlapAfterRecoveryIsToldOnceAndItsNextRecoveryToo() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(WhatsAppAlertsTests.alice.dropFirst()))
        let base = WhatsAppAlertsTests()
        let channel = base.channel(r.bot, wa)
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        settings.episodes.flapChanges = 4
        settings.routes = [AlertRoute(match: AlertRoute.Match(alarm: "flappy"), channels: [], people: [WhatsAppAlertsTests.alice], continues: false)]
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: r.chat, clock: r.bot.clock,
                             whatsAppRecipients: { channel.conversations(for: $0) }, logger: .quiet)
        for (i, state) in ["ALARM", "OK", "ALARM", "OK", "ALARM", "OK", "ALARM", "OK"].enumerated() {
            r.bot.clock.advance(by: 120)
            _ = await desk.take(body: r.body("flappy", state, minute: i * 2), queueMessageID: "q-\(i)")
        }
        func queued() throws -> [String] { try r.bot.store.pendingWhatsAppAlerts().map { "\($0.kind.rawValue)\($0.seq)" } }
        // Two episodes: the first opened and resolved; the second opened, resolved, flapped back
        // (said once); its recoveries while it flaps are not news here (it may fire again in a minute).
        #expect(try queued() == ["opened0", "resolved0", "opened0", "resolved0", "flapping0"], "\((try? queued()) ?? [])")
        #expect(r.chat.seen.withLock { $0.replies.filter { $0.change == .flapping }.count } == 1)
        await desk.settleFlaps()
        #expect(try queued().count == 5, "not settled before the flapping window has passed")
        // Closed for the whole flapping window: now it is news that it settled, once.
        r.bot.clock.advance(by: 1801)
        await desk.settleFlaps()
        await desk.settleFlaps()
        #expect(try queued() == ["opened0", "resolved0", "opened0", "resolved0", "flapping0", "resolved1"], "\((try? queued()) ?? [])")
        // What piled up goes as one summary, the flap among its lines.
        await channel.sendAlerts()
        let text = try #require(wa.accepted.last?.body["text"]?["body"]?.string)
        #expect(text.hasPrefix("6 alerts"), "\(text)")
        #expect(text.contains("🔁") && text.contains("flapping"), "\(text)")
        #expect(try r.bot.store.pendingWhatsAppAlerts().isEmpty)
    }

    /// A flap told alone comes with the alert's buttons: it is firing again.
    @Test func aFlapToldAloneHasTheAlertsButtons() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(WhatsAppAlertsTests.alice.dropFirst()))
        let channel = WhatsAppAlertsTests().channel(r.bot, wa)
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        settings.episodes.flapChanges = 2
        settings.routes = [AlertRoute(match: AlertRoute.Match(alarm: "flappy"), channels: [], people: [WhatsAppAlertsTests.alice], continues: false)]
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: r.chat, clock: r.bot.clock,
                             whatsAppRecipients: { channel.conversations(for: $0) }, logger: .quiet)
        for (i, state) in ["ALARM", "OK"].enumerated() {
            r.bot.clock.advance(by: 120)
            _ = await desk.take(body: r.body("flappy", state, minute: i * 2), queueMessageID: "q-\(i)")
        }
        try r.bot.store.sentWhatsAppAlerts(try r.bot.store.pendingWhatsAppAlerts(), messageRef: "earlier", at: Date())
        r.bot.clock.advance(by: 120)
        _ = await desk.take(body: r.body("flappy", "ALARM", minute: 4), queueMessageID: "q-2")
        #expect(try r.bot.store.pendingWhatsAppAlerts().map(\.kind) == [.flapping])
        await channel.sendAlerts()
        let sent = try #require(wa.accepted.last)
        #expect(sent.type == "interactive")
        #expect(sent.body["interactive"]?["body"]?["text"]?.string?.hasPrefix("🔁") == true)
        let ids = (sent.body["interactive"]?["action"]?["buttons"]?.array ?? []).compactMap { $0["reply"]?["id"]?.string }
        #expect(ids.contains { $0.hasPrefix("ack:") } && ids.contains { $0.hasPrefix("snooze:") }, "\(ids)")
        // Its buttons work: the tap is checked against this very message.
        let episode = try #require(ids.first { $0.hasPrefix("ack:") }.map { String($0.dropFirst(4)) })
        let conversation = r.bot.store.whatsAppChannel(waID: String(WhatsAppAlertsTests.alice.dropFirst()))
        await channel.alertTap("ack", episodeID: episode, context: sent.messageID, person: Person(id: "U111", name: "Alice"),
                               to: WhatsAppAlertsTests.alice, channel: conversation)
        #expect(try r.bot.store.episode(id: episode)?.acknowledgedBy != nil)
    }
}
