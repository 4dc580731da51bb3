/// Every message key the engine and the console use. `Grammar.load` checks that each
/// locale has all of them, so a missing sentence fails at start, not in front of a person.
enum MessageKey {
    static let all: Set<String> = [
        "grammar.empty", "grammar.no_match", "grammar.missing_slot", "grammar.ambiguous", "grammar.suggestions",
        "help.header", "help.line",
        "status.one", "status.overview", "status.overview_line", "status.none",
        "resolve.not_found", "resolve.not_found_suggest", "resolve.ambiguous", "resolve.ambiguous_line",
        "plan.prompt", "plan.calls", "duration.second", "duration.seconds", "duration.minute", "duration.minutes",
        "request.executing", "request.succeeded", "request.failed", "request.cancelled", "request.expired",
        "request.outcome_unknown", "request.reconciled", "request.state_unknown", "request.awaiting_approval", "request.approved", "request.rejected",
        "request.none_pending", "request.which", "request.not_found", "request.duplicate",
        "refusal.not_requester", "refusal.self_approval", "refusal.invalid_state", "refusal.finished", "refusal.race",
        "intent.not_available", "whoami", "policy.denied", "policy.not_approver", "request.expiring",
        "error.aws", "error.internal",
        "console.welcome", "console.as", "console.confirm_word", "console.bye", "console.prompt_hint",
        "outcome.reboot-instance",
        "slack.plan_headline", "slack.plan_footer", "slack.approval_headline", "slack.confirm", "slack.cancel", "slack.approve",
        "slack.reject", "slack.dialog_title", "slack.dialog_text", "slack.dialog_confirm", "slack.dialog_deny",
        "slack.field_resource", "slack.field_account", "slack.field_region", "slack.field_calls",
        "slack.forged", "slack.unknown_button", "slack.post_failed", "account.unknown", "account.region",
        "action.reboot-instance", "action.stop-instance", "action.start-instance", "outcome.stop-instance", "outcome.start-instance",
        "request.progress", "plan.dry_run", "intent.not_for_kind", "scale.negative", "scale.above_max", "scale.below_min", "scale.above_limit",
        "grammar.out_of_range.count", "grammar.out_of_range.delta", "grammar.out_of_range.duration", "number.group_separator",
        "action.redeploy-service", "action.reboot-db-instance", "action.scale-service", "action.scale-group",
        "outcome.redeploy-service", "outcome.reboot-db-instance", "outcome.scale-service", "outcome.scale-group",
        "resolve.unsearched", "resolve.unsearched_refused", "resolve.none_searched", "resolve.no_place", "error.nowhere",
        "account.no_region", "alarms.in_state", "dry_run.decision",
        "status.checks", "status.cpu", "status.cpu_none", "status.alarms", "status.no_alarms", "status.unavailable",
        "alarms.any_state", "alarms.none", "alarms.header", "alarms.line", "alarms.more",
        "logs.no_group", "logs.group_missing", "logs.matching", "logs.none", "logs.at_least", "logs.header", "logs.line",
    ]
}
