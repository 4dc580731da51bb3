import ConvOpsStore
import Synchronization

/// A channel that shows requests: Slack, WhatsApp.
public protocol RequestChannel: AnyObject, Sendable {
    /// Whether a recorded card is one of this channel's messages.
    func owns(_ card: MessageRef) -> Bool
    /// A request's news that did not come through this channel (a decision made elsewhere,
    /// the sweeper): shown on this channel's cards; a request waiting for approval is put
    /// before this channel's approvers.
    func announce(_ reply: Reply) async
}

/// The channels of one process, so that a request asked for in one can be approved in
/// another: each channel, after showing a request's news where it happened, hands it here,
/// and every other channel holding one of its cards (or with approvers to ask) shows it too.
public final class ChannelHub: Sendable {
    private let members = Mutex<[any RequestChannel]>([])

    public init() {}

    public func join(_ channel: any RequestChannel) { members.withLock { $0.append(channel) } }

    /// News shown on `origin`: to every other channel that has a card of the request, and a
    /// wait for approval to all of them.
    func forward(_ update: RequestUpdate, from origin: any RequestChannel) async {
        for member in members.withLock({ $0 }) where member !== origin {
            guard update.step == .awaitingApproval || update.cards.contains(where: member.owns) else { continue }
            await member.announce(.request(update))
        }
    }

    /// News from no channel (the sweeper, a restart's findings): to each channel with a card of
    /// the request; anything else to the first channel (Slack), which knows what to do with it.
    public func announce(_ reply: Reply) async {
        let all = members.withLock { $0 }
        guard case .request(let update) = reply else {
            await all.first?.announce(reply)
            return
        }
        let holders = all.filter { member in update.cards.contains(where: member.owns) }
        for member in holders.isEmpty ? Array(all.prefix(1)) : holders { await member.announce(reply) }
    }
}
