import ConvOpsHTTP

/// A Web API call that failed, in words a person can act on.
public struct SlackAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `chat.postMessage`
    public var method: String
    /// Slack's error code (`not_in_channel`), or `http_<status>` / `network`.
    public var code: String
    /// Extra detail: the scope Slack said is needed, or the transport's message.
    public var detail: String
    /// For `ratelimited`: the seconds Slack asked us to wait (Retry-After).
    public var retryAfter: Double?

    public init(method: String, code: String, detail: String = "", retryAfter: Double? = nil) {
        self.method = method
        self.code = code
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// Sending the same message to the same channel again cannot help (a network error, a
    /// rate limit or Slack's own trouble can): the channel is gone or closed to the bot, or the
    /// message is one Slack will never take.
    public var isPermanentForMessage: Bool {
        isFatalForToken || ["channel_not_found", "not_in_channel", "is_archived", "restricted_action", "invalid_blocks",
                            "invalid_blocks_format", "msg_too_long", "too_many_attachments", "invalid_metadata_format",
                            "invalid_metadata_schema", "metadata_too_large", "cant_update_message", "message_not_found",
                            "edit_window_closed", "missing_scope", "ekm_access_denied", "team_access_not_granted",
                            "invalid_arguments", "not_allowed_token_type"].contains(code)
    }

    /// Retrying with the same token cannot help: the app must be reconfigured.
    public var isFatalForToken: Bool {
        ["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "user_removed_from_team",
         "team_disabled", "forbidden_team", "missing_args", "no_permission"].contains(code)
    }

    public var description: String {
        switch code {
        case "invalid_auth", "not_authed":
            return "Slack refused the token for \(method) (\(code)): check SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, with connections:write)"
        case "token_revoked", "token_expired", "account_inactive":
            return "The Slack token for \(method) no longer works (\(code)): reinstall the app and set the new token"
        case "not_in_channel":
            return "ConvOps is not in this channel: invite it with /invite @convops, then try again"
        case "channel_not_found":
            return "Slack does not know that channel (\(method)): check the channel id, and that the app was added to it"
        case "missing_scope":
            let needed = detail.isEmpty ? "" : " (needs \(detail))"
            return "The Slack app lacks a permission for \(method)\(needed): add it under OAuth & Permissions (see slack/manifest.yaml) and reinstall the app"
        case "ratelimited":
            return "Slack kept rate-limiting \(method); the message could not be sent in time"
        case "network":
            return "Could not reach Slack for \(method): \(detail). Check the network (or SLACK_API_URL)"
        default:
            return "Slack's \(method) failed: \(code)\(detail.isEmpty ? "" : " (\(detail))")"
        }
    }
}
