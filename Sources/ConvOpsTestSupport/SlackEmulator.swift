import ConvOpsSlack
import ConvOpsWebSocket
import Foundation
import Synchronization

/// A Slack stand-in on loopback: `apps.connections.open` and the Socket Mode WebSocket, the
/// Web API methods ConvOps calls, and response_url endpoints, all on one libwebsockets port.
/// It records every call and frame, builds what it sends from the real payloads in
/// `SlackFixtures/`, and can misbehave on purpose: disconnects of every reason, dropped TCP,
/// stalls (no pong), duplicate and late deliveries, 429s.
public final class SlackEmulator: Sendable {
    public static let appToken = "xapp-1-A111-emulator"
    public static let botToken = "xoxb-EXAMPLE-emulator-bot"
    public static let botUserID = "UBOT000001"

    public struct Call: Sendable {
        public var method: String
        public var body: JSON
        public var at: ContinuousClock.Instant
    }

    /// A message posted (and maybe updated) through the Web API.
    public struct Message: Sendable {
        public var channel: String
        public var ts: String
        public var threadTS: String?
        public var text: String
        public var blocks: JSON
        /// Every version, the first post first.
        public var versions: [JSON]
        public var postedAt: ContinuousClock.Instant
    }

    public struct Ephemeral: Sendable {
        public var channel: String
        public var user: String?
        public var text: String
        public var threadTS: String?
    }

    public struct Socket: Sendable {
        public var id: Int
        public var open: Bool
        public var stalled: Bool
        public var openedAt: ContinuousClock.Instant
        public var closedAt: ContinuousClock.Instant?
        /// Told to go (a disconnect was sent): envelopes go elsewhere while another socket is open.
        public var leaving = false
    }

    struct State {
        var calls: [Call] = []
        var tickets: [String: Bool] = [:] // ticket → used
        var sockets: [Int: (connection: WebSocketConnection, info: Socket)] = [:]
        var nextSocket = 1
        var nextTS = 1
        var messages: [Message] = []
        var ephemerals: [Ephemeral] = []
        var sent: [String: (at: ContinuousClock.Instant, frame: String, type: String)] = [:]
        var acks: [String: (at: ContinuousClock.Instant, frame: String)] = [:]
        var ackLatencies: [Duration] = []
        var rateLimits: [String: (remaining: Int, retryAfter: Int)] = [:]
        var errors: [String: String] = [:]
        var channelErrors: [String: String] = [:]
        var users: [String: String] = [:]
        /// users.info fields that differ from a full member of T111 (guests, Slack Connect users).
        var userFields: [String: [String: JSON]] = [:]
        var onConnect: String?
        var nextEnvelope = 1
        var roundRobin = 0
        var pings = 0
        var redelivered: Set<String> = []
    }

    private let state = Mutex(State())
    private let server: WebServer
    public let port: Int
    public var apiURL: String { "http://127.0.0.1:\(port)/api/" }

    public init() throws {
        let box = Box()
        // Acks are timed on the server's own thread, as they arrive, not when a task gets to them.
        let observer: @Sendable (UnsafeRawBufferPointer) -> [UInt8]? = { frame in
            if let id = Envelope.quickID(frame) { box.emulator?.ackArrived(id) }
            return nil
        }
        server = try WebServer(WebServer.Configuration(immediateReply: observer), immediateHTTP: { request in
            box.emulator?.http(request) ?? HTTPServerResponse(status: 503)
        }, webSocket: { connection in
            await box.emulator?.socket(connection)
        })
        port = server.port
        box.emulator = self
    }

    public func shutdown() { server.shutdown() }

    // MARK: Steering

    /// The next `times` calls of `method` get HTTP 429 with Retry-After.
    public func rateLimit(_ method: String, times: Int, retryAfter: Int = 1) {
        state.withLock { $0.rateLimits[method] = (times, retryAfter) }
    }

    /// Every call of `method` fails with Slack's error code (nil to stop).
    public func fail(_ method: String, with error: String?) { state.withLock { $0.errors[method] = error } }

