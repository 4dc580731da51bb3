import ConvOpsCore
import ConvOpsGrammar
import ConvOpsSlack
import ConvOpsStore
import Foundation
import Logging
import Synchronization

/// Slack as a channel: Socket Mode envelopes in, Block Kit cards and replies out.
///
/// A plan is posted as a card with Confirm and Cancel; the same card is updated in place as the
/// request moves on, and loses its buttons once decided. Approvals go to the approvers'
/// channel as a second card. Buttons carry only the request id: a click is checked against
/// the card it came from (a value copied onto another message is refused), then against the
/// policy for the person clicking, inside the engine.
public final class SlackChannel: Sendable {
    public struct Options: Sendable {
        /// Where approval requests go; nil: the channel the request was made in.
        public var approvalChannel: String?
        /// How long stopping waits for the envelopes in hand (a running plan) before closing.
        public var drain: Duration
        /// Channels where log lines and error details are shown to everyone (config
        /// `channels.<id>.share_logs`); elsewhere only the person who asked sees them.
        public var sharedLogChannels: Set<String>

        public init(approvalChannel: String? = nil, drain: Duration = .seconds(20), sharedLogChannels: Set<String> = []) {
            self.sharedLogChannels = sharedLogChannels
            self.approvalChannel = approvalChannel
            self.drain = drain
        }
    }

    let engine: Engine
    let api: SlackWebAPI
    let socket: SocketModeClient
    let options: Options
    let logger: Logger
    let m: Messages
    /// The process's other channels (WhatsApp), for requests that span them.
    let hub: ChannelHub
    /// How long each alert post waited for Slack's pace, until its buttons are added.
    let alertDelays = Mutex<[String: Int]>([:])
    /// Who the bot is and where it lives (auth.test): every envelope is checked against it.
    let identity = Mutex<SlackIdentity?>(nil)
    var botUserID: String? { identity.withLock { $0?.userID } }
    /// Envelopes being handled now; past `envelopesInFlight` new ones are dropped.
    private let inFlight = Mutex(0)
    /// When the first stop began: the bound covers the whole stop, however many waits it has.
    private let drainDeadline = Mutex<ContinuousClock.Instant?>(nil)
    static let envelopesInFlight = 256
    /// Envelopes past the bound, waiting to be told "busy" (see `shed`), and the tasks telling them.
    let shed = Mutex(ShedQueue())
    /// Alert posts per channel at Slack's pace (about one a second).
    let pacer = ChannelPacer()

    public init(engine: Engine, api: SlackWebAPI, socket: SocketModeClient, messages: Messages,
                options: Options = Options(), hub: ChannelHub = ChannelHub(), logger: Logger) {
        self.engine = engine
        self.api = api
        self.socket = socket
        self.options = options
        self.logger = logger
        self.hub = hub
        m = messages
        hub.join(self)
    }

    /// Serves until the socket manager stops (`drain()`, or a fatal error such as a revoked token);
    /// returns why. Expiry and retention are the `Sweeper`'s, which `announce`s through here.
    public func serve() async -> String {
        do {
            let me = try await api.authTest()
            identity.withLock { $0 = me }
            logger.info("slack.auth", metadata: ["slack.bot_user": "\(me.userID)", "slack.team": "\(me.teamID ?? "-")",
                                                 "slack.app": "\(me.appID ?? "-")"])
        } catch {
            // A bad bot token would fail every reply: stop before taking any request.
            if error.isFatalForToken { return error.description }
            logger.warning("slack.auth_test_failed", metadata: ["error.message": "\(error)"])
        }
        for reply in await engine.recover() { await announce(reply) }
        // What the socket's bounded intake cannot hold is told "busy" like what is past the
        // bound of envelopes in flight.
        socket.onOverflow { [weak self] envelope in self?.shedding(envelope) }
        let consumer = Task { [self] in
            await withDiscardingTaskGroup { group in
                for await envelope in socket.envelopes {
                    // Each envelope on its own: a slow AWS call must not hold up the next click. A
                    // flood beyond the bound is told "busy" (it is acknowledged), not queued without end.
                    let admitted = inFlight.withLock { n -> Bool in
                        guard n < Self.envelopesInFlight else { return false }
                        n += 1
                        return true
                    }
                    // After it counts as in flight: a stop waiting for work in hand never sees a gap.
                    socket.took(envelope)
                    guard admitted else {
                        shedding(envelope)
                        continue
                    }
                    group.addTask {
                        defer { self.inFlight.withLock { $0 -= 1 } }
                        await self.handle(envelope)
                    }
                }
            }
        }
        let reason = await socket.run()
        // However it stopped (drained, or a revoked token), the work in hand gets its time. A
        // run that outlasts the bound is not cancelled (its outcome would be a guess): the
        // process may exit under it, and the next start marks it outcome unknown.
        await finishWorkInHand()
        _ = consumer
        return reason
    }

