@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWhatsApp
import Foundation
import Testing

/// Alerts for a WhatsApp recipient: queued with the alert, sent at the pair rate, piled-up
/// ones coalesced, none lost. The Graph API emulator allows no burst at all here (one message
/// per 6 s), stricter than Meta.
@Suite struct WhatsAppAlertsTests {
    static let alice = "+491701234567"

    func channel(_ bot: Bot, _ wa: WhatsAppEmulator) -> WhatsAppChannel {
        var settings = WhatsAppSettings(phoneNumberID: WhatsAppEmulator.phoneNumberID)
        settings.apiURL = wa.apiURL
        settings.version = WhatsAppEmulator.version
        settings.people = [.init(number: Self.alice, userID: nil, slack: "U111", name: "Alice")]
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let api = GraphAPI(http: http, baseURL: wa.apiURL, version: WhatsAppEmulator.version, phoneNumberID: WhatsAppEmulator.phoneNumberID,
                           token: WhatsAppSecret(WhatsAppEmulator.token, kind: "token")!, logger: .quiet)
        return WhatsAppChannel(settings: settings, api: api, appSecret: WhatsAppSecret("s", kind: "s")!, verifyToken: WhatsAppSecret("v", kind: "v")!,
                               engine: bot.engine, store: bot.store, messages: sharedGrammar.messages(for: "en"), logger: .quiet)
    }