    /// Posting to this channel fails with the error (`not_in_channel`, `channel_not_found`).
    public func failChannel(_ channel: String, with error: String?) { state.withLock { $0.channelErrors[channel] = error } }

    public func addUser(_ id: String, name: String) { state.withLock { $0.users[id] = name } }

    /// A guest (`is_restricted`) or someone of another workspace (`team_id`, `is_stranger`).
    public func addUser(_ id: String, name: String, restricted: Bool = false, ultraRestricted: Bool = false,
                        team: String = SlackEmulator.teamID, stranger: Bool = false) {
        state.withLock {
            $0.users[id] = name
            $0.userFields[id] = ["is_restricted": .bool(restricted), "is_ultra_restricted": .bool(ultraRestricted),
                                 "team_id": .string(team), "is_stranger": .bool(stranger)]
        }
    }

    /// The emulated workspace and app, as auth.test and every envelope name them.
    public static let teamID = "T111"
    public static let appID = "A111"

    /// After every hello, send this disconnect reason at once (for `too_many_websockets`).
    public func disconnectNewSockets(reason: String?) { state.withLock { $0.onConnect = reason } }

    /// Sends `{"type":"disconnect","reason":…}` on a socket; closes it after `closeAfter` if given.
    public func disconnect(_ socket: Int, reason: String, closeAfter: Duration? = nil) async throws {
        let frame = try SlackFixtures.json("socket_disconnect_warning__slack_go.json").setting("reason", .string(reason)).text
        guard let connection = state.withLock({ s -> WebSocketConnection? in
            s.sockets[socket]?.info.leaving = true
            return s.sockets[socket]?.connection
        }) else { return }
        connection.send(frame)
        if let closeAfter {
            try? await Task.sleep(for: closeAfter)
            // As Slack does: no new envelopes on a socket it is about to close, and a moment
            // for acks already on the wire before the close frame.
            state.withLock { $0.sockets[socket]?.info.stalled = true }
            try? await Task.sleep(for: .milliseconds(200))
            connection.close(code: 1000, reason: "refreshed")
        }
    }

    /// Drops a socket's TCP connection with no close frame.
    public func dropTCP(_ socket: Int) {
        let connection = state.withLock { s -> WebSocketConnection? in
            s.sockets[socket]?.info.open = false
            return s.sockets[socket]?.connection
        }
        connection?.drop()
    }

    /// Stops reading a socket and sending on it: a half-open connection.
    public func stall(_ socket: Int) {
        let connection = state.withLock { s -> WebSocketConnection? in
            s.sockets[socket]?.info.stalled = true
            return s.sockets[socket]?.connection
        }
        connection?.stall()
    }

    // MARK: Deliveries (built from the SDK fixtures)

    /// Delivers `/convops TEXT`; returns the envelope id.
    @discardableResult
    /// `team` and `app`: what the envelope claims to come from (another workspace, another app).
    public func slashCommand(_ text: String, user: String = "U111", channel: String = "C111", socket: Int? = nil,
                             team: String = SlackEmulator.teamID, app: String = SlackEmulator.appID) throws -> String {
        let id = newEnvelopeID()
        var payload = try SlackFixtures.json("socket_envelope_slash_commands__python_sdk.json")["payload"] ?? [:]
        for (k, v) in ["command": "/convops", "text": text, "user_id": user, "user_name": user.lowercased(),
                       "channel_id": channel, "response_url": "http://127.0.0.1:\(port)/response/\(id)",
                       "team_id": team, "api_app_id": app] {
            payload = payload.setting(k, .string(v))
        }
        try deliver(envelope(id, "slash_commands", payload, acceptsResponse: true), id: id, type: "slash_commands", socket: socket)
        return id
    }

