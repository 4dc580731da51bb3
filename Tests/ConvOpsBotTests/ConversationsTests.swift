@testable import ConvOpsBot
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsTestSupport
import Foundation
import Testing

/// "restart it", "same for web-2", "the one in prod": what the conversation memory fills in,
/// for whom, and for how long. The flow through chat and AWS is in FollowUpEndToEndTests.
@Suite struct ConversationsTests {
    let alice = Conversations.Key(person: "U-alice", channel: "C-ops")
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let web1 = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-1", region: "eu-west-1", account: "prod")

    func command(_ text: String) throws -> Command { try sharedGrammar.parse(text, locale: "en").get().command }

    func followUp(_ text: String) throws -> FollowUp {
        guard case .failure(let f) = sharedGrammar.parse(text), case .followUp(let followUp) = f.reason else {
            throw TestSupportError("“\(text)” is not a follow-up")
        }
        return followUp
    }

    /// "status web-1 in prod" answers slowly; "status web-1 in staging" was asked after it and
    /// answered first: prod's late answer must not make "it" prod's web-1.
    @Test func aSlowAnswerToAnEarlierMessagePinsNothing() throws {
        var memory = Conversations()
        let prod = try command("status web-1 in prod"), staging = try command("status web-1 in staging")
        let (first, second) = (memory.nextTurn(), memory.nextTurn())
        memory.note(prod, typed: prod.qualifiers, alice, now: start, seq: first)
        memory.note(staging, typed: staging.qualifiers, alice, now: start + 1, seq: second)
        let stagingWeb1 = ResourceRef(kind: .ec2Instance, id: "i-0fedcba9876543210", name: "web-1", region: "eu-west-1", account: "staging")
        memory.found(stagingWeb1, for: staging.intent.target!, alice, seq: second)
        memory.found(web1, for: prod.intent.target!, alice, seq: first)      // prod's answer, late
        #expect(memory.last(alice, now: start + 2)?.resource == stagingWeb1)
    }

