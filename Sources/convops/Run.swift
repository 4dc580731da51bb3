import ArgumentParser
import ConvOpsBot
import ConvOpsHTTP
import ConvOpsWebSocket
import Foundation

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to Slack (Socket Mode) and/or WhatsApp and serve requests until stopped.",
        discussion: "Slack needs SLACK_APP_TOKEN (xapp-…) and SLACK_BOT_TOKEN (xoxb-…) in the environment; WhatsApp a `whatsapp` section in the config and WHATSAPP_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN. With WhatsApp configured and no Slack token, it runs WhatsApp alone. SIGTERM or Ctrl-C closes the connections cleanly.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // The sockets' TLS set-up runs beside the grammar and store instead of after them
        // (curl's global set-up first: it must come before other threads use OpenSSL).
        HTTPClient.prepare()
        WebSocketService.prepare()
        // Whichever way this returns (a refused configuration returns at once), not before the
        // TLS set-up is done: exiting under it crashes in OpenSSL's exit handlers.
        defer { WebSocketService.waitUntilPrepared() }
        let context = try Context(global)
        let runtime = try context.runtime()
        var slack: SlackChannel?
        let whatsApp: WhatsAppChannel?
        do {
            whatsApp = try runtime.whatsApp(environment: context.environment, logger: context.logger)
            // WhatsApp alone when it is configured and neither Slack token is set; one token
            // without the other is a mistake to name, not a reason to leave Slack out.
            if whatsApp == nil || Self.slackWanted(context.environment) {
                slack = try runtime.slack(environment: context.environment, logger: context.logger)
            }
        } catch {
            Context.fail("\(error)")
            throw Exit.setup
        }
        if slack == nil, let problem = runtime.withoutSlackProblem() {
            Context.fail(problem)
            throw Exit.setup
        }
        let unknown = runtime.unknownAlertPeople()
        if !unknown.isEmpty {
            // Slack ids without WhatsApp are fine beside Slack (their channels show the alert); numbers never are.
            let numbers = unknown.filter { $0.hasPrefix("+") }
            if slack == nil || !numbers.isEmpty {
                Context.fail("alerts name people who are not in whatsapp.people (\(unknown.count): \((slack == nil ? unknown : numbers).prefix(3).map { String($0.prefix(4)) + "…" }.joined(separator: ", "))): add them there with their number, or take them out of the routes")
                throw Exit.setup
            }
        }
        switch context.configuration.policySource {
        case .none:
            // A workspace is many people: nobody gets everything by default.
            Context.fail(Self.noPolicy)
            throw Exit.setup
        case .open:
            context.logger.warning("convops.policy_open", metadata: ["policy.mode": "open"])
            Context.fail("warning: \"mode\": \"open\" — everyone in the workspace may do everything, without approval")
        case .configured:
            let open = context.configuration.policy.changesAnyoneMayMakeUnapproved
            if !open.isEmpty {
                Context.fail("warning: the policy lets everyone (*) \(open.map(\.rawValue).joined(separator: ", ")) without approval")
            }
        }
        if !CoreDumps.off { context.logger.warning("convops.core_dumps", metadata: ["process.core_dumps": "\(CoreDumps.state(environment: context.environment))"]) }
        if slack != nil {
            emit("convops: connecting to Slack")
        } else {
            emit("convops: WhatsApp only (SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set)")
            if let warning = runtime.approvalsWithoutSlack() { Context.fail("warning: \(warning)") }
        }
        // SIGTERM or SIGINT: Slack stops taking envelopes, work in hand finishes (within its
        // bound), the sockets close with a close frame (Slack forgets them at once instead of
        // counting ghosts toward the app's 10), the sweeper stops, the audit head is signed.
        do {
            if let settings = context.configuration.whatsApp {
                emit("convops: WhatsApp webhook on http://\(settings.interface):\(settings.port)\(settings.path) (put your TLS terminator in front)")
            }
            try await runtime.services(slack: slack, whatsApp: whatsApp, logger: context.logger).run()
        } catch let stopped as SlackStopped {
            Context.fail("stopped: \(stopped.reason)")
            throw Exit.setup
        } catch {
            Context.fail("stopped: \(error)")
            throw Exit.setup
        }
        emit("convops: stopped")
    }

    static func slackWanted(_ environment: [String: String]) -> Bool {
        !(environment["SLACK_APP_TOKEN"] ?? "").isEmpty || !(environment["SLACK_BOT_TOKEN"] ?? "").isEmpty
    }

    static let noPolicy = """
        convops run needs a policy: without one, every member of the workspace could restart, stop and scale anything, with no approval.
        Put a `policy` section in the config file CONVOPS_CONFIG names (see “The policy” in the README). A minimal one, with your Slack user ids:

        {"policy": {
          "mode": "team",
          "groups": {"oncall": ["U0YOURID1", "U0YOURID2"]},
          "rules": [
            {"who": ["*"], "intents": ["status", "alarms", "logs", "help", "whoami", "cancel"]},
            {"who": ["group:oncall"], "intents": ["*"], "environments": ["*"]}
          ],
          "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:oncall"]}
        }}

        To let everyone do everything anyway, say so: {"mode": "open"}.
        """
}
