import ConvOpsCore
import ConvOpsHTTP
import Foundation
import Logging
import Synchronization

/// A person as Slack's users.info describes them (only what ConvOps keeps).
public struct SlackUser: Sendable, Hashable {
    public var id: String
    public var name: String
    public var isBot: Bool
    /// The workspace the account belongs to (another one for Slack Connect users).
    public var teamID: String?
    /// The organisation of an Enterprise Grid account.
    public var enterpriseID: String?
    /// A guest: `is_restricted` (multi-channel) or `is_ultra_restricted` (single-channel).
    public var isRestricted = false
    /// Slack's flag for someone outside the organisation seen in a shared channel.
    public var isStranger = false
    /// A deactivated account (`deleted`): it can no longer write in Slack, and counts for nothing here.
    public var isDeleted = false
}

/// Who the bot is, and which workspace and app its envelopes must come from (auth.test).
public struct SlackIdentity: Sendable, Hashable {
    public var userID: String
    public var botID: String?
    public var team: String?
    public var teamID: String?
    public var appID: String?
    public var enterpriseID: String?
}

/// The Web API methods ConvOps uses, over the shared libcurl client. Errors come back as
/// `SlackAPIError` (Slack answers most errors as HTTP 200 with `"ok": false`). A 429 is
/// honoured: the call, and every later call on the same method (and channel), waits out
/// Retry-After, in order, and is then sent again, so a storm delays messages but loses none.
public final class SlackWebAPI: Sendable {
    public let baseURL: String
    let http: HTTPClient
    let botToken: SlackToken
    let appToken: SlackToken?
    let logger: Logger
    /// How many 429s in a row one call sits out before it gives up.
    let maxRateLimitedAttempts: Int
    private let limits = Mutex(RateLimitState())
    private let queues = KeyedQueues()
    private let users = Mutex([String: (SlackUser, ContinuousClock.Instant)]())
    private let epoch = ContinuousClock.now
    public static let userCacheTTL: Duration = .seconds(3600)

