import ConvOpsCore
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
        /// Who posted it: the bot's id, or a person's user id (`postAsPerson`).
        public var poster: String = "BBOT000001"
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
        /// Half-open: nothing comes back on it (no pongs, no acks), but "Slack" does not know and
        /// keeps sending envelopes on it until its TCP connection ends.
        public var halfOpen = false
    }

    struct State {
        var calls: [Call] = []
        /// What was said through each envelope's response_url, by envelope id.
        var responses: [String: [String]] = [:]
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
        /// chat.postMessage per channel within any one second, when enforced.
        var postRate: Int?
        var posts: [String: [ContinuousClock.Instant]] = [:]
        var postRateViolations = 0
    }

    let state = Mutex(State())
    let server: WebServer
    public let port: Int
    public var apiURL: String { "http://127.0.0.1:\(port)/api/" }

    /// Lets the server's handlers reach the emulator once it exists.
    private final class Box: @unchecked Sendable {
        // Written once in init before any request can arrive (the port is not yet known to anyone).
        var emulator: SlackEmulator?
    }

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

    /// Enforces Slack's pace for posting: at most `perSecond` chat.postMessage per channel in
    /// any one second; past it, HTTP 429 with Retry-After 1, counted in `postRateViolations`.
    public func enforcePostRate(perSecond: Int = 1) { state.withLock { $0.postRate = perSecond } }

    public var postRateViolations: Int { state.withLock { $0.postRateViolations } }

    /// Every call of `method` fails with Slack's error code (nil to stop).
    public func fail(_ method: String, with error: String?) { state.withLock { $0.errors[method] = error } }

    /// Posting to this channel fails with the error (`not_in_channel`, `channel_not_found`).
    public func failChannel(_ channel: String, with error: String?) { state.withLock { $0.channelErrors[channel] = error } }

    /// A person's top-level message in a channel, with `metadata` as Slack would show it (anyone
    /// may post message metadata, so the bot must not take such a message for its own).
    public func postAsPerson(_ user: String, in channel: String, text: String, metadata: JSON) {
        let ts = nextTS()
        state.withLock {
            $0.messages.append(Message(channel: channel, ts: ts, threadTS: nil, text: text, blocks: [],
                                       versions: [["text": .string(text), "metadata": metadata]], postedAt: .now, poster: user))
        }
    }

    public func addUser(_ id: String, name: String) { state.withLock { $0.users[id] = name } }

    /// A guest (`is_restricted`), someone of another workspace (`team_id`, `is_stranger`), or a
    /// deactivated account (`deleted`).
    public func addUser(_ id: String, name: String, restricted: Bool = false, ultraRestricted: Bool = false,
                        team: String = SlackEmulator.teamID, stranger: Bool = false, deleted: Bool = false) {
        state.withLock {
            $0.users[id] = name
            $0.userFields[id] = ["is_restricted": .bool(restricted), "is_ultra_restricted": .bool(ultraRestricted),
                                 "team_id": .string(team), "is_stranger": .bool(stranger), "deleted": .bool(deleted)]
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

    /// A half-open socket as Slack sees one: envelopes still go to it, nothing comes back.
    public func halfOpen(_ socket: Int) {
        let connection = state.withLock { s -> WebSocketConnection? in
            s.sockets[socket]?.info.halfOpen = true
            return s.sockets[socket]?.connection
        }
        guard let connection else { return }
        connection.stall()
        // Reading nothing, this side would never see the client end the connection; Slack's
        // TCP would. Looked at every 20 ms: once it has ended, the socket is closed here too
        // and nothing more is routed to it.
        Task { [weak self] in
            while let self, self.state.withLock({ $0.sockets[socket]?.info.open == true }) {
                if await connection.peerEnded() {
                    connection.drop()
                    return
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Stops reading a socket and sending on it: a half-open connection.
    public func stall(_ socket: Int) {
        let connection = state.withLock { s -> WebSocketConnection? in
            s.sockets[socket]?.info.stalled = true
            return s.sockets[socket]?.connection
        }
        connection?.stall()
    }
}
