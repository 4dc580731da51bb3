import Foundation

/// The Socket Mode connection manager's logic, with no I/O: events in, actions out, time given
/// as seconds on a monotonic clock. The shell (`SocketModeClient`) carries out the actions.
///
/// What it guarantees, against the failures seen in Slack's own SDKs (CLIENT-PITFALLS.md):
/// - exactly one owner of reconnection, and at most one `apps.connections.open` in flight;
///   calls to it are spaced (`minOpenInterval`) and back off with jitter after failures;
/// - every socket is tracked from the moment it is planned, before its handshake, so a failed
///   handshake is cleaned up and never doubles the sockets;
/// - a planned refresh (`warning`, `refresh_requested`) opens the replacement first and closes
///   the old socket only once the new one said hello: no gap without a live socket;
/// - `too_many_websockets` closes the socket first, then backs off (never a tight loop);
/// - our own pings with a pong deadline, and a silence watchdog, find half-open sockets;
/// - every control frame is legal in every state; events for sockets it no longer knows
///   (an older epoch) are ignored.
public struct ConnectionMachine: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Sockets to hold (Slack allows 10 per app, across every process).
        public var connections: Int = 2
        /// Our pings: every second, and one unanswered for 2 s means the socket is dead, so a
        /// half-open socket is noticed within 3 s (Slack keeps sending envelopes on it until then).
        public var pingInterval: Double = 1
        /// A ping unanswered this long means the socket is dead.
        public var pongTimeout: Double = 2
        /// Nothing received for this long (no frame, no pong) means the socket is dead.
        public var silenceTimeout: Double = 30
        /// From planning a socket to its hello.
        public var helloTimeout: Double = 20
        /// Backoff after failures: base·2^(n-1), capped, half of it random ("equal jitter").
        public var backoffBase: Double = 1
        public var backoffCap: Double = 60
        /// The least time between two calls to apps.connections.open, whatever happens.
        public var minOpenInterval: Double = 1
        /// The least wait after too_many_websockets (Slack needs time to forget ghost sockets).
        public var tooManyWait: Double = 10
        /// A socket that stayed up this long clears the failure count.
        public var stableAfter: Double = 30

        public init(connections: Int = 2) { self.connections = min(10, max(1, connections)) }
    }

    public enum Phase: Sendable, Hashable {
        /// Planned: its URL is being fetched or its handshake is under way.
        case connecting
        /// Handshake done, waiting for hello.
        case awaitingHello
        case ready
        /// Slack announced its end: it still works (and is acknowledged on) until the
        /// replacement is ready.
        case draining
        /// We are closing or dropping it; it no longer counts.
        case closing
    }

    public struct Socket: Sendable, Hashable {
        public var id: Int
        public var phase: Phase
        var plannedAt: Double
        var readyAt: Double?
        var lastReceived: Double
        var lastPingSent: Double?
        /// The oldest of our pings still unanswered.
        var unansweredPingSince: Double?
    }

    public enum Action: Sendable, Hashable {
        /// Call apps.connections.open, then report `urlFetched` or `urlFailed`.
        case fetchURL
        /// Open socket `id` at `url`, then report `opened` or `closed`.
        case open(id: Int, url: String)
        case ping(id: Int)
        /// A clean close (close frame).
        case close(id: Int, reason: String)
        /// Abandon the TCP connection: the socket is unresponsive.
        case drop(id: Int, reason: String)
        /// Stop for good, with why (and what to do).
        case stop(String)
        case warn(String)
        case info(String)
    }

    public enum FetchFailure: Sendable, Hashable {
        /// The token is bad or the app cannot connect: retrying cannot help.
        case fatal(String)
        case rateLimited(retryAfter: Double)
        case transient(String)
    }

    /// Why the machine stopped after `shutdown()`, as opposed to a reason to stop for good.
    public static let shutDownReason = "shut down"

    public let settings: Settings
    public private(set) var sockets: [Int: Socket] = [:]
    public private(set) var stopped: String?
    public private(set) var failures = 0
    /// apps.connections.open calls made.
    public private(set) var opens = 0
    /// Sockets given up as dead (no hello, no pong, silence), on the machine's own clock.
    public private(set) var abandoned = 0
    private var nextID = 1
    private var fetching: Int?
    private var notBefore: Double = 0
    private var lastOpen: Double = -.infinity
    private var lastFailure: Double = -.infinity
    private var random: SplitMix64

    public init(settings: Settings, seed: UInt64 = 0x5eed) {
        self.settings = settings
        random = SplitMix64(seed: seed)
    }

    /// Sockets that are, or will be, doing the work.
    public var liveCount: Int { sockets.values.filter { $0.phase != .draining && $0.phase != .closing }.count }
    public var readyCount: Int { sockets.values.filter { $0.phase == .ready || $0.phase == .draining }.count }

    public mutating func start(now: Double) -> [Action] { replenish(now) }

    public mutating func urlFetched(_ url: String, now: Double) -> [Action] {
        guard let id = fetching else { return [] }
        fetching = nil
        guard stopped == nil, sockets[id] != nil else { return [] }
        return [.open(id: id, url: url)]
    }

    public mutating func urlFailed(_ failure: FetchFailure, now: Double) -> [Action] {
        guard let id = fetching else { return [] }
        fetching = nil
        sockets[id] = nil
        switch failure {
        case .fatal(let why):
            return stop(why)
        case .rateLimited(let asked):
            let wait = RateLimitState.bounded(asked)
            notBefore = max(notBefore, now + max(wait, settings.minOpenInterval))
            return [.warn("apps.connections.open is rate limited; next try in \(Int(wait.rounded(.up))) s")]
        case .transient(let why):
            let wait = fail(now)
            return [.warn("apps.connections.open failed (\(why)); next try in \(Self.seconds(wait))")]
        }
    }

    public mutating func opened(_ id: Int, now: Double) -> [Action] {
        guard var socket = sockets[id], socket.phase == .connecting else { return [] }
        socket.phase = .awaitingHello
        socket.lastReceived = now
        sockets[id] = socket
        return []
    }

    /// Any frame or pong from the socket: it is alive.
    public mutating func received(_ id: Int, now: Double) {
        sockets[id]?.lastReceived = now
    }

    public mutating func pong(_ id: Int, now: Double) {
        sockets[id]?.lastReceived = now
        sockets[id]?.unansweredPingSince = nil
    }

    public mutating func hello(_ id: Int, numConnections: Int?, now: Double) -> [Action] {
        guard var socket = sockets[id], socket.phase == .awaitingHello || socket.phase == .connecting else { return [] }
        socket.phase = .ready
        socket.readyAt = now
        socket.lastReceived = now
        sockets[id] = socket
        var actions: [Action] = []
        // Make before break: a socket that was announced to go can go now.
        if let old = sockets.values.filter({ $0.phase == .draining }).min(by: { $0.plannedAt < $1.plannedAt }) {
            sockets[old.id]?.phase = .closing
            actions.append(.close(id: old.id, reason: "replaced"))
        }
        let held = sockets.values.filter { $0.phase != .closing && $0.phase != .connecting }.count
        if let n = numConnections {
            actions.append(.info("hello on socket \(id): Slack counts \(n) connection(s), we hold \(held)"))
            if n > held {
                actions.append(.warn("Slack counts \(n) Socket Mode connections but this process holds \(held): another replica, or ghost sockets Slack has not noticed yet, may receive (and lose) envelopes"))
            }
        }
        return actions + replenish(now)
    }

    public mutating func disconnect(_ id: Int, reason: DisconnectReason, now: Double) -> [Action] {
        guard let socket = sockets[id], socket.phase != .closing else { return [] }
        switch reason {
        case .linkDisabled:
            return stop("Slack disabled Socket Mode for this app (link_disabled): turn Socket Mode on in the app's settings, then start ConvOps again")
        case .tooManyWebsockets:
            // Close first: this socket is one too many. Then wait before trying again.
            sockets[id]?.phase = .closing
            let wait = fail(now, floor: settings.tooManyWait)
            return [.close(id: id, reason: "too_many_websockets"),
                    .warn("Slack says the app has too many Socket Mode connections (at most 10 across all replicas); retrying in \(Self.seconds(wait))")]
                + replenish(now)
        case .warning, .refreshRequested, .other:
            if socket.phase == .draining {
                return [] // already being replaced (warning, then refresh_requested)
            } else if socket.phase == .ready {
                sockets[id]?.phase = .draining
            } else {
                // Not yet ready: nothing depends on it, close it now.
                sockets[id]?.phase = .closing
                return [.close(id: id, reason: "disconnect before ready")] + replenish(now)
            }
            return [.info("socket \(id) will be refreshed (\(reason)); opening its replacement first")] + replenish(now)
        }
    }

    /// The socket ended (closed, dropped, or its handshake failed).
    public mutating func closed(_ id: Int, now: Double) -> [Action] {
        guard let socket = sockets.removeValue(forKey: id) else { return [] }
        var actions: [Action] = []
        switch socket.phase {
        case .closing, .draining:
            break // expected
        case .connecting, .awaitingHello, .ready:
            let wait = fail(now)
            actions.append(.warn("socket \(id) ended unexpectedly; \(liveCount) other live socket(s); reconnecting in \(Self.seconds(wait))"))
        }
        return actions + replenish(now)
    }

    public mutating func tick(now: Double) -> [Action] {
        guard stopped == nil else { return [] }
        var actions: [Action] = []
        for socket in sockets.values.sorted(by: { $0.id < $1.id }) {
            switch socket.phase {
            case .connecting, .awaitingHello:
                if socket.id != fetching, now - socket.plannedAt > settings.helloTimeout {
                    actions += abandon(socket.id, "no hello within \(Int(settings.helloTimeout)) s", now)
                }
            case .ready, .draining:
                if let since = socket.unansweredPingSince, now - since > settings.pongTimeout {
                    actions += abandon(socket.id, "no pong within \(Int(settings.pongTimeout)) s (half-open connection)", now)
                } else if now - socket.lastReceived > settings.silenceTimeout {
                    actions += abandon(socket.id, "nothing received for \(Int(settings.silenceTimeout)) s", now)
                } else if now - (socket.lastPingSent ?? -.infinity) >= settings.pingInterval {
                    sockets[socket.id]?.lastPingSent = now
                    if socket.unansweredPingSince == nil { sockets[socket.id]?.unansweredPingSince = now }
                    actions.append(.ping(id: socket.id))
                }
                // A socket that came up after the last failure and stayed up clears the count (an
                // old one staying up says nothing about whether new ones last).
                if failures > 0, socket.phase == .ready, let readyAt = socket.readyAt, readyAt > lastFailure,
                   now - readyAt >= settings.stableAfter {
                    failures = 0
                }
            case .closing:
                break
            }
        }
        return actions + replenish(now)
    }

    /// Closes everything (at shutdown). Nothing reconnects afterwards.
    public mutating func shutdown() -> [Action] {
        stopped = stopped ?? ConnectionMachine.shutDownReason
        fetching = nil
        var actions: [Action] = []
        for id in sockets.keys.sorted() where sockets[id]?.phase != .closing {
            sockets[id]?.phase = .closing
            actions.append(.close(id: id, reason: "shutting down"))
        }
        return actions
    }

    // MARK: -

    /// Drops a dead socket at once (its TCP too, so Slack stops sending on it). With another
    /// socket still ready, the replacement of one that had been up a while is not a failure to
    /// back off from: it is opened as soon as connects may be made. One that died young counts
    /// (a path too slow for the pong deadline must not reconnect every few seconds for ever).
    private mutating func abandon(_ id: Int, _ why: String, _ now: Double) -> [Action] {
        let young = sockets[id]?.readyAt.map { now - $0 < settings.stableAfter } ?? true
        sockets[id]?.phase = .closing
        abandoned += 1
        let others = sockets.values.contains { $0.id != id && $0.phase == .ready }
        let wait = others && !young ? max(0, settings.minOpenInterval - (now - lastOpen)) : fail(now)
        return [.drop(id: id, reason: why), .warn("socket \(id): \(why); replacing it (next connect in \(Self.seconds(wait)) at the earliest)")]
    }

    /// Plans the next socket when fewer than wanted are live, one at a time, spaced.
    private mutating func replenish(_ now: Double) -> [Action] {
        guard stopped == nil, fetching == nil, liveCount < settings.connections else { return [] }
        guard now >= notBefore, now - lastOpen >= settings.minOpenInterval else { return [] }
        let id = nextID
        nextID += 1
        sockets[id] = Socket(id: id, phase: .connecting, plannedAt: now, lastReceived: now)
        fetching = id
        lastOpen = now
        opens += 1
        return [.fetchURL]
    }

    /// Counts a failure and pushes the next connect back; returns the wait.
    private mutating func fail(_ now: Double, floor: Double = 0) -> Double {
        failures += 1
        lastFailure = now
        let ceiling = min(settings.backoffCap, settings.backoffBase * Double(1 << min(failures - 1, 20)))
        let wait = max(floor, ceiling / 2 + random.unit() * ceiling / 2)
        notBefore = max(notBefore, now + wait)
        return wait
    }

    private mutating func stop(_ why: String) -> [Action] {
        stopped = why
        fetching = nil
        var actions: [Action] = []
        for id in sockets.keys.sorted() where sockets[id]?.phase != .closing {
            sockets[id]?.phase = .closing
            actions.append(.close(id: id, reason: "stopping"))
        }
        return actions + [.stop(why)]
    }

    static func seconds(_ s: Double) -> String { s < 10 ? String(format: "%.1f s", s) : "\(Int(s.rounded())) s" }
}

/// A small seeded generator: backoff jitter that tests can repeat.
struct SplitMix64: Sendable, Hashable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