    /// Delivers a block_actions click on `messageTS` with the button's value.
    @discardableResult
    public func click(_ actionID: String, value: String, user: String = "U111", channel: String = "C111",
                      messageTS: String, socket: Int? = nil) throws -> String {
        let id = newEnvelopeID()
        var payload = try SlackFixtures.json("socket_envelope_interactive_block_actions_button__java_sdk.json")["payload"] ?? [:]
        let stamp = String(format: "%.6f", Date().timeIntervalSince1970 + Double(state.withLock { $0.nextEnvelope }) / 1e6)
        let action = (payload["actions"]?[0] ?? [:]).setting("action_id", .string(actionID)).setting("value", .string(value))
            .setting("action_ts", .string(stamp))
        payload = payload.setting("actions", [action])
            .setting(path: ["user", "id"], .string(user)).setting(path: ["user", "name"], .string(user.lowercased()))
            .setting(path: ["container", "message_ts"], .string(messageTS)).setting(path: ["container", "channel_id"], .string(channel))
            .setting(path: ["channel", "id"], .string(channel)).setting(path: ["message", "ts"], .string(messageTS))
            .setting("response_url", .string("http://127.0.0.1:\(port)/response/\(id)"))
        try deliver(envelope(id, "interactive", payload), id: id, type: "interactive", socket: socket)
        return id
    }

    /// Delivers an app_mention ("<@bot> TEXT"); returns the event id. A redelivery of the same
    /// event (`retry`) gets a new envelope id and retry_attempt, as Slack sends them.
    @discardableResult
    public func mention(_ text: String, user: String = "U222", channel: String = "C111", eventID: String? = nil,
                        retry: Int = 0, socket: Int? = nil, enterprise: String? = nil) throws -> String {
        let id = newEnvelopeID()
        let eventID = eventID ?? "Ev\(id.replacingOccurrences(of: "-", with: "").prefix(10))"
        var envelope = try SlackFixtures.json("socket_envelope_events_api_app_mention__python_sdk.json")
        var payload = envelope["payload"] ?? [:]
        payload = payload.setting("event_id", .string(eventID))
            .setting(path: ["event", "text"], .string("<@\(Self.botUserID)> \(text)"))
            .setting(path: ["event", "user"], .string(user)).setting(path: ["event", "channel"], .string(channel))
            .setting(path: ["event", "ts"], .string(nextTS()))
        if let enterprise { payload = payload.setting("enterprise_id", .string(enterprise)) }
        envelope = envelope.setting("envelope_id", .string(id)).setting("payload", payload)
            .setting("retry_attempt", .number(Double(retry))).setting("retry_reason", .string(retry > 0 ? "timeout" : ""))
        try deliver(envelope.text, id: id, type: "events_api", socket: socket)
        return eventID
    }

    /// What Slack does with an events_api envelope not acknowledged within `deadline` (3 s):
    /// sends it again, with a new envelope id and retry_attempt + 1, retry_reason "timeout", on
    /// another socket. Returns the envelope ids it redelivered. (Slack retries nothing else.)
    @discardableResult
    public func redeliverLate(deadline: Duration = .seconds(3)) throws -> [String] {
        let late: [(String, String)] = state.withLock { s in
            s.sent.filter { id, sent in
                sent.type == "events_api" && ContinuousClock.now - sent.at > deadline
                    && (s.acks[id].map { $0.at - sent.at > deadline } ?? true) && !s.redelivered.contains(id)
            }.map { ($0.key, $0.value.frame) }
        }
        var out: [String] = []
        for (id, frame) in late {
            guard let envelope = JSON.parse(frame) else { continue }
            let newID = newEnvelopeID()
            let retry = (envelope["retry_attempt"]?.int ?? 0) + 1
            let again = envelope.setting("envelope_id", .string(newID)).setting("retry_attempt", .number(Double(retry)))
                .setting("retry_reason", "timeout")
            state.withLock { $0.redelivered.insert(id) }
            try deliver(again.text, id: newID, type: "events_api", socket: nil)
            out.append(newID)
        }
        return out
    }

    /// Sends an envelope frame again, byte for byte (a duplicate delivery).
    public func resend(_ envelopeID: String, socket: Int? = nil) throws {
        guard let frame = state.withLock({ $0.sent[envelopeID]?.frame }) else { throw TestSupportError("no envelope \(envelopeID)") }
        try send(frame, socket: socket)
    }

