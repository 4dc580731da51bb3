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
            let channels = settings.destinations(for: episode.alarm, environment: environment).channels
            guard !channels.isEmpty else {
                if let alertID { try store.settle(alert: alertID, .unrouted, episodeID: episode.id) }
                try store.settleHeld(episodeID: episode.id, as: .unrouted)
                logger.warning("alerts.unrouted", metadata: ["alert.episode": "\(episode.id)"])
                return .done(.unrouted)
            }
            for channel in channels where !posted.contains(where: { $0.channel == channel }) {
                do {
                    let ts = try await sink.post(notice, to: channel)
                    try store.recordAlertMessage(AlertMessage(episodeID: episode.id, channel: channel, ts: ts))
                } catch let error as StoreError {
                    throw error
                } catch {
                    logger.warning("alerts.post_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
                    return .retryLater("the chat did not take it: \(error)")
                }
            }
            if let alertID { try store.settle(alert: alertID, .posted, episodeID: episode.id) }
            try store.settleHeld(episodeID: episode.id, as: .posted)
            return .done(.posted)
        }
        for message in posted {
            do {
                try await sink.update(notice, at: message)
                if announce { try await sink.reply(notice, under: message) }
            } catch {
                logger.warning("alerts.update_failed", metadata: ["alert.episode": "\(episode.id)", "error.message": "\(error)"])
                return .retryLater("the chat did not take the update: \(error)")
            }
        }
        if let alertID { try store.settle(alert: alertID, .updated, episodeID: episode.id) }
        return .done(.updated)
    }
}
