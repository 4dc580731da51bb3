import ConvOpsCore
import ConvOpsSlack
import ConvOpsWebSocket
import Foundation
import Synchronization

/// What the emulator delivers on a socket, built from the SDK fixtures.
extension SlackEmulator {

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
                        retry: Int = 0, socket: Int? = nil, enterprise: String? = nil, threadTS: String? = nil) throws -> String {
        let id = newEnvelopeID()
        let eventID = eventID ?? "Ev\(id.replacingOccurrences(of: "-", with: "").prefix(10))"
        var envelope = try SlackFixtures.json("socket_envelope_events_api_app_mention__python_sdk.json")
        var payload = envelope["payload"] ?? [:]
        payload = payload.setting("event_id", .string(eventID))
            .setting(path: ["event", "text"], .string("<@\(Self.botUserID)> \(text)"))
            .setting(path: ["event", "user"], .string(user)).setting(path: ["event", "channel"], .string(channel))
            .setting(path: ["event", "ts"], .string(nextTS()))
        if let enterprise { payload = payload.setting("enterprise_id", .string(enterprise)) }
        if let threadTS { payload = payload.setting(path: ["event", "thread_ts"], .string(threadTS)) }
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
}
