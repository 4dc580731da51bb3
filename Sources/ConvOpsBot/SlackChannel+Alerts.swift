import ConvOpsCore
import ConvOpsGrammar
import ConvOpsSlack
import ConvOpsStore
import Foundation

/// Alerts in Slack: one message per episode, updated in place; changes in its thread.
extension SlackChannel: AlertSink {
    /// Slack's answer as the desk needs it: a refusal for good is `AlertUndeliverable`.
    func forAlerts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SlackAPIError where error.isPermanentForMessage {
            throw AlertUndeliverable(error.description)
        }
    }

    public func post(_ notice: AlertNotice, to channel: String) async throws -> String {
        // At Slack's pace for the channel; a post that had to wait says so.
        var notice = notice
        // Posted without buttons, recorded by the desk, then given them: no click can come
        // before the message is known.
        return try await forAlerts {
            try await paced(channel) { [self] waited in
                notice.delayedSeconds = waited
                let ts = try await api.postMessage(channel: channel, BlockKit.alert(card(notice), episodeID: notice.episode.id).withoutButtons)
                alertDelays.withLock { $0[ts] = waited }
                return ts
            }
        }
    }

    public func addButtons(_ notice: AlertNotice, at posted: AlertMessage) async {
        var notice = notice
        // The card keeps saying how long Slack's pace held it back.
        notice.delayedSeconds = alertDelays.withLock { $0.removeValue(forKey: posted.ts) }
        let message = BlockKit.alert(card(notice), episodeID: notice.episode.id)
        guard message != message.withoutButtons else { return }
        do {
            try await api.update(channel: posted.channel, ts: posted.ts, message)
        } catch {
            logger.warning("slack.alert_buttons_failed", metadata: ["alert.episode": "\(notice.episode.id)", "slack.error": "\(error)"])
        }
    }

    public func update(_ notice: AlertNotice, at message: AlertMessage) async throws {
        try await forAlerts { try await api.update(channel: message.channel, ts: message.ts, BlockKit.alert(card(notice), episodeID: notice.episode.id)) }
    }

    public func reply(_ notice: AlertNotice, under message: AlertMessage) async throws {
        guard let line = threadLine(notice) else { return }
        _ = try await forAlerts {
            try await paced(message.channel) { [self] _ in
                try await api.postMessage(channel: message.channel, BlockKit.text(line), threadTS: message.ts)
            }
        }
    }

    /// Runs one post to `channel` in its turn; the next turn starts a second after it ends.
    func paced<T: Sendable>(_ channel: String, _ body: (Int) async throws -> T) async throws -> T {
        let waited = await pacer.wait(channel)
        do {
            let result = try await body(waited)
            await pacer.done(channel)
            return result
        } catch {
            await pacer.done(channel)
            throw error
        }
    }

    public func find(_ id: String, in channel: String, since: Date) async -> String? {
        do {
            return try await api.findAlertMessage(id: id, in: channel, oldest: since.timeIntervalSince1970 - 5, postedBy: await ownIdentity()?.botID)
        } catch {
            // Without channels:history it cannot look: posting again is better than losing it.
            logger.warning("slack.alert_lookup_failed", metadata: ["alert.ref": "\(id)", "slack.error": "\(error)"])
            return nil
        }
    }

    public func postGroup(_ summary: AlertGroupSummary, to channel: String) async throws -> String {
        try await paced(channel) { [self] waited in
            try await api.postMessage(channel: channel, BlockKit.alert(groupCard(summary, delayed: waited), episodeID: summary.group.id))
        }
    }

    public func updateGroup(_ summary: AlertGroupSummary, at message: AlertMessage) async throws {
        try await api.update(channel: message.channel, ts: message.ts, BlockKit.alert(groupCard(summary, delayed: 0), episodeID: summary.group.id))
    }

    func groupCard(_ s: AlertGroupSummary, delayed: Int) -> AlertCard {
        let places = s.places.prefix(3).map { "\($0.1) in \($0.0)" }.joined(separator: ", ")
        let names = s.names.prefix(3).map { m.text("alert.group.on", ["n": String($0.1), "pattern": $0.0]) }.joined(separator: ", ")
        let open = s.count - s.resolved
        var notes = [m.text("alert.group.why")]
        if delayed >= 2 { notes.append(m.text("alert.delayed", ["seconds": String(delayed)])) }
        return AlertCard(tone: open > 0 ? .alarm : .resolved,
                         header: m.text("alert.group.header", ["n": String(s.count), "places": places]),
                         reason: m.text("alert.group.body", ["names": names, "open": String(open), "resolved": String(s.resolved)]),
                         notes: notes)
    }

    public func snoozeStarted(_ snooze: Snooze, by person: String, channels: [String]) async throws {
        let text = m.text(snooze.scope == .environment ? "snooze.started_maintenance" : "snooze.started",
                          ["what": snooze.label, "person": person, "until": Timestamp.format(snooze.until)])
        for channel in channels where !channel.hasPrefix("wa:") { _ = try await api.postMessage(channel: channel, BlockKit.text(text)) }
    }

    public func snoozeEnded(_ snooze: Snooze, held: [StoredAlert], channels: [String]) async throws {
        let text = AlertSinks.snoozeEndedText(m, snooze, held: held)
        // Where it was asked for, if that is Slack (a WhatsApp snooze is told there), and the alert channels.
        for channel in [snooze.channel] + channels where !channel.hasPrefix("wa:") {
            _ = try await api.postMessage(channel: channel, BlockKit.text(text))
        }
    }

    /// Acknowledge and the fix button. Refusals go to the clicker alone.
    func alertClick(_ action: SlackInbound.BlockAction, _ kind: BlockKit.AlertAction, person: Person, standing: Standing) async {
        let channel = action.channelID ?? ""
        let context = Context.click(channel: channel, user: action.userID)
        let click: Engine.AlertClick = switch kind {
        case .acknowledge: .acknowledge
        case .fix: .fix
        case .snooze: .snooze
        }
        let card = AlertMessage(episodeID: action.value, channel: channel, ts: action.messageTS ?? "")
        let (replies, changed) = await engine.alertClick(click, episodeID: String(action.value.prefix(64)), card: card, by: person,
                                                         from: Origin(channel: channel, standing: standing))
        if let episode = changed { await showAcknowledged(episode, by: person.name) }
        for reply in replies { await deliver(reply, to: context) }
    }

    /// An acknowledgement (here or on WhatsApp) on every Slack message of the episode, with its thread line.
    public func showAcknowledged(_ episode: AlertEpisode, by name: String) async {
        var environment: String?
        if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
        let notice = AlertNotice(episode: episode, change: .acknowledged, environment: environment, acknowledgedBy: name)
        for message in (try? engine.store.alertMessages(episodeID: episode.id)) ?? [] where message.groupID == nil {
            do {
                try await update(notice, at: message)
                try await reply(notice, under: message)
            } catch {
                logger.warning("slack.alert_update_failed", metadata: ["alert.episode": "\(episode.id)", "slack.error": "\(error)"])
            }
        }
    }

    // MARK: Composition

    func card(_ notice: AlertNotice) -> AlertCard {
        let e = notice.episode
        let a = e.alarm
        let now = e.updatedAt
        let header: String
        let tone: AlertCard.Tone
        switch notice.change {
        case .resolved:
            tone = .resolved
            header = m.text("alert.header.resolved", ["alarm": a.name, "minutes": String(e.minutes(until: e.closedAt ?? now))])
        case _ where a.state == .insufficientData:
            tone = .unknown
            header = m.text("alert.header.insufficient", ["alarm": a.name])
        default:
            tone = .alarm
            header = m.text("alert.header.alarm", ["alarm": a.name])
        }
        var fields: [AlertCard.Field] = []
        if let r = e.resource {
            let place = [notice.environment, r.region].compactMap { $0 }.joined(separator: "/")
            fields.append(.init(m.text("slack.field_resource"),
                                m.text("alert.resource", ["name": r.name ?? r.id, "kind": r.kind.noun, "place": place])))
        } else if let s = a.subject {
            fields.append(.init(m.text("slack.field_resource"), m.text("alert.resource_unknown", ["id": s.id, "kind": s.kind.noun])))
        }
        if let metric = a.metric {
            let threshold = a.threshold.map { Self.number($0) } ?? "-"
            fields.append(.init(m.text("alert.field_metric"), "\(metric.namespace) \(metric.name) \(a.comparison.map(Self.comparison) ?? "") \(threshold)"))
        } else if !a.queries.isEmpty {
            let shown = a.queries.filter(\.returnData).compactMap { $0.expression ?? $0.metric.map { "\($0.namespace) \($0.name)" } }
            fields.append(.init(m.text("alert.field_metric"), shown.isEmpty ? a.queries.map(\.id).joined(separator: ", ") : shown.joined(separator: "; ")))
        } else if let rule = a.rule {
            fields.append(.init(m.text("alert.field_rule"), rule))
        }
        if let region = a.region { fields.append(.init(m.text("slack.field_region"), region)) }
        if let account = a.account { fields.append(.init(m.text("slack.field_account"), account)) }
        var notes: [String] = []
        if e.flapping {
            notes.append(m.text("alert.flapping", ["n": String(e.changes), "minutes": String(e.minutes(until: now))]))
        } else if e.alarms > 1 {
            notes.append(m.text("alert.again", ["n": String(e.alarms), "minutes": String(e.minutes(until: now))]))
        }
        if let who = notice.acknowledgedBy, e.acknowledgedBy != nil || notice.change == .acknowledged {
            notes.append(m.text("alert.acknowledged_by", ["person": who]))
        }
        notes += a.nextSteps.prefix(3)
        if let delayed = notice.delayedSeconds, delayed >= 2 { notes.append(m.text("alert.delayed", ["seconds": String(delayed)])) }
        var links: [AlertCard.Link] = []
        if let runbook = a.runbook { links.append(.init(m.text("alert.runbook"), runbook)) }
        if let console = a.consoleLink { links.append(.init(m.text("alert.console"), console)) }
        var buttons: [AlertCard.Button] = []
        if e.isOpen {
            if e.acknowledgedBy == nil, notice.change != .acknowledged {
                buttons.append(.init(m.text("alert.acknowledge"), .acknowledge, value: e.id))
            }
            if let r = e.resource, Engine.fixVerb(r.kind) != nil {
                buttons.append(.init(m.text("alert.fix.restart", ["name": r.name ?? r.id]), .fix, value: e.id, primary: true))
            }
            buttons.append(.init(m.text("alert.snooze"), .snooze, value: e.id))
        }
        return AlertCard(tone: tone, header: header, reason: a.reason, fields: fields, notes: notes, links: links, buttons: buttons)
    }

    func threadLine(_ notice: AlertNotice) -> String? {
        let e = notice.episode
        switch notice.change {
        case .opened: return nil
        case .again: return m.text("alert.thread.again", ["n": String(e.alarms), "minutes": String(e.minutes(until: e.updatedAt)),
                                                          "reason": e.alarm.reason])
        case .insufficientData: return m.text("alert.thread.insufficient", ["reason": e.alarm.reason])
        case .resolved: return m.text("alert.thread.resolved", ["minutes": String(e.minutes(until: e.closedAt ?? e.updatedAt)),
                                                                "reason": e.alarm.reason])
        case .acknowledged: return m.text("alert.thread.acknowledged", ["person": notice.acknowledgedBy ?? "-"])
        case .flapping: return m.text("alert.thread.flapping", ["n": String(e.changes), "minutes": String(e.minutes(until: e.updatedAt))])
        case .reminder: return m.text("alert.thread.reminder", ["minutes": String(e.minutes(until: e.remindedAt ?? e.updatedAt))])
        }
    }

    static func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }

    static func comparison(_ op: String) -> String {
        switch op {
        case "GreaterThanOrEqualToThreshold": "≥"
        case "GreaterThanThreshold": ">"
        case "LessThanThreshold": "<"
        case "LessThanOrEqualToThreshold": "≤"
        case "LessThanLowerOrGreaterThanUpperThreshold": "outside band"
        case "GreaterThanUpperThreshold": "> band"
        case "LessThanLowerThreshold": "< band"
        default: op
        }
    }
}
