import CWebSockets
import Foundation

public enum WebSocketEvent: Sendable, Hashable {
    case text(String)
    case binary(Data)
    /// A pong answered one of our pings.
    case pong
    /// The close handshake completed; the last event.
    case closed(code: UInt16, reason: String)
    /// The connection ended without a close handshake; the last event.
    case failed(WebSocketError)
}

/// One WebSocket connection, client or server side. Methods may be called from any thread;
/// they hand the work to the connection's service thread.
public final class WebSocketConnection: Sendable {
    public let id: Int
    /// Every frame and the end of the connection, in order. Ends after `.closed` or `.failed`.
    public let events: AsyncStream<WebSocketEvent>
    /// The request path (and query) the connection was opened with.
    public let path: String
    let table: ConnectionTable

    init(id: Int, path: String, events: AsyncStream<WebSocketEvent>, table: ConnectionTable) {
        self.id = id
        self.path = path
        self.events = events
        self.table = table
    }

    public func send(_ text: String) { table.submit(id, .text(Array(text.utf8))) }

    public func ping() { table.submit(id, .ping) }

    /// Starts the close handshake; `events` ends with `.closed` when the peer answers.
    public func close(code: UInt16 = 1000, reason: String = "") { table.submit(id, .close(code, reason)) }

    /// Drops the TCP connection with no close frame, as a crashed peer or a dead network would.
    /// For tests and emulators that need a half-gone connection.
    public func drop() { table.submit(id, .drop) }

    /// Stops reading from the socket (pings go unanswered, frames pile up in the kernel), as a
    /// half-open connection looks from the other side. For emulators and tests.
    public func stall() {
        table.loop.enqueue { [table, id] in
            guard let wsi = table.connections[id]?.wsi else { return }
            _ = lws_rx_flow_control(wsi, 0)
        }
    }

    /// Whether the peer has ended the TCP connection (or it is gone), for an emulator whose
    /// stalled socket reads nothing and so would never see the end. Linux's TCP_INFO.
    public func peerEnded() async -> Bool {
        await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            table.loop.enqueue { [table, id] in
                guard let wsi = table.connections[id]?.wsi else { done.resume(returning: true); return }
                done.resume(returning: convops_tcp_peer_ended(lws_get_socket_fd(wsi)) != 0)
            }
        }
    }
}

enum Outgoing {
    case text([UInt8])
    case ping
    case close(UInt16, String)
    case drop
}

/// The loop-thread state of one connection.
final class ConnectionState {
    let id: Int
    var wsi: OpaquePointer?
    var outbox: [Outgoing] = []
    var fragments: [UInt8] = []
    var peerClose: (UInt16, String)?
    let continuation: AsyncStream<WebSocketEvent>.Continuation
    var connectWaiter: CheckedContinuation<Void, any Error>?
    var established = false
    var finished = false
    var dropping = false
    var sentClose: (UInt16, String)?
    var immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)?

    init(id: Int, continuation: AsyncStream<WebSocketEvent>.Continuation) {
        self.id = id
        self.continuation = continuation
    }

    func finish(_ event: WebSocketEvent) {
        guard !finished else { return }
        finished = true
        continuation.yield(event)
        continuation.finish()
    }
}

/// The WebSocket logic both roles share: the table of live connections, frame assembly,
/// the outbox and the close handshake. Its state is touched only on the loop thread.
///
/// `@unchecked Sendable`: public methods only enqueue onto the loop; the rest runs there.
final class ConnectionTable: @unchecked Sendable {
    let loop: ServiceLoop
    var connections: [Int: ConnectionState] = [:]
    private var nextID = 1
    /// Set once the owner shut down (service thread only).
    var closed = false
    let maxMessageBytes: Int

    init(loop: ServiceLoop, maxMessageBytes: Int = 4 << 20) {
        self.loop = loop
        self.maxMessageBytes = maxMessageBytes
    }

    /// Loop thread only.
    func register(continuation: AsyncStream<WebSocketEvent>.Continuation) -> ConnectionState {
        let state = ConnectionState(id: nextID, continuation: continuation)
        nextID += 1
        connections[state.id] = state
        return state
    }