    /// Sends any frame (unknown types, garbage) on a socket.
    public func sendRaw(_ frame: String, socket: Int? = nil) throws { try send(frame, socket: socket) }

    // MARK: Records

    public var calls: [Call] { state.withLock { $0.calls } }
    public func calls(_ method: String) -> [Call] { state.withLock { $0.calls.filter { $0.method == method } } }
    public var messages: [Message] { state.withLock { $0.messages } }
    public var ephemerals: [Ephemeral] { state.withLock { $0.ephemerals } }
    public var sockets: [Socket] { state.withLock { $0.sockets.values.map(\.info).sorted { $0.id < $1.id } } }
    public var openSockets: [Int] { sockets.filter { $0.open && !$0.stalled }.map(\.id) }
    public func acked(_ envelopeID: String) -> Bool { state.withLock { $0.acks[envelopeID] != nil } }
    public var ackFrames: [String] { state.withLock { $0.acks.values.map(\.frame) } }
    /// Envelope sent → its ack received, for every acked envelope.
    public var ackLatencies: [Duration] { state.withLock { $0.ackLatencies } }
    public var unacked: [String] { state.withLock { s in s.sent.keys.filter { s.acks[$0] == nil }.sorted() } }
    public func resetLatencies() { state.withLock { $0.ackLatencies.removeAll() } }

