import ConvOpsHTTP
import ConvOpsWebSocket
import Foundation
import Logging
import Synchronization

/// Holds the Socket Mode connections: the imperative shell around `ConnectionMachine`.
///
/// Every envelope is acknowledged on the socket it came on the moment it is decoded, before
/// anything else happens, then de-duplicated and handed to `envelopes`. Redeliveries (Slack
/// retries events_api; a flaky socket can repeat anything) reach `envelopes` once.
public final class SocketModeClient: Sendable {
    public struct Options: Sendable {
        public var machine: ConnectionMachine.Settings
        /// How often the machine looks at its sockets (pings, deadlines, reconnects).
        public var tick: Duration
        /// How long a delivery is remembered for de-duplication (Slack retries for minutes).
        public var dedupeWindow: Duration
        /// Accept a self-signed certificate: loopback tests only.
        public var allowSelfSigned: Bool
        /// Hosts the Socket Mode URL may point at: Slack's, or loopback for the emulator.
        public var allowLoopback: Bool
        /// Envelopes handed on and not yet taken by the consumer, per socket and in all: past
        /// either they go to the overflow handler (still acknowledged), so a consumer that falls
        /// behind costs bounded memory, and one busy socket cannot fill the intake of the others.
        public var waitingPerSocket: Int
        public var waitingInAll: Int

        public init(connections: Int = 2, tick: Duration = .milliseconds(250), dedupeWindow: Duration = .seconds(900),
                    allowSelfSigned: Bool = false, allowLoopback: Bool = false, waitingPerSocket: Int = 512, waitingInAll: Int = 1024) {
            machine = ConnectionMachine.Settings(connections: connections)
            self.tick = tick
            self.dedupeWindow = dedupeWindow
            self.allowSelfSigned = allowSelfSigned
            self.allowLoopback = allowLoopback
            self.waitingPerSocket = waitingPerSocket
            self.waitingInAll = waitingInAll
        }
    }

    public let envelopes: AsyncStream<Envelope>
    private let continuation: AsyncStream<Envelope>.Continuation
    private let api: SlackWebAPI
    private let options: Options
    private let logger: Logger
    private let state: Mutex<State>
    /// Time since start, and a sleep, on the injected clock: heartbeats, deadlines and backoff
    /// are the machine's arithmetic on this time, so a manual clock runs them in no real time.
    private let timing: Timing
    private let client: WebSocketClient
    /// Cleared by `stopIntake()`. Decided once per frame, on the socket's thread, as the ack
    /// goes or does not: an envelope that was acknowledged is always handed on.
    private let intake = Intake()

    final class Intake: Sendable {
        let open = Atomic<Bool>(true)
        /// Envelope ids acknowledged on the socket's thread, not yet read by `handle`.
        let acked = Mutex<Set<String>>([])
        var isOpen: Bool { open.load(ordering: .acquiring) }

        /// The socket thread's answer to a frame: its ack while taking envelopes, else none.
        @Sendable func answer(_ frame: UnsafeRawBufferPointer) -> [UInt8]? {
            guard isOpen, let ack = Envelope.immediateAck(frame) else { return nil }
            if let id = Envelope.quickID(frame) { acked.withLock { _ = $0.insert(id) } }
            return ack
        }

        /// Whether `handle` should take the envelope: it was acknowledged, or intake is open.
        func take(_ id: String) -> (take: Bool, wasAcked: Bool) {
            let wasAcked = acked.withLock { $0.remove(id) != nil }
            return (wasAcked || isOpen, wasAcked)
        }
    }

    /// Time since start, and a sleep, on one clock.
    struct Timing: Sendable {
        let elapsed: @Sendable () -> Duration
        let sleep: @Sendable (Duration) async throws -> Void

        init<C: Clock<Duration>>(_ clock: C) {
            let start = clock.now
            elapsed = { start.duration(to: clock.now) }
            sleep = { duration in try await clock.sleep(for: duration) }
        }
    }

    struct State {
        var machine: ConnectionMachine
        var connections: [Int: WebSocketConnection] = [:]
        /// Envelope id → when it was seen (seconds on the clock).
        var seen: [String: Double] = [:]
        var lastPrune = 0.0
        var stopReason: String?
        var stopWaiters: [CheckedContinuation<String, Never>] = []
        var acked = 0
        var handedOn = 0
        var duplicates = 0
        var unknown = 0
        /// Handed on and not yet `took`, by socket, and their sum.
        var waiting: [Int: Int] = [:]
        var waitingInAll = 0
        var overflowed = 0
        var overflow: (@Sendable (Envelope) -> Void)?
    }

