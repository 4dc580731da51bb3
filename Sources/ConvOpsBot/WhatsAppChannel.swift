import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import ConvOpsWebSocket
import ConvOpsWhatsApp
import Foundation
import Logging
import Synchronization

/// WhatsApp as a channel: the webhook (on the libwebsockets server) keeps each verified body
/// and answers at once; one worker then reads the kept bodies in order, acts on each message
/// once (by its wamid), and answers through the Graph API. Commands, plans with Confirm /
/// Cancel reply buttons and decisions go through the same engine, policy and request service
/// as Slack; a person configured with both is one person.
public final class WhatsAppChannel: Sendable {
    let settings: WhatsAppSettings
    let engine: Engine
    let store: Store
    let sender: WhatsAppSender
    let endpoint: WebhookEndpoint
    let m: Messages
    let logger: Logger
    let wake: AsyncStream<Void>.Continuation
    let woken: AsyncStream<Void>
    let server = Mutex<WebServer?>(nil)
    /// Numbers that changed since the config was written, by person id.
    let numbers = Mutex<[String: String]>([:])
    /// When each unknown sender was last told no (a keyed hash, never the number), at most hourly.
    let refusedAt = Mutex<[String: Date]>([:])
    /// WhatsApp ids already learned this run (see `learn`): not written again with every send.
    let learned = Mutex<Set<String>>([])
    /// How a Slack user stands, when Slack runs in this process (see `standing(of:)`).
    let slackStanding = Mutex<(@Sendable (String) async -> Standing)?>(nil)
    /// When each conversation last got an alert message.
    let alertSentAt = Mutex<[String: Date]>([:])
    let onAcknowledged = Mutex<(@Sendable (AlertEpisode, String) async -> Void)?>(nil)
    /// One message at a time per sender, in the order they came.
    let turns = AlertDesk.Turns()
    /// Work taken off the inbox and not finished yet: a stop waits for it (see `serve`).
    let inFlight = Mutex(0)
    /// How long a stop waits for work in hand.
    static let drain: Duration = .seconds(20)

    /// Runs `body` in `key`'s turn, counted as work in hand until it ends.
    func run(_ key: String, _ body: @escaping @Sendable () async -> Void) {
        inFlight.withLock { $0 += 1 }
        turns.submit(key) { [self] in
            await body()
            inFlight.withLock { $0 -= 1 }
        }
    }

    let hub: ChannelHub