    /// What the bot says on its own about a request (expired, expiring, found interrupted):
    /// on the request's card, or under it.
    public func announce(_ reply: Reply) async { await deliver(reply, to: .system) }

    /// Stopping: takes no new envelopes, lets the ones in hand and the ones already taken off
    /// the socket finish (a running plan among them) for at most `options.drain`, then closes
    /// the sockets, last.
    public func drain() async {
        socket.stopIntake()
        await finishWorkInHand()
        socket.shutdown()
    }

    /// Waits, at most `options.drain` (once per stop), until no envelope is being handled or
    /// waits to be.
    private func finishWorkInHand() async {
        let deadline = drainDeadline.withLock { d in
            if d == nil { d = ContinuousClock.now + options.drain }
            return d!
        }
        func busy() -> Int { inFlight.withLock { $0 } + socket.waiting }
        if busy() > 0 { logger.notice("slack.draining", metadata: ["slack.in_flight": "\(busy())", "slack.drain": "\(options.drain)"]) }
        while busy() > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if busy() > 0 { logger.warning("slack.drain_timed_out", metadata: ["slack.in_flight": "\(busy())"]) }
    }


    // MARK: Inbound

    /// Where replies go for one inbound event.
    enum Context: Sendable {
        /// A slash command: answers privately through its response_url.
        case slash(channel: String, user: String, responseURL: String?)
        /// A mention or DM: answers in the thread (or the DM); details only to the asker.
        case message(channel: String, user: String, threadTS: String?)
        /// A click: refusals privately to the clicker.
        case click(channel: String, user: String)
        /// The bot's own events (expiry, recovery): cards only, warnings in the card's thread.
        case system

        var channel: String? {
            switch self {
            case .slash(let c, _, _), .message(let c, _, _), .click(let c, _): c
            case .system: nil
            }
        }
    }

