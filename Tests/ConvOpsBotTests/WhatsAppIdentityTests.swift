@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsHTTP
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWhatsApp
import Foundation
import Testing

/// Meta may know a Brazilian or Mexican person by another id than the number dialled (the
/// ninth digit, Mexico's 1): the id in a send's answer is learned, so that their messages
/// reach them, and never guessed from the digits.
@Suite struct WhatsAppIdentityTests {
    static let dialled = "+5511987654321"
    static let reported = "551187654321"
    static let bob = "+491709876543"

    func channel(_ bot: Bot, _ wa: WhatsAppEmulator) -> WhatsAppChannel {
        var settings = WhatsAppSettings(phoneNumberID: WhatsAppEmulator.phoneNumberID)
        settings.apiURL = wa.apiURL
        settings.version = WhatsAppEmulator.version
        settings.people = [.init(number: Self.dialled, userID: nil, slack: "U111", name: "Alice"),
                           .init(number: Self.bob, userID: nil, slack: "U222", name: "Bob")]
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let api = GraphAPI(http: http, baseURL: wa.apiURL, version: WhatsAppEmulator.version, phoneNumberID: WhatsAppEmulator.phoneNumberID,
                           token: WhatsAppSecret(WhatsAppEmulator.token, kind: "token")!, logger: .quiet)
        let channel = WhatsAppChannel(settings: settings, api: api, appSecret: WhatsAppSecret("s", kind: "s")!, verifyToken: WhatsAppSecret("v", kind: "v")!,
                                      engine: bot.engine, store: bot.store, messages: sharedGrammar.messages(for: "en"), logger: .quiet)
        // Both are members of the Slack workspace (as the Slack side would say).
        channel.standings { _ in .member }
        return channel
    }

    func write(_ channel: WhatsAppChannel, _ wa: WhatsAppEmulator, from: String, _ text: String) async throws {
        wa.personWrote(from)
        for event in try WebhookEvent.parse(try wa.textWebhook(from: from, text: text)) { try await channel.handle(event) }
    }

    func texts(_ wa: WhatsAppEmulator, to: String) -> [String] {
        wa.accepted.filter { $0.to == to && $0.type == "text" }.compactMap { $0.body["text"]?["body"]?.string }
    }

    /// The number each configured person has (as the channel dials it).
    static func numberOf(_ person: String) -> String? { ["U111": dialled, "U222": bob][person] }

    @Test func theIdFromASendsAnswerIsLearnedNeverGuessed() async throws {
        let bot = try Bot(policy: .openSolo)
        defer { bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.reportWaID(Self.dialled, as: Self.reported)
        let channel = channel(bot, wa)
        // Before anything was sent to her, the reported form is nobody we know: the digits alone do not make it Alice.
        try await write(channel, wa, from: Self.reported, "whoami")
        try await wa.wait("the refusal") { !texts(wa, to: "+" + Self.reported).isEmpty }
        #expect(texts(wa, to: "+" + Self.reported).first?.contains("not set up for ConvOps") == true)
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == nil)
        // Something goes to her number; Meta's answer names the id it knows her by.
        await channel.sendText("hello", to: Self.dialled)
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == "U111")
        try await write(channel, wa, from: Self.reported, "whoami")
        try await wa.wait("Alice answered at her number") { texts(wa, to: Self.dialled).contains { $0.contains("Alice") } }
        // A late failure names her by that id: parked under her conversation.
        try await channel.handle(.status(DeliveryStatus(messageID: "wamid.X", state: .failed, timestamp: Date(), recipient: Self.reported,
                                                        errors: [WhatsAppErrorDetail(code: 131026, title: "Message undeliverable")],
                                                        phoneNumberID: WhatsAppEmulator.phoneNumberID)))
        #expect(try bot.store.undeliveredWhatsApp(personID: "U111").first?.channel == bot.store.whatsAppChannel(waID: String(Self.dialled.dropFirst())))
        // Kept only as a keyed hash: neither form of the number is in the file.
        for file in [bot.store.path, bot.store.path + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            for plain in [Self.reported, String(Self.dialled.dropFirst())] { #expect(bytes.range(of: Data(plain.utf8)) == nil, "\(plain) in \(file)") }
        }
        #expect(try bot.store.export(chatID: "U111")?.whatsAppIDsLearned == 1)
        // A number change retires what was learned for the old one; erasure removes it too.
        try bot.store.changedNumber(personID: "U111", to: "+5511900000000", at: Date())
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == nil)
        // Learned for a number the config no longer gives her (edited by the operator): not hers any more, and forgotten.
        #expect(try bot.store.learnWhatsAppID(Self.reported, personID: "U111", dialled: "+5511911111111", at: Date()))
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == nil)
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: { _ in "+5511911111111" }) == nil, "forgotten")
        // An id already learned for one person is not moved to another.
        #expect(try bot.store.learnWhatsAppID(Self.reported, personID: "U111", dialled: Self.dialled, at: Date()))
        #expect(try bot.store.learnWhatsAppID(Self.reported, personID: "U222", dialled: Self.bob, at: Date()) == false)
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == "U111")
        _ = try bot.store.erase(chatID: "U111")
        #expect(try bot.store.whatsAppPerson(waID: Self.reported, numberOf: Self.numberOf) == nil)
    }

    /// Meta naming, for Alice's number, the id of Bob's: not learned (Bob stays Bob).
    @Test func anIdThatIsAnotherPersonsNumberIsNotLearned() async throws {
        let bot = try Bot(policy: .openSolo)
        defer { bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        wa.reportWaID(Self.dialled, as: Self.bob)
        let channel = channel(bot, wa)
        await channel.sendText("hello", to: Self.dialled)
        #expect(try bot.store.whatsAppPerson(waID: String(Self.bob.dropFirst()), numberOf: Self.numberOf) == nil)
        try await write(channel, wa, from: String(Self.bob.dropFirst()), "whoami")
        try await wa.wait("Bob answered") { texts(wa, to: Self.bob).contains { $0.contains("Bob") } }
    }
}

/// How a WhatsApp person linked to a Slack user stands is what Slack says of that user now;
/// with no Slack to ask, a guest: only what the policy names them for.
@Suite struct WhatsAppStandingTests {
    @Test(arguments: [(Standing?.none, Standing.guest), (.member, .member), (.guest, .guest), (.external, .external)])
    func standingFollowsSlack(_ slackSays: Standing?, _ expected: Standing) async throws {
        let bot = try Bot(policy: .openSolo)
        defer { bot.remove() }
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let channel = WhatsAppIdentityTests().channel(bot, wa)
        channel.standings { _ in slackSays ?? .member }
        if slackSays == nil { channel.slackStanding.withLock { $0 = nil } }
        let alice = try #require(channel.settings.people.first { $0.slack == "U111" })
        #expect(await channel.standing(of: alice) == expected)
        let unlinked = WhatsAppSettings.Contact(number: "+491700000001", userID: nil, slack: nil, name: "Eve")
        #expect(await channel.standing(of: unlinked) == .guest, "not linked to Slack: a guest, whatever Slack says")
    }
}
