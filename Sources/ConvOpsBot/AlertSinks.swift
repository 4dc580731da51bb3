import ConvOpsCore
import ConvOpsGrammar
import ConvOpsStore
import Foundation

/// The desk's one sink over the chat channels of this process: alert messages live in Slack;
/// a snooze asked for on WhatsApp is answered there when it ends. Without Slack (a WhatsApp-only
/// process) a Slack channel is a place no message can go.
public struct AlertSinks: AlertSink {
    let slack: (any AlertSink)?
    let whatsApp: WhatsAppChannel?

    public init(slack: (any AlertSink)?, whatsApp: WhatsAppChannel?) {
        self.slack = slack
        self.whatsApp = whatsApp
    }

    static let noSlack = AlertUndeliverable(
        "Slack is not connected to this convops (no SLACK_APP_TOKEN and SLACK_BOT_TOKEN): route alerts to people on WhatsApp, or connect Slack")

    func inSlack() throws -> any AlertSink {
        guard let slack else { throw Self.noSlack }
        return slack
    }

    public func post(_ notice: AlertNotice, to channel: String) async throws -> String { try await inSlack().post(notice, to: channel) }
    public func addButtons(_ notice: AlertNotice, at message: AlertMessage) async { await slack?.addButtons(notice, at: message) }
    public func update(_ notice: AlertNotice, at message: AlertMessage) async throws { try await inSlack().update(notice, at: message) }
    public func reply(_ notice: AlertNotice, under message: AlertMessage) async throws { try await inSlack().reply(notice, under: message) }
    public func find(_ id: String, in channel: String, since: Date) async -> String? { await slack?.find(id, in: channel, since: since) }
    public func postGroup(_ summary: AlertGroupSummary, to channel: String) async throws -> String {
        try await inSlack().postGroup(summary, to: channel)
    }
    public func updateGroup(_ summary: AlertGroupSummary, at message: AlertMessage) async throws {
        try await inSlack().updateGroup(summary, at: message)
    }

    public func snoozeStarted(_ snooze: Snooze, by person: String, channels: [String]) async throws {
        try await slack?.snoozeStarted(snooze, by: person, channels: channels.filter { !$0.hasPrefix("wa:") })
    }

    /// Told where it was asked for (either channel) and in Slack's alert channels; one place
    /// failing does not keep it from the others.
    public func snoozeEnded(_ snooze: Snooze, held: [StoredAlert], channels: [String]) async throws {
        var failure: (any Error)?
        if snooze.channel.hasPrefix("wa:") { await whatsApp?.snoozeEnded(snooze, held: held) }
        do {
            try await slack?.snoozeEnded(snooze, held: held, channels: channels.filter { !$0.hasPrefix("wa:") })
        } catch {
            failure = error
        }
        if let failure { throw failure }
    }

    /// "Snooze of web-1 ended: 3 alerts held back" and a line per alarm and state, most frequent first.
    static func snoozeEndedText(_ m: Messages, _ snooze: Snooze, held: [StoredAlert]) -> String {
        var lines = [m.text(held.isEmpty ? "snooze.ended_quiet" : "snooze.ended", ["what": snooze.label, "count": String(held.count)])]
        var counts: [String: Int] = [:]
        for a in held { counts["\(a.alarm.name) \(a.alarm.state.rawValue)", default: 0] += 1 }
        for (what, n) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(20) { lines.append("• \(n)× \(what)") }
        return lines.joined(separator: "\n")
    }
}

extension WhatsAppChannel {
    /// A snooze asked for here ended: its summary to the person who asked.
    func snoozeEnded(_ snooze: Snooze, held: [StoredAlert]) async {
        guard let to = recipient(ofChannel: snooze.channel) else { return }
        await sendText(AlertSinks.snoozeEndedText(m, snooze, held: held), to: to)
    }
}
