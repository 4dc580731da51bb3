import ConvOpsCore
import ConvOpsStore
import Foundation

/// What the desk does on its own, every second or so: held episodes whose wait is over are
/// posted, alarms nobody took on are recalled in their thread, snoozes end.
extension AlertDesk {
    /// Posts the held episodes whose hold has ended (they did not recover in time). Posted
    /// first, then marked shown: a failed post is tried again on the next tick.
    public func releaseHeld() async {
        guard let due = try? store.heldEpisodesDue(now: clock.now()) else { return }
        for held in due {
            do {
                // In the alarm's turn, read again: an OK that came meanwhile closed it (nothing to post).
                try await alarmTurns.run(held.key) { [self] in
                    guard let episode = try store.episode(id: held.id), episode.isOpen, episode.holdUntil != nil else { return }
                    // A snooze or maintenance that began during the hold covers it as it would a new alarm.
                    if let snooze = try await covering(episode.alarm, resource: episode.resource) {
                        try store.suppressHeld(episodeID: episode.id, by: snooze.id)
                        return
                    }
                    guard case .done = try await present(episode, change: .opened, alertID: nil) else { return }
                    try store.released(episodeID: episode.id)
                }
            } catch {
                logger.warning("alerts.release_failed", metadata: ["alert.episode": "\(held.id)", "error.message": "\(error)"])
            }
        }
    }

    /// A line in the thread of each alarm still in ALARM that nobody acknowledged, every
    /// `reminder_minutes` (CloudWatch itself never repeats). Stored before it is sent.
    public func remind() async {
        guard settings.reminderMinutes > 0 else { return }
        let now = clock.now()
        guard let due = try? store.episodesToRemind(now: now, interval: TimeInterval(settings.reminderMinutes * 60)) else { return }
        let snoozes = (try? store.activeSnoozes()) ?? []
        // A custom notification never turns OK: it is not recalled. A snoozed alarm is not either.
        for var episode in due where episode.alarm.form != .custom {
            var environment: String?
            if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
            if snoozes.contains(where: { $0.covers(episode.alarm, resource: episode.resource, environment: environment, at: now) }) { continue }
            episode.remindedAt = now
            do {
                // Only the reminder's time is written: a state change stored meanwhile stays.
                guard try store.reminded(episodeID: episode.id, at: now) else { continue }
                let notice = AlertNotice(episode: episode, change: .reminder, environment: nil, acknowledgedBy: nil)
                for message in try store.alertMessages(episodeID: episode.id) where message.groupID == nil {
                    try await sink.reply(notice, under: message)
                }
            } catch {
                logger.warning("alerts.reminder_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
            }
        }
    }

    /// Posts new storm groups and shows changed ones again, each at most every 3 s (chat.update
    /// is Tier 3: about 50 a minute per workspace).
    public func showGroups() async {
        let now = clock.now()
        guard let groups = try? store.groupsToShow(now: now, interval: 3) else { return }
        for group in groups {
            do {
                let summary = try store.summary(of: group)
                if let ts = group.ts {
                    try await sink.updateGroup(summary, at: AlertMessage(episodeID: "", channel: group.channel, ts: ts, groupID: group.id))
                    try store.shown(groupID: group.id, ts: ts, at: now)
                } else {
                    var ts: String?
                    if let earlier = try store.attempt(group.id, channel: group.channel, at: now) {
                        ts = await sink.find(group.id, in: group.channel, since: earlier)
                    }
                    if ts == nil { ts = try await sink.postGroup(summary, to: group.channel) }
                    try store.shown(groupID: group.id, ts: ts!, at: now)
                    try store.attempted(group.id, channel: group.channel)
                }
            } catch {
                logger.warning("alerts.group_failed", metadata: ["alert.group": "\(group.id)", "error.message": "\(error)"])
            }
        }
    }

    /// Every channel alerts go to, but one.
    func alertChannels(besides channel: String) -> [String] {
        var out: [String] = []
        for c in settings.defaultChannels + settings.routes.flatMap(\.channels) where c != channel && !out.contains(c) { out.append(c) }
        return out
    }

    /// Tells the alert channels of each new snooze: nobody in #pager should wonder why it is quiet.
    /// Marked told first; a notice that cannot be posted is logged, not repeated.
    public func announceSnoozes() async {
        guard let new = try? store.unannouncedSnoozes() else { return }
        for snooze in new {
            do {
                try store.announced(snoozeID: snooze.id)
                let who = snooze.createdBy.map(store.displayName(pseudonym:)) ?? "-"
                try await sink.snoozeStarted(snooze, by: who, channels: alertChannels(besides: snooze.channel))
            } catch {
                logger.warning("alerts.snooze_notice_failed", metadata: ["snooze.id": "\(snooze.id)", "error.message": "\(error)"])
            }
        }
    }

    /// Ends the snoozes whose time has come and says what each held back. Ended in the store
    /// first: a summary that cannot be posted is logged, not repeated.
    /// Flapping episodes that stayed closed for the flapping window: their WhatsApp people,
    /// told it was flapping, hear it settled.
    public func settleFlaps() async {
        guard let settled = try? store.settledFlaps(closedBefore: clock.now().addingTimeInterval(-settings.episodes.flapWindow)) else { return }
        for (episodeID, channel) in settled {
            try? store.queueWhatsAppAlert(episodeID: episodeID, channels: [channel], kind: .resolved, seq: 1, at: clock.now())
        }
    }

    public func endSnoozes() async {
        guard let due = try? store.endDueSnoozes(now: clock.now()) else { return }
        for (snooze, held) in due {
            do {
                try await sink.snoozeEnded(snooze, held: held, channels: alertChannels(besides: snooze.channel))
            } catch {
                logger.warning("alerts.snooze_summary_failed", metadata: ["snooze.id": "\(snooze.id)", "error.message": "\(error)"])
            }
            await showStillFiring(held)
        }
    }

    /// An alarm the snooze kept quiet that is still in ALARM gets its card now, with its buttons
    /// and reminders: a summary line alone would leave it firing with nobody on it.
    func showStillFiring(_ held: [StoredAlert]) async {
        let byID = Dictionary(held.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var keys: [String] = []
        for alert in held where !keys.contains(alert.alarm.key) { keys.append(alert.alarm.key) }
        for key in keys {
            do {
                // The alarm's latest change overall decides: an OK after the snooze's last ALARM
                // (quiet, so not the snooze's) means it recovered.
                guard let id = try store.latestAlertID(key: key), let last = byID[id], last.alarm.state == .alarm,
                      try store.openEpisode(key: key) == nil, let resumed = try store.resume(alert: id) else { continue }
                _ = await show(resumed, holding: false)
            } catch {
                logger.warning("alerts.resume_failed", metadata: ["alert.key": "\(key)", "error.message": "\(error)"])
            }
        }
    }

    /// The active snooze that covers an alarm about `resource`, if any.
    func covering(_ alarm: Alarm, resource: ResourceRef?) async throws -> Snooze? {
        var environment: String?
        if let resource { environment = await engine.environmentName(of: resource) }
        let now = clock.now()
        return try store.activeSnoozes().first { $0.covers(alarm, resource: resource, environment: environment, at: now) }
    }
}
