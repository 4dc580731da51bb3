/// What a person did in Slack, read from an envelope's payload. Channels speak these, not JSON.
public enum SlackInbound: Sendable, Hashable {
    /// `/convops restart web-1`
    case slashCommand(SlashCommand)
    /// An @mention or a direct message.
    case message(ChatMessage)
    /// A button click.
    case blockAction(BlockAction)
    /// Anything else (shortcuts, view submissions, other events): acknowledged and ignored.
    case ignored(String)

    public struct SlashCommand: Sendable, Hashable {
        public var command: String
        public var text: String
        public var userID: String
        public var userName: String
        public var channelID: String
        public var teamID: String
        public var responseURL: String?
    }

    public struct ChatMessage: Sendable, Hashable {
        public var eventID: String
        public var text: String
        public var userID: String
        public var channelID: String
        /// The message's own ts, for threading the reply.
        public var ts: String
        public var threadTS: String?
        public var isDirect: Bool
    }

    public struct BlockAction: Sendable, Hashable {
        public var actionID: String
        public var value: String
        public var userID: String
        public var userName: String
        public var channelID: String?
        /// The message the button was on.
        public var messageTS: String?
        public var responseURL: String?
    }

    /// Reads an envelope. Payloads of the wrong shape come back `.ignored` with the reason.
    public static func read(_ envelope: Envelope) -> SlackInbound {
        let p = envelope.payload
        switch envelope.type {
        case .slashCommands:
            guard let user = p["user_id"]?.string, let channel = p["channel_id"]?.string else {
                return .ignored("slash command without user_id or channel_id")
            }
            return .slashCommand(SlashCommand(command: p["command"]?.string ?? "", text: p["text"]?.string ?? "",
                                              userID: user, userName: p["user_name"]?.string ?? user, channelID: channel,
                                              teamID: p["team_id"]?.string ?? "", responseURL: p["response_url"]?.string))
        case .eventsAPI:
            guard let event = p["event"] else { return .ignored("events_api without an event (\(p["type"]?.string ?? "-"))") }
            let type = event["type"]?.string ?? ""
            // Our own posts, edits and other bots' messages are not requests.
            if event["bot_id"] != nil || event["subtype"] != nil { return .ignored("\(type) from a bot or with a subtype") }
            let isDirect = type == "message" && event["channel_type"]?.string == "im"
            guard type == "app_mention" || isDirect else { return .ignored("event \(type)") }
            guard let user = event["user"]?.string, let channel = event["channel"]?.string, let ts = event["ts"]?.string else {
                return .ignored("\(type) without user, channel or ts")
            }
            return .message(ChatMessage(eventID: p["event_id"]?.string ?? envelope.id, text: event["text"]?.string ?? "",
                                        userID: user, channelID: channel, ts: ts, threadTS: event["thread_ts"]?.string,
                                        isDirect: isDirect))
        case .interactive:
            guard p["type"]?.string == "block_actions" else { return .ignored("interactive \(p["type"]?.string ?? "-")") }
            guard let action = p["actions"]?[0], let actionID = action["action_id"]?.string,
                  let user = p["user"]?["id"]?.string else {
                return .ignored("block_actions without an action or a user")
            }
            return .blockAction(BlockAction(actionID: actionID, value: action["value"]?.string ?? "", userID: user,
                                            userName: p["user"]?["name"]?.string ?? p["user"]?["username"]?.string ?? user,
                                            channelID: p["container"]?["channel_id"]?.string ?? p["channel"]?["id"]?.string,
                                            messageTS: p["container"]?["message_ts"]?.string ?? p["message"]?["ts"]?.string,
                                            responseURL: p["response_url"]?.string))
        case .other(let type):
            return .ignored("envelope type \(type)")
        }
    }
}

extension SlackInbound {
    /// The Slack user behind the event, when there is one.
    public var userID: String? {
        switch self {
        case .slashCommand(let c): c.userID
        case .message(let m): m.userID
        case .blockAction(let a): a.userID
        case .ignored: nil
        }
    }
}

/// Which workspace, app and organisation an envelope says it comes from. Each envelope's
/// payload is checked against the bot's own (auth.test) before anything else is read.
public struct SlackOrigin: Sendable, Hashable {
    public var teamID: String?
    public var appID: String?
    public var enterpriseID: String?

    public init(teamID: String?, appID: String?, enterpriseID: String?) {
        self.teamID = teamID
        self.appID = appID
        self.enterpriseID = enterpriseID
    }

    /// Slash commands and events carry `team_id`; interactive payloads a `team` object.
    public static func of(_ envelope: Envelope) -> SlackOrigin {
        let p = envelope.payload
        return SlackOrigin(teamID: p["team_id"]?.string ?? p["team"]?["id"]?.string,
                           appID: p["api_app_id"]?.string,
                           enterpriseID: p["enterprise_id"]?.string ?? p["enterprise"]?["id"]?.string)
    }

    /// Why an envelope is not from this bot's workspace, app and organisation; nil when it is.
    /// The team must match; the app and organisation wherever the bot's identity names them
    /// (an envelope naming an organisation the bot is not in is refused too).
    public func mismatch(with identity: SlackIdentity) -> String? {
        guard let home = identity.teamID else { return "the bot's own workspace is not known (auth.test)" }
        guard teamID == home else { return "team_id \(teamID ?? "missing") is not \(home)" }
        guard let app = identity.appID else { return "the bot's own app is not known (auth.test, bots.info)" }
        guard appID == app else { return "api_app_id \(appID ?? "missing") is not \(app)" }
        if enterpriseID != identity.enterpriseID {
            return "enterprise_id \(enterpriseID ?? "none") is not \(identity.enterpriseID ?? "none")"
        }
        return nil
    }
}
