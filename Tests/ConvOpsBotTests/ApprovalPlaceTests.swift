@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Where an approval counts: in the request's channel, the approval channel, or where that very
/// request's approval message was sent (a WhatsApp approver's conversation) — tapped or typed
/// there. Nowhere else, and one request's message never approves another.
@Suite struct ApprovalPlaceTests {
    let prod = ResourceEnvironment(name: "prod", source: .tag(key: "Environment"))
    let bob = Person(id: "U-bob", name: "bob")

    @Test func anApprovalCountsOnlyWhereThatRequestsApprovalMessageWent() async throws {
        let policy = DecisionMatrixTests.policy
        let bot = try Bot(policy: policy)
        defer { bot.remove() }
        let a = Engine.newRequestID(), b = Engine.newRequestID(), c = Engine.newRequestID()
        for id in [a, b, c] {
            _ = try bot.request(id, state: .awaitingApproval, environment: prod, by: DecisionMatrixTests.requester, in: "C-\(id)", policy: policy)
        }
        let conversation = "wa:0123456789abcdef01234567"
        let cardA = MessageRef(role: .approval, channel: conversation, ts: "ref-a")
        try await bot.engine.record(card: cardA, for: a)
        let origin = Origin(channel: conversation)
        // B's approval message never went to this conversation: typed there, refused.
        let typedB = await bot.engine.handle(InboundMessage(text: "approve \(b)", person: bob, channel: conversation))
        #expect(typedB.first?.isRefusal == true, "\(typedB)")
        #expect(try bot.store.request(id: b)?.state == .awaitingApproval)
        // A's message tapped with B's id: not B's message.
        let forged = await bot.engine.click(.approve, requestID: b, card: cardA, by: bob, from: origin)
        #expect(forged.first?.isRefusal == true)
        #expect(try bot.store.request(id: b)?.state == .awaitingApproval)
        // A's message, tapped from another conversation: not where it went.
        let elsewhere = await bot.engine.click(.approve, requestID: a, card: MessageRef(role: .approval, channel: "wa:other", ts: "ref-a"),
                                               by: bob, from: Origin(channel: "wa:other"))
        #expect(elsewhere.first?.isRefusal == true)
        // Typed where A's message went: it counts, as the tap would.
        _ = await bot.engine.handle(InboundMessage(text: "approve \(a)", person: bob, channel: conversation))
        #expect(try bot.store.request(id: a)?.state != .awaitingApproval)
        // A bare "approve" there means A only (now decided): B and C stay.
        let bare = await bot.engine.handle(InboundMessage(text: "approve", person: bob, channel: conversation))
        #expect(bare.first?.text.contains("No plan made in this channel") == true, "\(bare)")
        #expect(try bot.store.request(id: b)?.state == .awaitingApproval)
        #expect(try bot.store.request(id: c)?.state == .awaitingApproval)
    }
}
