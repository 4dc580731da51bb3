import ConvOpsCore
import ConvOpsStore
import Foundation

extension AlertDesk {
    /// Posts a new episode's message in each routed channel (those without one yet), or
    /// updates the existing ones and adds the thread line (`announce`: only for a change worth
    /// a line); then marks the alert done. `alertID`: the alert that caused it, nil for a held
    /// episode released.
    func present(_ episode: AlertEpisode, change: AlertNotice.Change, alertID: String?, announce: Bool = true) async throws -> Result {
        var environment: String?
        if let resource = episode.resource { environment = await engine.environmentName(of: resource) }
        let notice = AlertNotice(episode: episode, change: change, environment: environment,
                                 acknowledgedBy: episode.acknowledgedBy.map(store.displayName(pseudonym:)))
        let posted = try store.alertMessages(episodeID: episode.id)
        if change == .opened {
            let destinations = settings.destinations(for: episode.alarm, environment: environment, resource: episode.resource)
            let channels = destinations.channels
            let people = whatsAppRecipients.map { $0(destinations.people) } ?? []
            guard !channels.isEmpty || !people.isEmpty else {
                if let alertID { try store.settle(alert: alertID, .unrouted, episodeID: episode.id) }
                try store.settleHeld(episodeID: episode.id, as: .unrouted)
                logger.warning("alerts.unrouted", metadata: ["alert.episode": "\(episode.id)"])
                return .done(.unrouted)
            }
            var own = 0, grouped = 0, refused = 0
            for channel in channels where !posted.contains(where: { $0.channel == channel }) {
                let outcome = try await channelTurns.run(channel) { [self] () async throws -> ChannelOutcome in
                    let now = clock.now()
                    let since = now.addingTimeInterval(-settings.storm.windowSeconds)
                    if settings.storm.posts > 0,
                       try store.currentGroup(channel: channel, since: since) != nil || store.posts(channel: channel, since: since) >= settings.storm.posts {
                        // A storm here: one grouped message, updated in place, instead of a post each.
                        try store.group(episodeID: episode.id, channel: channel, since: since, now: now, newID: Self.newID("gr"))
                        return .grouped
                    }
                    do {
                        // Noted before it is posted: after a crash in between, found, not posted twice.
                        var ts: String?
                        if let earlier = try store.attempt(episode.id, channel: channel, at: clock.now()) {
                            ts = await sink.find(episode.id, in: channel, since: earlier)
                        }
                        if ts == nil { ts = try await sink.post(notice, to: channel) }
                        let message = AlertMessage(episodeID: episode.id, channel: channel, ts: ts!)
                        try store.recordAlertMessage(message, at: clock.now())
                        try store.attempted(episode.id, channel: channel)
                        await sink.addButtons(notice, at: message)
                        return .posted
                    } catch let error as StoreError {
                        throw error
                    } catch let error as AlertUndeliverable {
                        logger.error("alerts.undeliverable", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
                        try store.attempted(episode.id, channel: channel)
                        return .undeliverable
                    } catch {
                        logger.warning("alerts.post_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
                        return .failed("\(error)")
                    }
                }
                switch outcome {
                case .posted: own += 1
                case .grouped: grouped += 1
                case .undeliverable: refused += 1
                case .failed(let why): return .retryLater("the chat did not take it: \(why)")
                }
            }
            // The route's people on WhatsApp: queued with the alert, sent at their pace.
            try store.queueWhatsAppAlert(episodeID: episode.id, channels: people, kind: .opened, at: clock.now())
            let disposition: AlertDisposition = own > 0 ? .posted : grouped > 0 ? .grouped : refused > 0 ? .undeliverable : .posted
            if let alertID { try store.settle(alert: alertID, disposition, episodeID: episode.id) }
            try store.settleHeld(episodeID: episode.id, as: disposition)
            return .done(disposition)
        }
        // WhatsApp people hear the recovery, and that a recovered alarm flapped back (once);
        // while it flaps, its recoveries are not news there (it may be firing again a minute
        // later): they hear once it has stayed OK for the flapping window (`settleFlaps`).
        if change == .resolved, !episode.flapping {
            try store.queueWhatsAppAlert(episodeID: episode.id, channels: try store.whatsAppRecipients(episodeID: episode.id), kind: .resolved,
                                         at: clock.now())
        } else if change == .flapping, announce {
            try store.queueWhatsAppAlert(episodeID: episode.id, channels: try store.whatsAppRecipients(episodeID: episode.id), kind: .flapping,
                                         at: clock.now())
        }
        for message in posted {
            // In a storm's group: the group's message is shown again with the new counts.
            if let group = message.groupID {
                try store.touch(groupID: group)
                continue
            }
            do {
                try await sink.update(notice, at: message)
                if announce { try await replyOnce(notice, under: message, alertID: alertID) }
            } catch let error as AlertUndeliverable {
                // The message is gone or closed to us: the change is stored; nothing to retry.
                logger.error("alerts.update_undeliverable", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
            } catch {
                logger.warning("alerts.update_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
                return .retryLater("the chat did not take the update: \(error)")
            }
        }
        if let alertID { try store.settle(alert: alertID, .updated, episodeID: episode.id) }
        return .done(.updated)
    }
}

extension AlertDesk {
    /// The thread line for a change, said once: noted before it is sent (the note goes when the
    /// alert settles), so a restart between sending it and settling does not say it again; the
    /// edited message shows the change either way. A send that fails is forgotten, to be tried
    /// with the redelivery.
    func replyOnce(_ notice: AlertNotice, under message: AlertMessage, alertID: String?) async throws {
        guard let alertID else { return try await sink.reply(notice, under: message) }
        let ref = "reply:" + alertID
        if try store.attempt(ref, channel: message.channel, at: clock.now()) != nil {
            logger.notice("alerts.reply_not_repeated", metadata: ["alert.id": "\(alertID)"])
            return
        }
        do {
            try await sink.reply(notice, under: message)
        } catch {
            try? store.attempted(ref, channel: message.channel)
            throw error
        }
    }
}

enum ChannelOutcome: Sendable {
    case posted, grouped, undeliverable
    case failed(String)
}