    public init(api: SlackWebAPI, options: Options = Options(), clock: any Clock<Duration> = ContinuousClock(), logger: Logger) throws {
        timing = Timing(clock)
        self.api = api
        self.options = options
        self.logger = logger
        client = try WebSocketClient()
        state = Mutex(State(machine: ConnectionMachine(settings: options.machine, seed: UInt64.random(in: 0...UInt64.max))))
        (envelopes, continuation) = AsyncStream.makeStream(of: Envelope.self, bufferingPolicy: .unbounded)
    }

    /// Counters for logs and benchmarks.
    public var stats: (acked: Int, duplicates: Int, unknown: Int, opens: Int, ready: Int) {
        state.withLock { ($0.acked, $0.duplicates, $0.unknown, $0.machine.opens, $0.machine.readyCount) }
    }

    /// Connects and keeps connected until `shutdown()` or a fatal error; returns why it stopped.
    public func run() async -> String {
        apply(state.withLock { $0.machine.start(now: now()) })
        let ticker = Task { [self] in
            while !Task.isCancelled {
                do { try await timing.sleep(options.tick) } catch { return }
                apply(state.withLock { $0.machine.tick(now: now()) })
                pruneSeen()
            }
        }
        let reason = await withCheckedContinuation { (waiter: CheckedContinuation<String, Never>) in
            let done: String? = state.withLock { s in
                if let r = s.stopReason { return r }
                s.stopWaiters.append(waiter)
                return nil
            }
            if let done { waiter.resume(returning: done) }
        }
        ticker.cancel()
        continuation.finish()
        return reason
    }