    func handle(_ envelope: Envelope) async {
        let inbound = SlackInbound.read(envelope)
        if case .ignored = inbound {} else {
            // Another workspace, another app, another organisation: acknowledged (the socket
            // did), recorded as refused, and dropped unanswered.
            guard let me = await ownIdentity() else {
                logger.warning("slack.envelope_dropped", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.detail": "auth.test has not answered"])
                return
            }
            if let why = SlackOrigin.of(envelope).mismatch(with: me) {
                let user = inbound.userID ?? "unknown"
                await engine.recordRefusal(action: "slack.\(envelope.type)", target: "-", by: Person(id: user, name: user),
                                           why: "envelope from elsewhere: \(why)", requestID: nil)
                logger.warning("slack.envelope_refused", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.detail": "\(why)"])
                return
            }
        }
        switch inbound {
        case .slashCommand(let command):
            let (person, standing) = await person(command.userID, fallback: command.userName)
            let text = command.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let context = Context.slash(channel: command.channelID, user: command.userID, responseURL: command.responseURL)
            let replies = await engine.handle(InboundMessage(text: text.isEmpty ? "help" : Self.unescape(text),
                                                             person: person, channel: command.channelID, standing: standing))
            for reply in replies { await deliver(reply, to: context) }
        case .message(let message):
            guard message.userID != botUserID else { return }
            let (person, standing) = await person(message.userID, fallback: message.userID)
            let text = Self.stripMentions(message.text)
            let context = Context.message(channel: message.channelID, user: message.userID,
                                          threadTS: message.isDirect ? nil : (message.threadTS ?? message.ts))
            let replies = await engine.handle(InboundMessage(text: text.isEmpty ? "help" : text, person: person, channel: message.channelID,
                                                             standing: standing, thread: message.isDirect ? nil : message.threadTS,
                                                             opensThread: message.isDirect || message.threadTS != nil ? nil : message.ts))
            for reply in replies { await deliver(reply, to: context) }
        case .blockAction(let action):
            await click(action)
        case .ignored(let why):
            logger.debug("slack.ignored", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.detail": "\(why)"])
        }
    }

    private func click(_ action: SlackInbound.BlockAction) async {
        let (person, standing) = await person(action.userID, fallback: action.userName)
        let channel = action.channelID ?? ""
        let context = Context.click(channel: channel, user: action.userID)
        if let alertAction = BlockKit.AlertAction(rawValue: action.actionID) {
            await alertClick(action, alertAction, person: person, standing: standing)
            return
        }
        guard let id = BlockKit.ActionID(rawValue: action.actionID), let button = Self.button(id) else {
            await engine.recordRefusal(action: "click", target: String(action.actionID.prefix(64)), by: person,
                                       why: "unknown button", requestID: nil)
            await say(m.text("slack.unknown_button"), to: context)
            return
        }
        // ConvOps's buttons carry a request id and nothing else.
        guard Self.isRequestID(action.value) else {
            await engine.recordRefusal(action: button.rawValue, target: "-", by: person, why: "button not on that request's message",
                                       requestID: nil)
            await say(m.text("request.not_its_card"), to: context)
            return
        }
        // The request service checks that the button sits on the card recorded for that very
        // request, in the role its decision needs (cards are recorded before their buttons are
        // added), then the policy.
        let card = MessageRef(role: Engine.cardRole(for: button), channel: channel, ts: action.messageTS ?? "")
        let replies = await engine.click(button, requestID: action.value, card: card, by: person,
                                         from: Origin(channel: channel, standing: standing), progress: { [self] reply in
            await deliver(reply, to: context)
        })
        for reply in replies { await deliver(reply, to: context) }
    }

    // MARK: Helpers

    /// The person behind a Slack user id, named from users.info (cached), and how they belong
    /// here: guests (restricted accounts) and people of other organisations are not
    /// "everyone". When users.info does not answer, they count as outsiders (fail closed).
    private func person(_ id: String, fallback: String, maxAge: Duration = SlackWebAPI.userCacheTTL) async -> (Person, Standing) {
        guard let user = try? await api.user(id, maxAge: maxAge) else {
            logger.notice("slack.user_unknown", metadata: ["slack.user": "\(id)"])
            return (Person(id: id, name: fallback), .external)
        }
        let me = identity.withLock { $0 }
        // Another workspace is outside, even one of the same Enterprise Grid organisation.
        // Deactivated accounts and bots are nobody's standing here (a WhatsApp contact may
        // still name a Slack user who has left).
        let standing: Standing = if user.isDeleted || user.isBot || user.isStranger || user.teamID == nil || user.teamID != me?.teamID {
            .external
        } else if user.isRestricted {
            .guest
        } else {
            .member
        }
        return (Person(id: id, name: user.name), standing)
    }

    /// How the Slack user `id` belongs here now (for WhatsApp people linked to them).
    /// Read again after a minute: someone demoted or deactivated in Slack loses what "*"
    /// gave them on WhatsApp within a minute, not an hour.
    public func standing(ofUser id: String) async -> Standing { await person(id, fallback: id, maxAge: .seconds(60)).1 }

    /// The bot's identity, asking auth.test again if it did not answer at start.
    func ownIdentity() async -> SlackIdentity? {
        if let known = identity.withLock({ $0 }) { return known }
        guard let me = try? await api.authTest() else { return nil }
        identity.withLock { $0 = me }
        return me
    }

    var labels: BlockKitLabels {
        BlockKitLabels(confirm: m.text("slack.confirm"), cancel: m.text("slack.cancel"), approve: m.text("slack.approve"),
                       reject: m.text("slack.reject"), dialogTitle: m.text("slack.dialog_title"), dialogText: m.text("slack.dialog_text"),
                       dialogConfirm: m.text("slack.dialog_confirm"), dialogDeny: m.text("slack.dialog_deny"),
                       resource: m.text("slack.field_resource"), account: m.text("slack.field_account"),
                       region: m.text("slack.field_region"), calls: m.text("slack.field_calls"))
    }

    /// Production changes and changes that need a second person get a confirmation dialog.
    static func isHighRisk(_ request: Request) -> Bool {
        request.plan.action.intentKind.risk == .mutating && (request.approvalRequired || request.environment == "prod")
    }

    static func button(_ id: BlockKit.ActionID) -> Engine.Button? {
        switch id {
        case .confirm: .confirm
        case .cancel: .cancel
        case .approve: .approve
        case .reject: .reject
        }
    }

    static func isRequestID(_ s: String) -> Bool { RequestID.isValid(s) }

    /// "<@U0LAN0Z89> restart web-1" → "restart web-1"; Slack's &amp; &lt; &gt; undone.
    static func stripMentions(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "<@") {
            out += rest[rest.startIndex..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: ">") else { rest = rest[open.lowerBound...]; break }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return unescape(out.split(whereSeparator: \.isWhitespace).joined(separator: " "))
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }
}