    public init(http: HTTPClient, baseURL: String = "https://slack.com/api/", botToken: SlackToken, appToken: SlackToken?,
                maxRateLimitedAttempts: Int = 30, logger: Logger) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        self.botToken = botToken
        self.appToken = appToken
        self.maxRateLimitedAttempts = maxRateLimitedAttempts
        self.logger = logger
    }

    // MARK: Methods

    /// A fresh, single-use Socket Mode URL (app-level token, `connections:write`).
    public func openConnection() async throws(SlackAPIError) -> String {
        guard let appToken else {
            throw SlackAPIError(method: "apps.connections.open", code: "not_authed", detail: "SLACK_APP_TOKEN is not set")
        }
        // Never queued behind a 429 here: the connection manager owns its own backoff.
        let answer = try await send("apps.connections.open", [:], token: appToken, keys: [], retryRateLimited: false)
        guard let url = answer["url"]?.string else {
            throw SlackAPIError(method: "apps.connections.open", code: "invalid_response", detail: "no url in the answer")
        }
        return url
    }

    /// The bot's own identity: its user id (to strip mentions and ignore itself).
    public func authTest() async throws(SlackAPIError) -> SlackIdentity {
        let answer = try await call("auth.test", [:])
        guard let user = answer["user_id"]?.string else {
            throw SlackAPIError(method: "auth.test", code: "invalid_response", detail: "no user_id")
        }
        var appID = answer["app_id"]?.string
        // Older answers leave app_id out; the bot's own record has it (bots.info, users:read).
        if appID == nil, let bot = answer["bot_id"]?.string {
            appID = try await call("bots.info", ["bot": .string(bot)])["bot"]?["app_id"]?.string
        }
        return SlackIdentity(userID: user, botID: answer["bot_id"]?.string, team: answer["team"]?.string,
                             teamID: answer["team_id"]?.string, appID: appID, enterpriseID: answer["enterprise_id"]?.string)
    }

    /// Posts a message; returns its ts (what chat.update needs).
    public func postMessage(channel: String, _ message: SlackMessage, threadTS: String? = nil) async throws(SlackAPIError) -> String {
        var body = message.body
        body["channel"] = .string(channel)
        if let threadTS { body["thread_ts"] = .string(threadTS) }
        let answer = try await call("chat.postMessage", body, channel: channel)
        guard let ts = answer["ts"]?.string else {
            throw SlackAPIError(method: "chat.postMessage", code: "invalid_response", detail: "no ts")
        }
        return ts
    }

    public func update(channel: String, ts: String, _ message: SlackMessage) async throws(SlackAPIError) {
        var body = message.body
        body["channel"] = .string(channel)
        body["ts"] = .string(ts)
        _ = try await call("chat.update", body, channel: channel)
    }

    public func postEphemeral(channel: String, user: String, _ message: SlackMessage, threadTS: String? = nil) async throws(SlackAPIError) {
        var body = message.body
        body["channel"] = .string(channel)
        body["user"] = .string(user)
        if let threadTS { body["thread_ts"] = .string(threadTS) }
        _ = try await call("chat.postEphemeral", body, channel: channel)
    }

    /// Answers through a slash command's or a click's response_url (works in channels the bot
    /// is not in). Slack answers `ok` as plain text there, or JSON.
    public func respond(to responseURL: String, _ message: SlackMessage, ephemeral: Bool = true,
                        replaceOriginal: Bool = false) async throws(SlackAPIError) {
        var body = message.body
        body["response_type"] = .string(ephemeral ? "ephemeral" : "in_channel")
        body["replace_original"] = .bool(replaceOriginal)
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(method: .post, url: responseURL,
                                                          headers: [("Content-Type", "application/json; charset=utf-8")],
                                                          body: JSON.object(body).data))
        } catch {
            throw SlackAPIError(method: "response_url", code: "network", detail: "\(error)")
        }
        guard response.status == 200 else {
            throw SlackAPIError(method: "response_url", code: "http_\(response.status)", detail: String(response.bodyText.prefix(200)))
        }
    }

    /// The bot's alert message in `channel` since `oldest` whose metadata names `id`, if any
    /// (conversations.history, which needs channels:history or groups:history).
    public func findAlertMessage(id: String, in channel: String, oldest: Double, postedBy botID: String?) async throws(SlackAPIError) -> String? {
        var cursor: String?
        // Pages of 200, newest first; a crash leaves the message seconds to minutes back, so ten
        // pages (2,000 messages) is far past what one channel holds in that time.
        for _ in 0..<10 {
            var body: [String: JSON] = ["channel": .string(channel), "oldest": .string(String(format: "%.6f", oldest)),
                                        "include_all_metadata": true, "limit": 200]
            if let cursor { body["cursor"] = .string(cursor) }
            let answer = try await call("conversations.history", body, channel: channel)
            // Only the bot's own message counts: anyone can post a message carrying the same metadata.
            for m in answer["messages"]?.array ?? [] where m["metadata"]?["event_type"]?.string == "convops_alert"
                && m["metadata"]?["event_payload"]?["id"]?.string == id && botID != nil && m["bot_id"]?.string == botID {
                return m["ts"]?.string
            }
            guard answer["has_more"]?.bool == true, let next = answer["response_metadata"]?["next_cursor"]?.string, !next.isEmpty else { return nil }
            cursor = next
        }
        return nil
    }

    /// users.info, cached for an hour (`maxAge`: less, where how someone stands decides what
    /// they may do from outside Slack): names for plans and approvals.
    public func user(_ id: String, maxAge: Duration = SlackWebAPI.userCacheTTL) async throws(SlackAPIError) -> SlackUser {
        let now = ContinuousClock.now
        if let (user, at) = users.withLock({ $0[id] }), now - at < maxAge { return user }
        let answer = try await call("users.info", ["user": .string(id)])
        guard let u = answer["user"], let uid = u["id"]?.string else {
            throw SlackAPIError(method: "users.info", code: "invalid_response", detail: "no user")
        }
        let display = u["profile"]?["display_name"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            ?? u["real_name"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? u["name"]?.string ?? uid
        let user = SlackUser(id: uid, name: display, isBot: u["is_bot"]?.bool ?? false, teamID: u["team_id"]?.string,
                             enterpriseID: u["enterprise_user"]?["enterprise_id"]?.string,
                             isRestricted: u["is_restricted"]?.bool == true || u["is_ultra_restricted"]?.bool == true,
                             isStranger: u["is_stranger"]?.bool == true, isDeleted: u["deleted"]?.bool == true)
        users.withLock { $0[id] = (user, now) }
        return user
    }

    // MARK: Transport

    /// A bot-token call. Calls on the same method and channel keep their order.
    public func call(_ method: String, _ body: [String: JSON], channel: String? = nil) async throws(SlackAPIError) -> JSON {
        let keys = [method] + (channel.map { ["\(method)#\($0)"] } ?? [])
        let queueKey = keys.last!
        let result: Result<JSON, SlackAPIError> = await queues.run(queueKey) { [self] in
            await Result { () async throws(SlackAPIError) in try await send(method, body, token: botToken, keys: keys, retryRateLimited: true) }
        }
        return try result.get()
    }

    private func now() -> Double {
        let d = ContinuousClock.now - epoch
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func send(_ method: String, _ body: [String: JSON], token: SlackToken, keys: [String],
                      retryRateLimited: Bool) async throws(SlackAPIError) -> JSON {
        var attempt = 0
        while true {
            attempt += 1
            let wait = limits.withLock { $0.wait(keys, now: now()) }
            // `wait` is at most RateLimitState.longestWait: the conversion cannot trap.
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(RateLimitState.bounded(wait) * 1000))) }
            let response: HTTPResponse
            do {
                response = try await http.execute(HTTPRequest(method: .post, url: baseURL + method,
                                                              headers: [("Content-Type", "application/json; charset=utf-8"),
                                                                        ("Authorization", token.authorization)],
                                                              body: JSON.object(body).data))
            } catch let error as HTTPError {
                // A call that never reached Slack can be sent again without doubling anything.
                if error.kind == .connectFailed, attempt < 3 {
                    try? await Task.sleep(for: .milliseconds(200 * attempt))
                    continue
                }
                throw SlackAPIError(method: method, code: "network", detail: error.description)
            } catch {
                throw SlackAPIError(method: method, code: "network", detail: "\(error)")
            }
            if response.status == 429 {
                let retryAfter = RateLimitState.retryAfter(response.header("Retry-After"))
                guard retryRateLimited, attempt < maxRateLimitedAttempts else {
                    throw SlackAPIError(method: method, code: "ratelimited", detail: "retry after \(Int(retryAfter)) s", retryAfter: retryAfter)
                }
                limits.withLock { $0.limited(keys, retryAfter: retryAfter, now: now()) }
                logger.notice("slack.ratelimited", metadata: ["slack.method": "\(method)", "slack.retry_after": "\(retryAfter)",
                                                             "slack.attempt": "\(attempt)"])
                continue
            }
            guard let json = JSON.parse(response.body), case .object = json else {
                throw SlackAPIError(method: method, code: "http_\(response.status)",
                                    detail: "an answer that is not JSON (\(response.body.count) bytes)")
            }
            guard json["ok"]?.bool == true else {
                let code = json["error"]?.string ?? "http_\(response.status)"
                if code == "ratelimited", retryRateLimited, attempt < maxRateLimitedAttempts {
                    limits.withLock { $0.limited(keys, retryAfter: 1, now: now()) }
                    continue
                }
                throw SlackAPIError(method: method, code: code, detail: json["needed"]?.string ?? "")
            }
            return json
        }
    }
}

/// Runs work one at a time per key, in the order it was queued.
final class KeyedQueues: Sendable {
    private let tails = Mutex([String: Task<Void, Never>]())

    func run<T: Sendable>(_ key: String, _ body: @escaping @Sendable () async -> T) async -> T {
        let task: Task<T, Never> = tails.withLock { tails in
            let previous = tails[key]
            let task = Task { () async -> T in
                await previous?.value
                return await body()
            }
            tails[key] = Task { _ = await task.value }
            return task
        }
        return await task.value
    }
}
