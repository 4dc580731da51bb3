import ConvOpsCore
import ConvOpsSlack
import ConvOpsWebSocket
import Foundation
import Synchronization

/// What the emulator saw, for tests to read; and the sockets it serves.
extension SlackEmulator {

    public var calls: [Call] { state.withLock { $0.calls } }
    public func calls(_ method: String) -> [Call] { state.withLock { $0.calls.filter { $0.method == method } } }
    public var messages: [Message] { state.withLock { $0.messages } }
    public var ephemerals: [Ephemeral] { state.withLock { $0.ephemerals } }
    public var sockets: [Socket] { state.withLock { $0.sockets.values.map(\.info).sorted { $0.id < $1.id } } }
    public var openSockets: [Int] { sockets.filter { $0.open && !$0.stalled && !$0.halfOpen }.map(\.id) }
    /// Whether the TCP connection of `socket` is still up, as far as the emulator knows.
    public func connected(_ socket: Int) -> Bool { state.withLock { $0.sockets[socket]?.info.open ?? false } }
    public func acked(_ envelopeID: String) -> Bool { state.withLock { $0.acks[envelopeID] != nil } }
    /// The texts said through the response_url of the envelope `envelopeID`, in order.
    public func responses(to envelopeID: String) -> [String] { state.withLock { $0.responses[envelopeID] ?? [] } }
    public var ackFrames: [String] { state.withLock { $0.acks.values.map(\.frame) } }
    /// Envelope sent → its ack received, for every acked envelope.
    public var ackLatencies: [Duration] { state.withLock { $0.ackLatencies } }
    public var unacked: [String] { state.withLock { s in s.sent.keys.filter { s.acks[$0] == nil }.sorted() } }
    public func resetLatencies() { state.withLock { $0.ackLatencies.removeAll() } }

    /// Waits until `condition` holds, or fails after `timeout`.
    public func wait(_ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () -> Bool) async throws {
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

    func newEnvelopeID() -> String {
        let n = state.withLock { s -> Int in defer { s.nextEnvelope += 1 }; return s.nextEnvelope }
        return String(format: "e%07d-0ffb-41f3-a080-d19e85f53649", n)
    }

    /// As Slack's: the time of posting in microseconds, unique and increasing in a channel.
    func nextTS() -> String {
        let micros = state.withLock { s -> Int in
            s.nextTS = max(s.nextTS + 1, Int(Date().timeIntervalSince1970 * 1_000_000))
            return s.nextTS
        }
        return String(format: "%d.%06d", micros / 1_000_000, micros % 1_000_000)
    }

    func envelope(_ id: String, _ type: String, _ payload: JSON, acceptsResponse: Bool = false) -> String {
        JSON.object(["envelope_id": .string(id), "type": .string(type), "payload": payload,
                     "accepts_response_payload": .bool(acceptsResponse)]).text
    }

    func deliver(_ frame: String, id: String, type: String, socket: Int?) throws {
        state.withLock { $0.sent[id] = (.now, frame, type) }
        try send(frame, socket: socket)
    }

    /// Sends on the given socket, or on the live ones in turn (as Slack spreads envelopes).
    func send(_ frame: String, socket: Int?) throws {
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
}
