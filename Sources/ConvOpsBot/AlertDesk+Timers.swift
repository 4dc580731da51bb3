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
        for var episode in due {
            do {
                guard case .done = try await present(episode, change: .opened, alertID: nil) else { continue }
                episode.holdUntil = nil
                try store.save(episode, settling: nil)
            } catch {
                logger.warning("alerts.release_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
            }
        }
    }

    /// A line in the thread of each alarm still in ALARM that nobody acknowledged, every
    /// `reminder_minutes` (CloudWatch itself never repeats). Stored before it is sent.
    public func remind() async {
        guard settings.reminderMinutes > 0 else { return }
        let now = clock.now()
        guard let due = try? store.episodesToRemind(now: now, interval: TimeInterval(settings.reminderMinutes * 60)) else { return }
        for var episode in due {
            episode.remindedAt = now
            do {
                try store.save(episode, settling: nil)
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

    /// Ends the snoozes whose time has come and says what each held back. Ended in the store
    /// first: a summary that cannot be posted is logged, not repeated.
    public func endSnoozes() async {
        guard let due = try? store.endDueSnoozes(now: clock.now()) else { return }
        for (snooze, held) in due {
            do {
                try await sink.snoozeEnded(snooze, held: held)
            } catch {
                logger.warning("alerts.snooze_summary_failed", metadata: ["snooze.id": "\(snooze.id)", "error.message": "\(error)"])
            }
        }
    }
}