    /// A desk that sends alarms matching `pattern` to `person` on WhatsApp (and the default channel).
    func desk(_ r: AlertDeskTests.Rig, _ channel: WhatsAppChannel, routing pattern: String, to person: String) -> AlertDesk {
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        settings.routes = [AlertRoute(match: AlertRoute.Match(alarm: pattern), channels: [], people: [person], continues: false)]
        return AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: r.chat, clock: r.bot.clock,
                         whatsAppRecipients: { channel.conversations(for: $0) }, logger: .quiet)
    }

    @Test func aStormOf200AlertsToOnePersonKeepsThePairRateAndLosesNothing() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.pairBurst(1)
        wa.personWrote(String(Self.alice.dropFirst()))
        let channel = channel(r.bot, wa)
        var settings = AlertSettings()
        settings.defaultChannels = ["C0ALERTS01"]
        settings.storm.posts = 0
        settings.routes = [AlertRoute(match: AlertRoute.Match(alarm: "storm-*"), channels: [], people: [Self.alice], continues: false)]
        let desk = AlertDesk(store: r.bot.store, engine: r.bot.engine, settings: settings, sink: r.chat, clock: r.bot.clock,
                             whatsAppRecipients: { channel.conversations(for: $0) }, logger: .quiet)
        let sending = Task {
            while !Task.isCancelled {
                await channel.sendAlerts()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { sending.cancel() }
        let started = ContinuousClock.now
        // 200 new alarms over about 13 s.
        for i in 0..<200 {
            #expect(await desk.take(body: r.body("storm-\(i)", "ALARM", minute: i), queueMessageID: "q-\(i)") == .done(.posted))
            try await Task.sleep(for: .milliseconds(65))
        }
        try await wa.wait("every alert sent", timeout: .seconds(30)) {
            ((try? r.bot.store.whatsAppAlertCounts()) ?? (0, 0, 0)).sent == 200
        }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        let counts = try r.bot.store.whatsAppAlertCounts()
        #expect(counts.queued == 200 && counts.givenUp == 0)
        #expect(wa.pairRateViolations == 0)
        let messages = wa.accepted.filter { $0.to == Self.alice }
        #expect(messages.count <= Int(elapsed / 6) + 2, "\(messages.count) messages in \(elapsed) s")
        #expect(messages.count >= 2)
        // A lone alert has its buttons; piled-up ones come as a summary naming how many: 200 in all.
        let named = messages.map { m -> Int in
            if m.type == "interactive" { return 1 }
            return Int((m.body["text"]?["body"]?.string ?? "").prefix { $0.isNumber }) ?? 0
        }.reduce(0, +)
        #expect(named == 200, "\(messages.map { $0.body["text"]?["body"]?.string?.prefix(20) ?? "buttons" })")
    }

    @Test func outsideTheWindowAnAlertGoesAsTheTemplateWithItsQuickReplies() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let channel = channel(r.bot, wa)
        let desk = desk(r, channel, routing: "cpu-*", to: "U111")
        #expect(await desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.posted))
        await channel.sendAlerts()
        let sends = wa.sends.filter { $0.to == Self.alice }
        #expect(sends.map(\.type) == ["interactive", "template"])
        #expect(sends.first?.refused == 131047)
        let template = try #require(sends.last)
        #expect(template.body["template"]?["name"] == "convops_alert")
        let payloads = (template.body["template"]?["components"]?.array ?? []).compactMap { $0["parameters"]?[0]?["payload"]?.string }
        let episode = try #require(payloads.first?.split(separator: ":").last.map(String.init))
        #expect(payloads == ["ack:\(episode)", "fix:\(episode)", "snooze:\(episode)"], "three quick replies, as the template has")
        #expect(template.body["biz_opaque_callback_data"]?.string == "al:" + episode)
        // A tap on its quick reply acknowledges, as the Slack button does.
        let person = Person(id: "U111", name: "Alice")
        let conversation = r.bot.store.whatsAppChannel(waID: String(Self.alice.dropFirst()))
        await channel.alertTap("ack", episodeID: episode, context: template.messageID, person: person, to: Self.alice, channel: conversation)
        #expect(try r.bot.store.episode(id: episode)?.acknowledgedBy != nil)
        // A tap naming the alert from another message is refused.
        await channel.alertTap("snooze", episodeID: episode, context: "wamid.OTHER", person: person, to: Self.alice, channel: conversation)
        #expect(try r.bot.store.activeSnoozes().isEmpty)
        #expect(try r.bot.store.auditEntries(limit: 10).contains { $0.decision == .refused })
    }

    /// Meta accepts, then says in a status that the window had closed (the usual way 131047
    /// comes): the alert goes again as its template; statuses in any order never go backwards.
    @Test func aLateWindowFailureSendsTheAlertAgainAsTheTemplate() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(Self.alice.dropFirst()))
        let channel = channel(r.bot, wa)
        let desk = desk(r, channel, routing: "cpu-*", to: Self.alice)
        #expect(await desk.take(body: r.body("cpu-high", "ALARM", minute: 0), queueMessageID: "q-1") == .done(.posted))
        await channel.sendAlerts()
        let first = try #require(wa.accepted.first)
        #expect(first.type == "interactive")
        let reference = try #require(first.body["biz_opaque_callback_data"]?.string)
        #expect(reference.hasPrefix("al:ep-"))
        func status(_ state: DeliveryStatus.State, code: Int? = nil) -> WebhookEvent {
            .status(DeliveryStatus(messageID: first.messageID ?? "", state: state, timestamp: Date(), recipient: String(Self.alice.dropFirst()),
                                   errors: code.map { [WhatsAppErrorDetail(code: $0, title: "Re-engagement message")] } ?? [],
                                   callbackData: reference, phoneNumberID: WhatsAppEmulator.phoneNumberID))
        }
        try await channel.handle(status(.sent))
        try await channel.handle(status(.failed, code: 131047))
        try await channel.handle(status(.delivered))
        try await channel.handle(status(.failed, code: 131047))
        // Sent again in the person's turn, not in the webhook worker's.
        try await wa.wait("the alert again as the template") { wa.accepted.contains { $0.type == "template" } }
        try await Task.sleep(for: .milliseconds(300))
        let templates = wa.accepted.filter { $0.type == "template" }
        #expect(templates.count == 1, "sent again once, however often the failure is repeated")
        #expect(templates.first?.body["template"]?["name"] == "convops_alert")
        #expect(try r.bot.store.recordDeliveryStatus(messageID: first.messageID ?? "", state: "sent", rank: 1, errorCode: nil, at: Date()).state == "failed")
        // Its quick reply is the alert's button now.
        let episode = String(reference.dropFirst(3))
        let conversation = r.bot.store.whatsAppChannel(waID: String(Self.alice.dropFirst()))
        await channel.alertTap("ack", episodeID: episode, context: templates.first?.messageID, person: Person(id: "U111", name: "Alice"),
                               to: Self.alice, channel: conversation)
        #expect(try r.bot.store.episode(id: episode)?.acknowledgedBy != nil)
    }

    /// Several resources answer to a name: WhatsApp offers them as a list to tap, each row
    /// saying what picking it means; more than ten, or rows too long, fall back to the text.
    @Test func anAmbiguousNameComesAsAListToPickFrom() async throws {
        let r = try AlertDeskTests.Rig()
        defer { r.bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.personWrote(String(Self.alice.dropFirst()))
        let channel = channel(r.bot, wa)
        let conversation = r.bot.store.whatsAppChannel(waID: String(Self.alice.dropFirst()))
        let choices = ["i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"].map {
            Reply.Choice(label: "web-1", detail: "EC2 instance, prod/eu-west-1", say: "the one \($0)")
        }
        await channel.deliver(.choose("“web-1” matches 2 resources", choices), to: Self.alice, channel: conversation)
        let list = try #require(wa.accepted.last)
        #expect(list.type == "interactive" && list.body["interactive"]?["type"] == "list")
        let rows = (list.body["interactive"]?["action"]?["sections"]?[0]?["rows"]?.array ?? [])
        #expect(rows.compactMap { $0["id"]?.string } == ["say:the one i-0aaaaaaaaaaaaaaa1", "say:the one i-0bbbbbbbbbbbbbbb2"])
        #expect(rows.allSatisfy { $0["title"] == "web-1" })
        let many = (0..<11).map { Reply.Choice(label: "web-1", say: "the one i-\($0)") }
        await channel.deliver(.choose("“web-1” matches 11 resources", many), to: Self.alice, channel: conversation)
        #expect(wa.accepted.last?.type == "text")
        #expect(Reply.choose("x", choices).isRefusal)
    }
}