    /// An envelope that came after `stopIntake()`. Slack retries an unacknowledged event, so
    /// events are left for the next process. It does not retry a slash command, so that one is
    /// answered with what happened; a click left unanswered shows the person it did not go
    /// through.
    private func leave(_ envelope: Envelope, on connection: WebSocketConnection) {
        if envelope.type == .slashCommands {
            connection.send(Envelope.ack(envelope.id, payload: ["response_type": "ephemeral", "text": .string(Self.restarting)]))
        }
        logger.notice("slack.envelope_left", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.type": "\(envelope.type)",
                                                       "slack.detail": "stopping: not taken"])
    }

    static let restarting = "ConvOps is restarting, so nothing was done. Try again in a minute."

    /// Envelopes handed to `envelopes` so far.
    public var handedOn: Int { state.withLock { $0.handedOn } }

    /// Sockets found dead and dropped so far (the decision; the TCP close follows on its own).
    public var abandonedSockets: Int { state.withLock { $0.machine.abandoned } }

    /// Envelopes handed on that the consumer has not yet said it `took`.
    public var waiting: Int { state.withLock { $0.waitingInAll } }

    /// Envelopes past the intake's bounds, given to the overflow handler instead.
    public var overflowed: Int { state.withLock { $0.overflowed } }

    /// The consumer took `envelope` off `envelopes`: its place in the intake is free again.
    public func took(_ envelope: Envelope) {
        state.withLock { s in
            guard let n = s.waiting[envelope.socket], n > 0 else { return }
            s.waiting[envelope.socket] = n == 1 ? nil : n - 1
            s.waitingInAll -= 1
        }
    }

    /// Where envelopes past the intake's bounds go, on the socket's reading task: it must be
    /// quick (the channel queues a "busy" answer). Without one they are logged and dropped.
    public func onOverflow(_ handler: @escaping @Sendable (Envelope) -> Void) {
        state.withLock { $0.overflow = handler }
    }

    /// False once `stopIntake()` ran.
    public var takesEnvelopes: Bool { intake.isOpen }

    /// Takes no more envelopes: the first step of stopping. The sockets stay open (and answer
    /// pings) until `shutdown()`, so work in hand can finish.
    public func stopIntake() {
        intake.open.store(false, ordering: .releasing)
        logger.info("slack.intake_stopped")
    }

    /// Closes every socket cleanly; `run()` returns.
    public func shutdown() {
        apply(state.withLock { $0.machine.shutdown() })
        finish(ConnectionMachine.shutDownReason)
        // Give the close frames a moment, then let go of the vhost.
        let client = self.client
        Task {
            // Real time: the close frames travel on the real network, whatever clock runs the machine.
            try? await Task.sleep(for: .milliseconds(300))
            client.shutdown()
        }
    }

    // MARK: Actions

    private func apply(_ actions: [ConnectionMachine.Action]) {
        for action in actions {
            switch action {
            case .fetchURL:
                Task { await fetchURL() }
            case .open(let id, let url):
                Task { await open(id, url) }
            case .ping(let id):
                connection(id)?.ping()
            case .close(let id, let reason):
                logger.info("slack.socket.close", metadata: ["slack.socket": "\(id)", "slack.reason": "\(reason)"])
                connection(id)?.close(code: 1000, reason: reason)
            case .drop(let id, let reason):
                logger.warning("slack.socket.drop", metadata: ["slack.socket": "\(id)", "slack.reason": "\(reason)"])
                connection(id)?.drop()
            case .stop(let why):
                logger.critical("slack.stopped", metadata: ["slack.reason": "\(why)"])
                finish(why)
            case .warn(let text):
                logger.warning("slack.connection", metadata: ["slack.detail": "\(text)"])
            case .info(let text):
                logger.info("slack.connection", metadata: ["slack.detail": "\(text)"])
            }
        }
    }

    private func finish(_ why: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<String, Never>] in
            if s.stopReason == nil { s.stopReason = why }
            defer { s.stopWaiters.removeAll() }
            return s.stopWaiters
        }
        let reason = state.withLock { $0.stopReason ?? why }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    private func connection(_ id: Int) -> WebSocketConnection? { state.withLock { $0.connections[id] } }

    private func fetchURL() async {
        let result: ConnectionMachine.FetchFailure?
        var url = ""
        do {
            url = try await api.openConnection()
            result = isAllowed(url) ? nil : .fatal("apps.connections.open returned a URL outside Slack (\(Self.hostOf(url))); refusing to connect")
        } catch {
            if error.isFatalForToken {
                result = .fatal(error.description)
            } else if error.code == "ratelimited" {
                // python-slack-sdk's default when Slack names no wait: 30 s.
                result = .rateLimited(retryAfter: error.retryAfter ?? 30)
            } else {
                result = .transient(error.description)
            }
        }
        let actions = state.withLock { s in
            if let result { return s.machine.urlFailed(result, now: now()) }
            return s.machine.urlFetched(url, now: now())
        }
        apply(actions)
    }

    private func open(_ id: Int, _ url: String) async {
        do {
            // Acks leave from the socket's own thread the moment a frame is complete.
            let connection = try await client.connect(to: url, options: .init(allowSelfSigned: options.allowSelfSigned,
                                                                              immediateReply: intake.answer))
            let stillWanted = state.withLock { s -> Bool in
                guard let phase = s.machine.sockets[id]?.phase, phase != .closing, s.stopReason == nil else { return false }
                s.connections[id] = connection
                return true
            }
            guard stillWanted else {
                connection.close(code: 1000, reason: "no longer needed")
                apply(state.withLock { $0.machine.closed(id, now: now()) })
                return
            }
            apply(state.withLock { $0.machine.opened(id, now: now()) })
            logger.info("slack.socket.open", metadata: ["slack.socket": "\(id)"])
            await read(id, connection)
        } catch {
            logger.warning("slack.socket.connect_failed", metadata: ["slack.socket": "\(id)", "error.message": "\(error)"])
            apply(state.withLock { $0.machine.closed(id, now: now()) })
        }
    }

    /// Reads one socket to its end. Acks go out from here, before any other work.
    private func read(_ id: Int, _ connection: WebSocketConnection) async {
        for await event in connection.events {
            switch event {
            case .text(let text):
                handle(text, id: id, connection: connection)
            case .binary:
                state.withLock { $0.machine.received(id, now: now()) }
            case .pong:
                state.withLock { $0.machine.pong(id, now: now()) }
            case .closed(let code, let reason):
                logger.info("slack.socket.closed", metadata: ["slack.socket": "\(id)", "ws.code": "\(code)", "ws.reason": "\(reason)"])
            case .failed(let error):
                logger.info("slack.socket.failed", metadata: ["slack.socket": "\(id)", "error.message": "\(error)"])
            }
        }
        apply(state.withLock { s in
            s.connections[id] = nil
            return s.machine.closed(id, now: now())
        })
    }

    private func handle(_ text: String, id: Int, connection: WebSocketConnection) {
        let message = SocketModeMessage.decode(text)
        if case .envelope(let envelope) = message {
            let (take, wasAcked) = intake.take(envelope.id)
            guard take else {
                let at = now()
                state.withLock { $0.machine.received(id, now: at) }
                leave(envelope, on: connection)
                return
            }
            // Normally acknowledged already, on the socket's thread (`Intake.answer`). Should
            // that quick read have missed or misread the id, the ack goes now.
            if !wasAcked { connection.send(Envelope.ack(envelope.id)) }
        }
        let now = now()
        let actions: [ConnectionMachine.Action] = state.withLock { s in
            s.machine.received(id, now: now)
            switch message {
            case .hello(let hello):
                return s.machine.hello(id, numConnections: hello.numConnections, now: now)
            case .disconnect(let reason):
                return s.machine.disconnect(id, reason: reason, now: now)
            case .envelope:
                s.acked += 1
                return []
            case .unknown, .malformed:
                s.unknown += 1
                return []
            }
        }
        apply(actions)
        switch message {
        case .envelope(let envelope):
            if envelope.retryAttempt > 0 {
                logger.notice("slack.redelivery", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.retry_attempt": "\(envelope.retryAttempt)",
                                                            "slack.retry_reason": "\(envelope.retryReason)"])
            }
            var envelope = envelope
            envelope.socket = id
            enum Fate { case duplicate, handOn, overflow((@Sendable (Envelope) -> Void)?) }
            let fate = state.withLock { s -> Fate in
                let key = envelope.deliveryKey
                if s.seen[key] != nil { s.duplicates += 1; return .duplicate }
                s.seen[key] = now
                if s.waiting[id, default: 0] >= options.waitingPerSocket || s.waitingInAll >= options.waitingInAll {
                    s.overflowed += 1
                    return .overflow(s.overflow)
                }
                s.waiting[id, default: 0] += 1
                s.waitingInAll += 1
                s.handedOn += 1
                return .handOn
            }
            switch fate {
            case .handOn:
                if case .terminated = continuation.yield(envelope) {
                    // The client has stopped (its stream is finished): nobody will take it.
                    took(envelope)
                    logger.notice("slack.envelope_left", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.type": "\(envelope.type)",
                                                                   "slack.detail": "stopped: not taken"])
                }
            case .duplicate:
                logger.info("slack.duplicate", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.type": "\(envelope.type)"])
            case .overflow(let handler):
                // One line per hundred in a flood, not one per envelope.
                let n = overflowed
                if n % 100 == 1 {
                    logger.warning("slack.intake_full", metadata: ["slack.envelope_id": "\(envelope.id)", "slack.socket": "\(id)",
                                                                  "slack.waiting": "\(waiting)", "slack.overflowed": "\(n)"])
                }
                handler?(envelope)
            }
        case .unknown(let type):
            logger.notice("slack.unknown_frame", metadata: ["slack.type": "\(type)", "slack.raw": "\(text.prefix(500))"])
        case .malformed:
            logger.notice("slack.malformed_frame", metadata: ["slack.raw": "\(text.prefix(500))"])
        case .hello, .disconnect:
            break
        }
    }

    private func pruneSeen() {
        let window = Self.seconds(options.dedupeWindow)
        let now = now()
        state.withLock { s in
            guard now - s.lastPrune > 10 else { return }
            s.lastPrune = now
            s.seen = s.seen.filter { now - $0.value < window }
        }
    }

    private func now() -> Double { Self.seconds(timing.elapsed()) }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }


    /// wss:// to Slack, or (for the emulator) ws/wss to loopback when allowed.
    func isAllowed(_ url: String) -> Bool {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), let host = c.host?.lowercased(),
              EgressPolicy.isPlainHost(host), c.percentEncodedHost?.contains("%") != true else { return false }
        // By address: "127.evil.example" is somebody's host name, not this machine.
        if EgressPolicy.isLoopback(host) { return options.allowLoopback && (scheme == "ws" || scheme == "wss") }
        return scheme == "wss" && (host == "slack.com" || host.hasSuffix(".slack.com"))
    }

    static func hostOf(_ url: String) -> String { URLComponents(string: url)?.host ?? "?" }
}