    public init(settings: WhatsAppSettings, api: GraphAPI, appSecret: WhatsAppSecret, verifyToken: WhatsAppSecret,
                engine: Engine, store: Store, messages: Messages, hub: ChannelHub = ChannelHub(), logger: Logger) {
        self.hub = hub
        self.settings = settings
        self.engine = engine
        self.store = store
        self.m = messages
        self.logger = logger
        self.sender = WhatsAppSender(api: api, settings: settings, logger: logger)
        (woken, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let wake = wake
        endpoint = WebhookEndpoint(path: settings.path, appSecret: appSecret, verifyToken: verifyToken) { body in
            try store.receiveWebhook(body, id: AlertDesk.newID("wh"), at: Date())
            wake.yield()
        }
        hub.join(self)
    }

    /// The port the webhook listens on, once started (0 before).
    public var port: Int { server.withLock { $0?.port ?? 0 } }
    public var webhookCounts: WebhookEndpoint.Counts { endpoint.counts }
    /// Why sending stopped (an expired token), if it did.
    public var stoppedReason: String? { get async { await sender.stopped } }

    /// Listens, then works through kept bodies until `stop` says so; a body kept before a
    /// restart is processed after it.
    public func serve(until stop: @escaping @Sendable () -> Bool) async throws {
        let web = try endpoint.listen(interface: settings.interface, port: settings.port)
        server.withLock { $0 = web }
        numbers.withLock { $0 = (try? store.changedNumbers()) ?? [:] }
        logger.info("whatsapp.listening", metadata: ["whatsapp.port": "\(web.port)", "whatsapp.path": "\(settings.path)"])
        defer { web.shutdown() }
        let ticker = Task { [wake] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        // Alerts on their own loop: a long run started by a tap never holds them up.
        let alerts = Task { [self] in
            while !Task.isCancelled, !stop() {
                await sendAlerts()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        defer { alerts.cancel() }
        var pruned = Date.distantPast
        for await _ in woken {
            if stop() { break }
            await processKept()
            if Date().timeIntervalSince(pruned) > 3600 {
                // Meta redelivers for up to 7 days: ids are kept 8, then forgotten.
                try? store.pruneWhatsApp(before: Date().addingTimeInterval(-Self.redeliveryWindow - 86_400))
                try? store.pruneUndelivered(before: Date().addingTimeInterval(-Double(Store.undeliveredDays) * 86_400))
                pruned = Date()
            }
        }
        // Stopping: what was taken off the inbox finishes (a running plan among it), within the drain.
        let deadline = ContinuousClock.now + Self.drain
        while inFlight.withLock({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How long Meta sends a webhook again when it got no 200.
    static let redeliveryWindow: TimeInterval = 7 * 86_400

    public func shutdown() { wake.finish() }

    func processKept() async {
        guard let kept = try? store.pendingWebhooks(limit: 50) else { return }
        for delivery in kept {
            do {
                let events = try WebhookEvent.parse(delivery.body)
                for event in events { try await handle(event) }
                try store.processedWebhook(id: delivery.id)
            } catch let error as WebhookParseError {
                // Signed by Meta but not a notification we read: nothing to retry.
                logger.warning("whatsapp.unreadable", metadata: ["whatsapp.reason": "\(error.description)"])
                try? store.processedWebhook(id: delivery.id)
            } catch {
                // Tried again with the next round, at most five times (then `check` counts it);
                // the bodies after it go on meanwhile.
                logger.warning("whatsapp.process_failed", metadata: ["error.message": "\(error)", "whatsapp.attempt": "\(delivery.attempts + 1)"])
                try? store.webhookFailed(id: delivery.id, reason: "\(type(of: error))")
            }
        }
    }

    func handle(_ event: WebhookEvent) async throws {
        switch event {
        case .message(let message):
            guard message.phoneNumberID == settings.phoneNumberID else {
                logger.warning("whatsapp.other_number", metadata: ["whatsapp.reason": "a message to another business number"])
                return
            }
            // Older than the redelivery window: its id may be forgotten, so it is not acted on.
            guard Date().timeIntervalSince(message.timestamp) < Self.redeliveryWindow else {
                logger.notice("whatsapp.too_old", metadata: ["whatsapp.reason": "a message older than 7 days"])
                return
            }
            // Acted on once: Meta redelivers for days when it did not get its 200 in time. Marked
            // first (as a Slack envelope is acknowledged first), then acted on in the sender's
            // own turn, so one person's long run holds up nobody else.
            guard try store.markWhatsAppMessage(message.id, at: Date()) else { return }
            // A new number is taken at once: the person's next messages come from it.
            if case .numberChanged = message.content { return await act(on: message) }
            // In the order they came, per person (strangers share one turn: theirs is a refusal).
            run(contact(for: message)?.personID ?? "stranger") { [self] in await act(on: message) }
        case .status(let status) where status.phoneNumberID != settings.phoneNumberID:
            logger.warning("whatsapp.other_number", metadata: ["whatsapp.reason": "a status from another business number"])
        case .status(let status):
            let after = try store.recordDeliveryStatus(messageID: status.messageID, state: status.state.rawValue, rank: status.state.rank,
                                                       errorCode: status.errors.first?.code, at: status.timestamp)
            if after.changed, status.state == .failed {
                logger.warning("whatsapp.delivery_failed", metadata: ["whatsapp.code": "\(status.errors.first?.code ?? 0)",
                                                                      "whatsapp.error": "\(WhatsAppSender.withoutNumbers(status.errors.first?.title ?? "-"))"])
                // Accepted, then refused for the 24-hour window (Meta often says so only now):
                // an alert or an approval request goes again as its template.
                failedLater(status)
                if status.errors.contains(where: { $0.code == 131047 }), let reference = status.callbackData {
                    let to = dialled(recipient: status.recipient) ?? "+" + status.recipient
                    let key = settings.people.first { number(of: $0) == to }?.personID ?? "stranger"
                    run(key) { [self] in await resendAsTemplate(reference, failed: status.messageID, to: to) }
                }
            }
        case .error(let error):
            logger.error("whatsapp.error", metadata: ["whatsapp.code": "\(error.code)", "whatsapp.error": "\(error.title)"])
        case .unknown(let what):
            logger.notice("whatsapp.ignored", metadata: ["whatsapp.reason": "\(what)"])
        }
    }
}
