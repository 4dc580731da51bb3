import ConvOpsCore
import Foundation

/// One text frame from Slack's Socket Mode server, typed. Unknown and malformed frames are
/// values too: they are logged and (when they carry an envelope id) acknowledged, never fatal.
public enum SocketModeMessage: Sendable, Hashable {
    case hello(Hello)
    case disconnect(DisconnectReason)
    case envelope(Envelope)
    /// A frame with a `type` we don't know and no envelope id.
    case unknown(type: String)
    /// Not a JSON object with a `type`.
    case malformed

    public struct Hello: Sendable, Hashable {
        /// Sockets Slack has registered for the app, across every process.
        public var numConnections: Int?
        /// Seconds Slack means to keep this socket (about 5 hours in practice).
        public var approximateConnectionTime: Int?
        public var host: String?
    }

    public static func decode(_ text: String) -> SocketModeMessage {
        // Slack's frames are JSON objects; anything else (python only parses what starts
        // with "{") is not ours to interpret.
        guard text.first == "{", let json = JSON.parse(text), case .object = json else { return .malformed }
        let type = json["type"]?.string ?? ""
        switch type {
        case "hello":
            return .hello(Hello(numConnections: json["num_connections"]?.int,
                                approximateConnectionTime: json["debug_info"]?["approximate_connection_time"]?.int,
                                host: json["debug_info"]?["host"]?.string))
        case "disconnect":
            return .disconnect(DisconnectReason(json["reason"]?.string ?? ""))
        default:
            // Anything with an envelope id is an envelope, of a type we may not know: it is
            // acknowledged all the same, so Slack does not retry it at us.
            guard let id = json["envelope_id"]?.string, !id.isEmpty else {
                return type.isEmpty ? .malformed : .unknown(type: type)
            }
            return .envelope(Envelope(id: id, type: EnvelopeType(type), payload: json["payload"] ?? .null,
                                      acceptsResponsePayload: json["accepts_response_payload"]?.bool ?? false,
                                      retryAttempt: json["retry_attempt"]?.int ?? 0,
                                      retryReason: json["retry_reason"]?.string ?? ""))
        }
    }
}

public enum DisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// A refresh is coming: open the replacement before this one goes.
    case warning
    case refreshRequested
    /// Slack holds more sockets for the app than it allows (10): ours or ghosts.
    case tooManyWebsockets
    /// Socket Mode was turned off for the app: reconnecting cannot help.
    case linkDisabled
    case other(String)

    public init(_ raw: String) {
        switch raw {
        case "warning": self = .warning
        case "refresh_requested": self = .refreshRequested
        case "too_many_websockets": self = .tooManyWebsockets
        case "link_disabled": self = .linkDisabled
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .warning: "warning"
        case .refreshRequested: "refresh_requested"
        case .tooManyWebsockets: "too_many_websockets"
        case .linkDisabled: "link_disabled"
        case .other(let raw): raw.isEmpty ? "(none)" : raw
        }
    }
}

public enum EnvelopeType: Sendable, Hashable, CustomStringConvertible {
    case slashCommands
    case eventsAPI
    case interactive
    case other(String)

    init(_ raw: String) {
        switch raw {
        case "slash_commands": self = .slashCommands
        case "events_api": self = .eventsAPI
        case "interactive": self = .interactive
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .slashCommands: "slash_commands"
        case .eventsAPI: "events_api"
        case .interactive: "interactive"
        case .other(let raw): raw
        }
    }
}

/// An envelope: something Slack wants acknowledged within 3 seconds.
public struct Envelope: Sendable, Hashable {
    public var id: String
    public var type: EnvelopeType
    public var payload: JSON
    public var acceptsResponsePayload: Bool
    /// Only events_api envelopes are redelivered; 0 on the first delivery.
    public var retryAttempt: Int
    public var retryReason: String
    /// The socket it came on (set by the client; 0 for an envelope made elsewhere).
    public var socket: Int = 0

    public init(id: String, type: EnvelopeType, payload: JSON, acceptsResponsePayload: Bool = false,
                retryAttempt: Int = 0, retryReason: String = "") {
        self.id = id
        self.type = type
        self.payload = payload
        self.acceptsResponsePayload = acceptsResponsePayload
        self.retryAttempt = retryAttempt
        self.retryReason = retryReason
    }

    /// What identifies the same delivery when Slack sends it again: the event id for
    /// events_api (a redelivery gets a new envelope id), else the envelope id itself.
    public var deliveryKey: String {
        if case .eventsAPI = type, let eventID = payload["event_id"]?.string { return "event:" + eventID }
        if case .interactive = type, let actionTS = payload["actions"]?[0]?["action_ts"]?.string {
            return "action:\(payload["user"]?["id"]?.string ?? ""):\(actionTS)"
        }
        return "envelope:" + id
    }

    /// The acknowledgement frame: `{"envelope_id":…}`, with a payload object where one helps
    /// (a string reply is wrapped as {"text": …}, as the SDKs learned the hard way).
    public static func ack(_ id: String, payload: JSON? = nil) -> String {
        var object: [String: JSON] = ["envelope_id": .string(id)]
        if let payload {
            if case .string(let text) = payload { object["payload"] = ["text": .string(text)] } else { object["payload"] = payload }
        }
        return JSON.object(object).text
    }
}

extension Envelope {
    /// The ack for a raw frame, worked out without decoding it: Slack's 3 seconds are not to be
    /// spent waiting for a task to run. Nil when the frame has no plain envelope id.
    @Sendable public static func immediateAck(_ frame: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let id = quickIDBytes(frame) else { return nil }
        return Array(#"{"envelope_id":""#.utf8) + id + Array(#""}"#.utf8)
    }

    /// The bytes of `"envelope_id":"…"`'s value. A quote inside a JSON string is always escaped,
    /// so the unescaped key can only be a key; ids with escapes are left to the full decoder.
    static func quickIDBytes(_ frame: UnsafeRawBufferPointer) -> ArraySlice<UInt8>? {
        let key = Array(#""envelope_id""#.utf8)
        guard frame.count > key.count, frame.first == UInt8(ascii: "{") else { return nil }
        var i = 0
        let end = frame.count - key.count
        search: while i <= end {
            for j in 0..<key.count where frame[i + j] != key[j] { i += 1; continue search }
            var k = i + key.count
            while k < frame.count, frame[k] == 0x20 || frame[k] == 0x09 || frame[k] == 0x0A || frame[k] == 0x0D { k += 1 }
            guard k < frame.count, frame[k] == UInt8(ascii: ":") else { return nil }
            k += 1
            while k < frame.count, frame[k] == 0x20 || frame[k] == 0x09 || frame[k] == 0x0A || frame[k] == 0x0D { k += 1 }
            guard k < frame.count, frame[k] == UInt8(ascii: "\"") else { return nil }
            let start = k + 1
            var stop = start
            while stop < frame.count, frame[stop] != UInt8(ascii: "\""), stop - start <= 128 {
                guard frame[stop] != UInt8(ascii: "\\"), frame[stop] >= 0x20 else { return nil }
                stop += 1
            }
            guard stop < frame.count, frame[stop] == UInt8(ascii: "\""), stop > start else { return nil }
            return ArraySlice(frame[start..<stop])
        }
        return nil
    }

    public static func quickID(_ frame: UnsafeRawBufferPointer) -> String? {
        quickIDBytes(frame).map { String(decoding: $0, as: UTF8.self) }
    }
}