    static func tag(_ id: Int) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: id) }

    func state(for wsi: OpaquePointer) -> ConnectionState? {
        guard let raw = lws_get_opaque_user_data(wsi) else { return nil }
        return connections[Int(bitPattern: raw)]
    }

    func submit(_ id: Int, _ item: Outgoing) {
        loop.enqueue { [self] in
            guard let state = connections[id], !state.finished else { return }
            if case .drop = item, let wsi = state.wsi {
                // At once, not behind what waits to be written: a half-open peer may never let
                // those go (no writable callback comes while its window is full). This runs
                // from the loop's queue, not from this connection's callback, so the
                // synchronous close is allowed; `closed` is called from within it.
                state.dropping = true
                lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC)
                return
            }
            state.outbox.append(item)
            if let wsi = state.wsi, state.established { lws_callback_on_writable(wsi) }
        }
    }

    // MARK: Callbacks (loop thread)

    func established(_ wsi: OpaquePointer, _ state: ConnectionState) {
        state.wsi = wsi
        state.established = true
        state.connectWaiter?.resume()
        state.connectWaiter = nil
        // Frames queued before the handshake otherwise wait for lws's next timer tick.
        if !state.outbox.isEmpty { lws_callback_on_writable(wsi) }
    }

    func receive(_ wsi: OpaquePointer, _ state: ConnectionState, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        if lws_is_first_fragment(wsi) != 0 { state.fragments.removeAll(keepingCapacity: true) }
        if let input, length > 0 {
            guard state.fragments.count + length <= maxMessageBytes else {
                closeNow(wsi, code: 1009, reason: "message too large")
                state.finish(.failed(WebSocketError(kind: .messageTooLarge, detail: "over \(maxMessageBytes) bytes")))
                return -1
            }
            state.fragments.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length))
        }
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return 0 }
        if lws_frame_is_binary(wsi) != 0 {
            state.continuation.yield(.binary(Data(state.fragments)))
        } else {
            if let reply = state.immediateReply, let answer = state.fragments.withUnsafeBytes(reply), !state.finished {
                state.outbox.append(.text(answer))
                lws_callback_on_writable(wsi)
            }
            state.continuation.yield(.text(String(decoding: state.fragments, as: UTF8.self)))
        }
        state.fragments.removeAll(keepingCapacity: true)
        return 0
    }

    func writable(_ wsi: OpaquePointer, _ state: ConnectionState) -> Int32 {
        guard !state.outbox.isEmpty else { return 0 }
        let item = state.outbox.removeFirst()
        switch item {
        case .text(let bytes):
            if write(wsi, bytes, LWS_WRITE_TEXT) < 0 { return -1 }
        case .ping:
            if write(wsi, Array("convops".utf8), LWS_WRITE_PING) < 0 { return -1 }
        case .close(let code, let reason):
            closeNow(wsi, code: code, reason: reason)
            return -1
        case .drop:
            state.dropping = true
            return -1
        }
        if !state.outbox.isEmpty { lws_callback_on_writable(wsi) }
        return 0
    }

    func peerInitiatedClose(_ state: ConnectionState, _ input: UnsafeMutableRawPointer?, _ length: Int) {
        guard let input, length >= 2 else { state.peerClose = (1005, ""); return }
        let bytes = UnsafeRawBufferPointer(start: input, count: length)
        let code = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        state.peerClose = (code, String(decoding: bytes.dropFirst(2), as: UTF8.self))
    }

    func closed(_ state: ConnectionState) {
        connections[state.id] = nil
        state.wsi = nil
        if let (code, reason) = state.peerClose {
            state.finish(.closed(code: code, reason: reason))
        } else if let sentClose = state.sentClose {
            state.finish(.closed(code: sentClose.0, reason: sentClose.1))
        } else {
            state.finish(.failed(WebSocketError(kind: .connectionLost, detail: state.dropping ? "dropped" : "closed without a close frame")))
        }
    }

    func connectionError(_ state: ConnectionState, _ input: UnsafeMutableRawPointer?, _ length: Int) {
        connections[state.id] = nil
        let detail = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "unknown error"
        let error = WebSocketError(kind: state.established ? .connectionLost : .connectFailed, detail: detail)
        if let waiter = state.connectWaiter {
            state.connectWaiter = nil
            waiter.resume(throwing: error)
        }
        state.finish(.failed(error))
    }

    /// Fails every connection still open (at shutdown).
    func failAll() {
        for state in connections.values {
            let error = WebSocketError(kind: .shutdown, detail: "")
            state.connectWaiter?.resume(throwing: error)
            state.connectWaiter = nil
            state.finish(.failed(error))
        }
        connections.removeAll()
    }

    private func closeNow(_ wsi: OpaquePointer, code: UInt16, reason: String) {
        var bytes = Array(reason.utf8.prefix(123))
        bytes.withUnsafeMutableBufferPointer { buffer in
            lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code)), buffer.baseAddress, buffer.count)
        }
        if let state = state(for: wsi) { state.sentClose = (code, reason) }
    }

    private func write(_ wsi: OpaquePointer, _ payload: [UInt8], _ kind: lws_write_protocol) -> Int32 {
        var buffer = [UInt8](repeating: 0, count: convops_lws_pre + payload.count)
        buffer.replaceSubrange(convops_lws_pre..., with: payload)
        return buffer.withUnsafeMutableBufferPointer { b in
            lws_write(wsi, b.baseAddress! + convops_lws_pre, payload.count, kind)
        }
    }
}