    /// Waits until `condition` holds, or fails after `timeout`.
    public func wait(_ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                // What Slack saw, so a timeout in a loaded CI run can be read.
                let recent = messages.suffix(3).map { "\($0.channel)/\($0.ts): \($0.versions.compactMap { $0["text"]?.string })" }
                let privately = ephemerals.suffix(3).map(\.text)
                throw TestSupportError("timed out waiting for \(what); messages \(recent); private \(privately); unacked \(unacked.count); open sockets \(openSockets)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Internals

    private func newEnvelopeID() -> String {
        let n = state.withLock { s -> Int in defer { s.nextEnvelope += 1 }; return s.nextEnvelope }
        return String(format: "e%07d-0ffb-41f3-a080-d19e85f53649", n)
    }

    private func nextTS() -> String {
        let n = state.withLock { s -> Int in defer { s.nextTS += 1 }; return s.nextTS }
        return String(format: "1767225600.%06d", n)
    }

    private func envelope(_ id: String, _ type: String, _ payload: JSON, acceptsResponse: Bool = false) -> String {
        JSON.object(["envelope_id": .string(id), "type": .string(type), "payload": payload,
                     "accepts_response_payload": .bool(acceptsResponse)]).text
    }

    private func deliver(_ frame: String, id: String, type: String, socket: Int?) throws {
        state.withLock { $0.sent[id] = (.now, frame, type) }
        try send(frame, socket: socket)
    }

    /// Sends on the given socket, or on the live ones in turn (as Slack spreads envelopes).
    private func send(_ frame: String, socket: Int?) throws {
        let connection = state.withLock { s -> WebSocketConnection? in
            if let socket { return s.sockets[socket]?.connection }
            let open = s.sockets.values.filter { $0.info.open && !$0.info.stalled }.sorted { $0.info.id < $1.info.id }
            // As Slack does, a socket that was told to go gets envelopes only if it is the last one.
            let staying = open.filter { !$0.info.leaving }
            let live = staying.isEmpty ? open : staying
            guard !live.isEmpty else { return nil }
            s.roundRobin += 1
            return live[s.roundRobin % live.count].connection
        }
        guard let connection else { throw TestSupportError("no Socket Mode connection is open") }
        connection.send(frame)
    }

    func socket(_ connection: WebSocketConnection) async {
        let ticket = URLComponents(string: "ws://x\(connection.path)")?.queryItems?.first { $0.name == "ticket" }?.value ?? ""
        let valid = state.withLock { s -> Bool in
            guard s.tickets[ticket] == false else { return false }
            s.tickets[ticket] = true // single use
            return true
        }
        guard valid else {
            connection.close(code: 4001, reason: "invalid or reused ticket")
            for await _ in connection.events {}
            return
        }
        let (id, count, onConnect) = state.withLock { s -> (Int, Int, String?) in
            let id = s.nextSocket
            s.nextSocket += 1
            s.sockets[id] = (connection, Socket(id: id, open: true, stalled: false, openedAt: .now))
            return (id, s.sockets.values.filter(\.info.open).count, s.onConnect)
        }
        if let hello = try? SlackFixtures.json("socket_hello__python_sdk.json").setting("num_connections", .number(Double(count))) {
            connection.send(hello.text)
        }
        if let onConnect { try? await disconnect(id, reason: onConnect) }
        for await event in connection.events {
            guard case .text(let text) = event else { continue }
            guard let json = JSON.parse(text), let envelopeID = json["envelope_id"]?.string else { continue }
            ackArrived(envelopeID, frame: text)
        }
        state.withLock {
            $0.sockets[id]?.info.open = false
            $0.sockets[id]?.info.closedAt = .now
        }
    }

    func ackArrived(_ envelopeID: String, frame: String? = nil) {
        state.withLock { s in
            if let frame, s.acks[envelopeID]?.frame == "" { s.acks[envelopeID]?.frame = frame }
            guard s.acks[envelopeID] == nil else { return }
            s.acks[envelopeID] = (.now, frame ?? "")
            if let sent = s.sent[envelopeID] { s.ackLatencies.append(ContinuousClock.now - sent.at) }
        }
    }

    func http(_ request: HTTPServerRequest) -> HTTPServerResponse {
        let path = request.path
        if path.hasPrefix("/response/") {
            let body = JSON.parse(request.body) ?? [:]
            state.withLock { s in
                s.calls.append(Call(method: "response_url", body: body, at: .now))
                s.ephemerals.append(Ephemeral(channel: "response_url", user: nil, text: body["text"]?.string ?? ""))
            }
            return HTTPServerResponse(status: 200, contentType: "text/plain", body: "ok")
        }
        guard request.method == "POST", path.hasPrefix("/api/") else {
            return Self.answer(["ok": false, "error": "insecure_request"], status: 404)
        }
        let method = String(path.dropFirst("/api/".count))
        let body = JSON.parse(request.body) ?? Self.form(request.bodyText)
        let token = request.header("authorization").map { String($0.dropFirst("Bearer ".count)) } ?? ""
        let limited = state.withLock { s -> Int? in
            s.calls.append(Call(method: method, body: body, at: .now))
            guard let limit = s.rateLimits[method], limit.remaining > 0 else { return nil }
            s.rateLimits[method] = (limit.remaining - 1, limit.retryAfter)
            return limit.retryAfter
        }
        if let retryAfter = limited {
            let text = (try? SlackFixtures.text("webapi_ratelimited_429_body__python_sdk.json")) ?? #"{"ok":false,"error":"ratelimited"}"#
            return HTTPServerResponse(status: 429, headers: [("content-type", "application/json"), ("retry-after", "\(retryAfter)")],
                                      body: Data(text.utf8))
        }
        let wanted = method == "apps.connections.open" ? Self.appToken : Self.botToken
        guard token == wanted else { return Self.answer(["ok": false, "error": token.isEmpty ? "not_authed" : "invalid_auth"]) }
        if let error = state.withLock({ $0.errors[method] }) { return Self.answer(["ok": false, "error": .string(error)]) }
        if let channel = body["channel"]?.string, method.hasPrefix("chat."), let error = state.withLock({ $0.channelErrors[channel] }) {
            return Self.answer(["ok": false, "error": .string(error)])
        }
        switch method {
        case "apps.connections.open":
            let ticket = UUID().uuidString.lowercased()
            state.withLock { $0.tickets[ticket] = false }
            let ok = (try? SlackFixtures.json("webapi_apps_connections_open_ok__api_docs.json")) ?? ["ok": true]
            return Self.answer(ok.setting("url", .string("ws://127.0.0.1:\(port)/link/?ticket=\(ticket)&app_id=A111")))
        case "auth.test":
            return Self.answer(["ok": true, "user_id": .string(Self.botUserID), "bot_id": "BBOT000001", "team": "Emulated",
                                "team_id": .string(Self.teamID), "app_id": .string(Self.appID), "user": "convops"])
        case "bots.info":
            return Self.answer(["ok": true, "bot": ["id": .string(body["bot"]?.string ?? ""), "app_id": .string(Self.appID), "name": "convops"]])
        case "chat.postMessage":
            guard let channel = body["channel"]?.string else { return Self.answer(["ok": false, "error": "channel_not_found"]) }
            let ts = nextTS()
            let text = body["text"]?.string ?? ""
            state.withLock {
                $0.messages.append(Message(channel: channel, ts: ts, threadTS: body["thread_ts"]?.string, text: text,
                                           blocks: body["blocks"] ?? [], versions: [body], postedAt: .now))
            }
            let ok = (try? SlackFixtures.json("webapi_chat_postMessage_ok__api_docs.json")) ?? ["ok": true]
            return Self.answer(ok.setting("channel", .string(channel)).setting("ts", .string(ts))
                .setting("message", ["type": "message", "text": .string(text), "ts": .string(ts), "bot_id": "BBOT000001"]))
        case "chat.update":
            let channel = body["channel"]?.string ?? "", ts = body["ts"]?.string ?? ""
            let found = state.withLock { s -> Bool in
                guard let i = s.messages.firstIndex(where: { $0.channel == channel && $0.ts == ts }) else { return false }
                s.messages[i].text = body["text"]?.string ?? s.messages[i].text
                if let blocks = body["blocks"] { s.messages[i].blocks = blocks }
                s.messages[i].versions.append(body)
                return true
            }
            guard found else { return Self.answer(["ok": false, "error": "message_not_found"]) }
            let ok = (try? SlackFixtures.json("webapi_chat_update_ok__api_docs.json")) ?? ["ok": true]
            return Self.answer(ok.setting("channel", .string(channel)).setting("ts", .string(ts)))
        case "chat.postEphemeral":
            state.withLock {
                $0.ephemerals.append(Ephemeral(channel: body["channel"]?.string ?? "", user: body["user"]?.string,
                                               text: body["text"]?.string ?? "", threadTS: body["thread_ts"]?.string))
            }
            let ok = (try? SlackFixtures.json("webapi_chat_postEphemeral_ok__api_docs.json")) ?? ["ok": true]
            return Self.answer(ok.setting("message_ts", .string(nextTS())))
        case "users.info":
            let id = body["user"]?.string ?? ""
            guard let name = state.withLock({ $0.users[id] }) else {
                return Self.answer((try? SlackFixtures.json("webapi_users_info_error__api_docs.json")) ?? ["ok": false, "error": "user_not_found"])
            }
            var ok = (try? SlackFixtures.json("webapi_users_info_ok__api_docs.json")) ?? ["ok": true, "user": [:]]
            ok = ok.setting(path: ["user", "id"], .string(id)).setting(path: ["user", "name"], .string(name.lowercased()))
                .setting(path: ["user", "real_name"], .string(name)).setting(path: ["user", "profile", "display_name"], .string(name))
                .setting(path: ["user", "profile", "real_name"], .string(name)).setting(path: ["user", "team_id"], .string(Self.teamID))
            for entry in state.withLock({ $0.userFields[id] }) ?? [:] { ok = ok.setting(path: ["user", entry.key], entry.value) }
            return Self.answer(ok)
        default:
            return Self.answer(["ok": false, "error": "unknown_method"])
        }
    }

    static func answer(_ json: JSON, status: Int = 200) -> HTTPServerResponse {
        HTTPServerResponse(status: status, contentType: "application/json; charset=utf-8", body: json.text)
    }

    static func form(_ text: String) -> JSON {
        var out: [String: JSON] = [:]
        for (name, value) in WebServer.formPairs(text) { out[name] = .string(value) }
        return .object(out)
    }

    /// Lets the server's handlers reach the emulator once it exists.
    private final class Box: @unchecked Sendable {
        // Written once in init before any request can arrive (the port is not yet known to anyone).
        var emulator: SlackEmulator?
    }
}
