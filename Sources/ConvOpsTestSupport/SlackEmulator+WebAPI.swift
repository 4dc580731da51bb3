import ConvOpsCore
import ConvOpsSlack
import ConvOpsWebSocket
import Foundation
import Synchronization

/// The Web API methods and response_url endpoints, answered as Slack does.
extension SlackEmulator {
    func http(_ request: HTTPServerRequest) -> HTTPServerResponse {
        let path = request.path
        if path.hasPrefix("/response/") {
            let body = JSON.parse(request.body) ?? [:]
            state.withLock { s in
                s.calls.append(Call(method: "response_url", body: body, at: .now))
                s.responses[String(path.dropFirst("/response/".count)), default: []].append(body["text"]?.string ?? "")
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
            if method == "chat.postMessage", let rate = s.postRate, let channel = body["channel"]?.string {
                let now = ContinuousClock.now
                let recent = (s.posts[channel] ?? []).filter { now - $0 < .seconds(1) }
                if recent.count >= rate {
                    s.postRateViolations += 1
                    s.posts[channel] = recent
                    return 1
                }
                s.posts[channel] = recent + [now]
            }
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
        case "conversations.history":
            // Newest first, after `oldest`; metadata only with include_all_metadata, as Slack does.
            guard let channel = body["channel"]?.string else { return Self.answer(["ok": false, "error": "channel_not_found"]) }
            let oldest = Double(body["oldest"]?.string ?? "") ?? body["oldest"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0
            let withMetadata = body["include_all_metadata"]?.bool == true || body["include_all_metadata"]?.string == "true"
            let limit = max(1, min(999, body["limit"]?.int ?? 100))
            // The cursor is an offset into the newest-first list, opaque to the client as Slack's is.
            let offset = body["cursor"]?.string.flatMap { $0.hasPrefix("off:") ? Int($0.dropFirst(4)) : nil } ?? 0
            let all = state.withLock { s in
                Array(s.messages.filter { $0.channel == channel && $0.threadTS == nil && (Double($0.ts) ?? 0) > oldest }.reversed())
            }
            let page = all.dropFirst(offset).prefix(limit)
            let messages: [JSON] = page.map { m in
                var j: JSON = ["type": "message", "ts": .string(m.ts), "text": .string(m.text)]
                j = m.poster.hasPrefix("B") ? j.setting("bot_id", .string(m.poster)) : j.setting("user", .string(m.poster))
                if withMetadata, let metadata = m.versions.first?["metadata"] { j = j.setting("metadata", metadata) }
                return j
            }
            let more = offset + page.count < all.count
            return Self.answer(["ok": true, "messages": .array(messages), "has_more": .bool(more),
                                "response_metadata": ["next_cursor": .string(more ? "off:\(offset + page.count)" : "")]])
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
}