    @Test func itIsTheResourceTheLastMessageFoundThere() throws {
        var memory = Conversations()
        let asked = try command("how is web-1 doing?")
        memory.note(asked, typed: Qualifiers(), alice, now: start)
        memory.found(web1, for: asked.intent.target!, alice)
        let (filled, _) = try #require(Conversations.filled(try command("restart it"), from: memory.last(alice, now: start + 60)))
        // The very instance, by id, in the account and region it was found in.
        #expect(filled.intent == .restart(target: {
            var m = ResourceMention("i-0123456789abcdef0", kind: .ec2Instance)
            m.recalled = .earlier
            return m
        }()))
        #expect(filled.qualifiers == Qualifiers(region: "eu-west-1", account: "prod"))
    }

    @Test func itBelongsToOnePersonInOneChannelForFiveMinutes() throws {
        var memory = Conversations()
        memory.note(try command("status web-1"), typed: Qualifiers(), alice, now: start)
        #expect(memory.last(Conversations.Key(person: "U-bob", channel: "C-ops"), now: start) == nil)
        #expect(memory.last(Conversations.Key(person: "U-alice", channel: "D-alice"), now: start) == nil)
        #expect(memory.last(alice, now: start + 300) != nil)
        #expect(memory.last(alice, now: start + 301) == nil)
        // A clock that went back does not make an old turn new.
        #expect(memory.last(alice, now: start - 1) == nil)
        #expect(Conversations.filled(try command("restart it"), from: nil) == nil)
    }

    @Test func commandsWithoutAResourceLeaveTheConversationAsItWas() throws {
        var memory = Conversations()
        memory.note(try command("status web-1"), typed: Qualifiers(), alice, now: start)
        for text in ["help", "alarms", "whoami", "status", "cancel"] {
            memory.note(try command(text), typed: Qualifiers(), alice, now: start + 10)
        }
        #expect(memory.last(alice, now: start + 10)?.command.intent.target?.text == "web-1")
    }

    @Test func sameForAnotherKeepsTheActionAndTheCount() throws {
        var memory = Conversations()
        memory.note(try command("scale api to 4 in prod"), typed: Qualifiers(environment: "prod"), alice, now: start)
        let (again, _) = try #require(Conversations.repeated(try followUp("same for checkout"), from: memory.last(alice, now: start)))
        var checkout = ResourceMention("checkout")
        checkout.recalled = .sameAgain
        #expect(again.intent == .scale(target: checkout, change: .absolute(4)))
        #expect(again.qualifiers.environment == "prod")
        // Said now, the place wins over the earlier one.
        let (staging, _) = try #require(Conversations.repeated(try followUp("do the same for checkout in staging"), from: memory.last(alice, now: start)))
        #expect(staging.qualifiers.environment == "staging")
    }

    @Test func theOneInProdNarrowsTheLastMention() throws {
        var memory = Conversations()
        memory.note(try command("restart db-1"), typed: Qualifiers(), alice, now: start)
        let (picked, typed) = try #require(Conversations.repeated(try followUp("the one in prod"), from: memory.last(alice, now: start)))
        #expect(picked.intent.target?.text == "db-1")
        #expect(picked.intent.target?.recalled == .earlier)
        #expect(picked.qualifiers.environment == "prod")
        #expect(typed.environment == "prod")
    }

    @Test func aKindNamedNowMustMatchTheResourceFound() throws {
        var memory = Conversations()
        let asked = try command("status api")
        memory.note(asked, typed: Qualifiers(), alice, now: start)
        memory.found(web1, for: asked.intent.target!, alice)
        // "now restart the service" after an instance was found: the mention, narrowed, not the instance.
        let (filled, _) = try #require(Conversations.filled(try command("now restart the service"), from: memory.last(alice, now: start)))
        #expect(filled.intent.target?.text == "api")
        #expect(filled.intent.target?.kind == .ecsService)
    }

    @Test func aSlowAnswerToAnEarlierMessageDoesNotPinItsResourceOnANewerOne() throws {
        var memory = Conversations()
        let first = try command("status web-1"), second = try command("status web-2")
        memory.note(first, typed: Qualifiers(), alice, now: start)
        memory.note(second, typed: Qualifiers(), alice, now: start + 1)
        memory.found(web1, for: first.intent.target!, alice)
        #expect(memory.last(alice, now: start + 2)?.resource == nil)
        let (filled, _) = try #require(Conversations.filled(try command("restart it"), from: memory.last(alice, now: start + 2)))
        #expect(filled.intent.target?.text == "web-2")
    }

    @Test func aPlaceSaidNowFindsItAgainThere() throws {
        var memory = Conversations()
        let asked = try command("status web-1")
        memory.note(asked, typed: Qualifiers(), alice, now: start)
        memory.found(web1, for: asked.intent.target!, alice)
        let (filled, _) = try #require(Conversations.filled(try command("restart it in staging"), from: memory.last(alice, now: start)))
        #expect(filled.intent.target?.text == "web-1")
        #expect(filled.qualifiers.environment == "staging")
        #expect(filled.qualifiers.account == nil)
    }

    @Test func theMemoryIsBounded() throws {
        var memory = Conversations()
        let status = try command("status web-1")
        for i in 0..<(Conversations.capacity + 10) {
            memory.note(status, typed: Qualifiers(), Conversations.Key(person: "U-\(i)", channel: "C"), now: start + Double(i) / 1000)
        }
        #expect(memory.turns.count <= Conversations.capacity)
        #expect(memory.last(Conversations.Key(person: "U-\(Conversations.capacity + 9)", channel: "C"), now: start + 60) != nil)
    }

    @Test func aNegatedOrQuestionedFollowUpIsRead() throws {
        #expect(try followUp("don't do the same for web-2").notARequest == .negation)
        #expect(try followUp("same for web-2?").notARequest == .question)
        #expect(try followUp("same for web-2").notARequest == nil)
        #expect(try followUp("I did the same for web-2").notARequest == .report)
        #expect(try followUp("should we do the same for web-2").notARequest == .question)
        #expect(try followUp("dasselbe für web-2").target?.text == "web-2")
    }

    @Test func expiredTurnsAreDroppedWithoutWaitingForTheMemoryToFill() throws {
        var memory = Conversations()
        let status = try command("status web-1")
        memory.note(status, typed: Qualifiers(), alice, now: start)
        for i in 0..<(Conversations.capacity / 10) {
            memory.note(status, typed: Qualifiers(), Conversations.Key(person: "U-\(i % 3)", channel: "C"), now: start + 400)
        }
        #expect(memory.turns[alice] == nil)
        #expect(memory.turns.count == 3)
    }
}
