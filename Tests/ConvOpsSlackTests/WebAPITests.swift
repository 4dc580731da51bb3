import ConvOpsCore
import ConvOpsHTTP
import ConvOpsSlack
import ConvOpsTestSupport
import Foundation
import Testing

@Suite struct RateLimitStateTests {
    @Test func waitsOutTheLongestLimitOfItsKeys() {
        var s = RateLimitState()
        #expect(s.wait(["chat.postMessage"], now: 0) == 0)
        s.limited(["chat.postMessage", "chat.postMessage#C1"], retryAfter: 3, now: 10)
        #expect(s.wait(["chat.postMessage", "chat.postMessage#C2"], now: 11) == 2)
        #expect(s.wait(["chat.update"], now: 11) == 0)
        s.limited(["chat.postMessage#C1"], retryAfter: 10, now: 11)
        #expect(s.wait(["chat.postMessage", "chat.postMessage#C1"], now: 12) == 9)
        s.prune(now: 30)
        #expect(s.wait(["chat.postMessage#C1"], now: 30) == 0)
    }
}

/// The Web API client against the emulator, over real HTTP.
@Suite struct SlackWebAPITests {
    func api(_ emulator: SlackEmulator, bot: String = SlackEmulator.botToken) -> SlackWebAPI {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy.production.allowing(endpoint: emulator.apiURL)), logger: .quiet)
        return SlackWebAPI(http: http, baseURL: emulator.apiURL, botToken: SlackToken(bot)!, appToken: SlackToken(SlackEmulator.appToken), logger: .quiet)
    }

    @Test func aRateLimitStormDelaysButLosesNothingAndKeepsOrder() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let api = api(emulator)
        emulator.rateLimit("chat.postMessage", times: 3, retryAfter: 1)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10 {
                group.addTask { _ = try await api.postMessage(channel: "C1", SlackMessage(text: "message \(i)")) }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let texts = emulator.messages.map(\.text)
        #expect(texts.count == 10)
        #expect(Set(texts) == Set((0..<10).map { "message \($0)" }))
        // In one channel the order holds: the queue waits the 429s out in line.
        #expect(texts == (0..<10).map { "message \($0)" })
        #expect(elapsed >= .seconds(2.9), "three 429s with Retry-After 1 s each")
        #expect(emulator.calls("chat.postMessage").count == 13)
    }

    @Test func errorsSayWhatToDo() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.failChannel("C9", with: "not_in_channel")
        do {
            _ = try await api(emulator).postMessage(channel: "C9", SlackMessage(text: "x"))
            Issue.record("posted to a channel the bot is not in")
        } catch {
            #expect(error.code == "not_in_channel")
            #expect(error.description == "ConvOps is not in this channel: invite it with /invite @convops, then try again")
        }
        do {
            _ = try await api(emulator, bot: "xoxb-wrong").authTest()
            Issue.record("a wrong token was accepted")
        } catch {
            #expect(error.code == "invalid_auth" && error.isFatalForToken)
            #expect(error.description.contains("check SLACK_BOT_TOKEN"))
        }
        emulator.fail("users.info", with: "missing_scope")
        do {
            _ = try await api(emulator).user("U1")
            Issue.record("users.info without scope")
        } catch {
            #expect(error.description.contains("OAuth & Permissions"))
        }
        emulator.failChannel("C8", with: "channel_not_found")
        await #expect(throws: SlackAPIError.self) { try await api(emulator).update(channel: "C8", ts: "1.2", SlackMessage(text: "x")) }
    }

    @Test func usersAreCachedAndTokensNeverPrint() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U5", name: "Dana")
        let api = api(emulator)
        #expect(try await api.user("U5").name == "Dana")
        #expect(try await api.user("U5").name == "Dana")
        #expect(emulator.calls("users.info").count == 1)
        let token = SlackToken("xoxb-EXAMPLE-123-secret")!
        #expect("\(token)" == "SlackToken(xoxb-…)")
        #expect(!String(reflecting: token).contains("secret"))
        // Every call carried the bot token in the header, never in the body.
        #expect(emulator.calls.allSatisfy { !$0.body.text.contains(SlackEmulator.botToken) })
    }
}

@Suite struct BlockKitTests {
    static let labels = BlockKitLabels(confirm: "Confirm", cancel: "Cancel", approve: "Approve", reject: "Reject",
                                       dialogTitle: "Run this in production?", dialogText: "Sure?", dialogConfirm: "Run it",
                                       dialogDeny: "Not now", resource: "Resource", account: "Account", region: "Region", calls: "AWS calls")

    static func request() -> Request {
        let ref = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-<1>", region: "eu-west-1", account: "123456789012")
        let plan = Plan(action: .rebootInstance, resource: ref, risk: .mutating,
                        apiCalls: [APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": ref.id])])
        return Request(id: "rabc2345", plan: plan, requester: Person(id: "U1", name: "Alice"), channel: "C1",
                       createdAt: Date(timeIntervalSince1970: 0), expiresAt: Date(timeIntervalSince1970: 600))
    }

    @Test func aPlanCardIsGolden() {
        let card = BlockKit.plan(Self.request(), headline: "Alice asked to restart web-<1>", highRisk: false, Self.labels)
        #expect(card.text == "Alice asked to restart web-<1>")
        #expect(JSON.array(card.blocks).text == """
            [{"text":{"text":"*Alice asked to restart web-&lt;1&gt;*","type":"mrkdwn"},"type":"section"},\
            {"fields":[{"text":"*Resource*\\nEC2 instance web-&lt;1&gt; (`i-0123456789abcdef0`)","type":"mrkdwn"},\
            {"text":"*Region*\\neu-west-1","type":"mrkdwn"},{"text":"*Account*\\n123456789012","type":"mrkdwn"}],"type":"section"},\
            {"elements":[{"text":"AWS calls: `ec2:RebootInstances InstanceIds=i-0123456789abcdef0`","type":"mrkdwn"}],"type":"context"},\
            {"block_id":"convops.plan.rabc2345","elements":[{"action_id":"convops.confirm","style":"primary","text":{"emoji":true,"text":"Confirm","type":"plain_text"},"type":"button","value":"rabc2345"},\
            {"action_id":"convops.cancel","text":{"emoji":true,"text":"Cancel","type":"plain_text"},"type":"button","value":"rabc2345"}],"type":"actions"}]
            """)
    }

    @Test func highRiskPlansAskAgainAndDecidedCardsHaveNoButtons() {
        let card = BlockKit.plan(Self.request(), headline: "h", highRisk: true, Self.labels)
        let confirm = card.blocks.last?["elements"]?[0]?["confirm"]
        #expect(confirm?["title"]?["text"]?.string == "Run this in production?")
        #expect(confirm?["confirm"]?["text"]?.string == "Run it")
        let approval = BlockKit.approval(Self.request(), headline: "h", Self.labels)
        #expect(approval.blocks.last?["elements"]?.array?.compactMap { $0["action_id"]?.string } == ["convops.approve", "convops.reject"])
        let done = BlockKit.status(Self.request(), headline: "h", status: "Done <!channel>", Self.labels)
        #expect(!done.blocks.contains { $0["type"]?.string == "actions" })
        #expect(done.blocks.last?["text"]?["text"]?.string == "Done &lt;!channel&gt;")
        // Every button value is the bare request id, within Slack's limits.
        for block in card.blocks + approval.blocks {
            for element in block["elements"]?.array ?? [] where element["type"]?.string == "button" {
                #expect(element["value"]?.string == "rabc2345")
            }
        }
    }

    @Test func longTextIsSplitWithinSlacksLimits() {
        let text = (0..<400).map { "line \($0) " + String(repeating: "x", count: 30) }.joined(separator: "\n")
        let message = BlockKit.text(text)
        #expect(message.blocks.count > 1 && message.blocks.count <= 50)
        #expect(message.blocks.allSatisfy { ($0["text"]?["text"]?.string?.count ?? 0) <= 3000 })
        #expect(message.text.count <= 4000)
    }

    /// Log lines are full of "&", "<" and ">", which escaping makes four or five characters
    /// long: the limit holds after escaping, and no block ends inside an entity.
    @Test func escapedTextStaysWithinTheLimitAndKeepsEntitiesWhole() {
        let text = String(repeating: "&", count: 4000) + "\n" + (0..<200).map { "<p>a & b</p> \($0)" }.joined(separator: "\n")
        let message = BlockKit.text(text)
        let sections = message.blocks.compactMap { $0["text"]?["text"]?.string }
        #expect(sections.count > 1)
        for section in sections {
            #expect(section.count <= 3000)
            #expect(section.replacingOccurrences(of: "&amp;", with: "").replacingOccurrences(of: "&lt;", with: "")
                .replacingOccurrences(of: "&gt;", with: "").contains("&") == false)
        }
        // Nothing lost: unescaped, the blocks hold every "&" of the text.
        let unescaped = sections.joined().replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
        #expect(unescaped.filter { $0 == "&" }.count == 4000 + 200)
    }
}

/// Finding an alert message again after a crash between posting it and storing its ts.
@Suite struct AlertLookupTests {
    @Test func findsTheBotsOwnMessagePagesBackAndNeverAPersonsLookalike() async throws {
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        let api = SlackWebAPITests().api(emulator)
        let since = Date().timeIntervalSince1970 - 1
        let mine = try await api.postMessage(channel: "C0ALERTS1", SlackMessage(text: "ALARM api-5xx", metadata: BlockKit.alertMetadata("ep-target")))
        // 450 later messages push it to the third page of 200.
        for i in 0..<450 {
            _ = try await api.postMessage(channel: "C0ALERTS1", SlackMessage(text: "noise \(i)", metadata: BlockKit.alertMetadata("ep-\(i)")))
        }
        // Anyone may post metadata: a person's message naming the same id, newer, must not count.
        emulator.postAsPerson("U0MALLORY1", in: "C0ALERTS1", text: "fake", metadata: BlockKit.alertMetadata("ep-target"))
        let found = try await api.findAlertMessage(id: "ep-target", in: "C0ALERTS1", oldest: since, postedBy: "BBOT000001")
        #expect(found == mine)
        #expect(emulator.calls("conversations.history").count == 3, "one call per page of 200")
        let onlyFake = try await api.findAlertMessage(id: "ep-none", in: "C0ALERTS1", oldest: since, postedBy: "BBOT000001")
        #expect(onlyFake == nil)
        emulator.postAsPerson("U0MALLORY1", in: "C0ALERTS1", text: "fake", metadata: BlockKit.alertMetadata("ep-forged"))
        #expect(try await api.findAlertMessage(id: "ep-forged", in: "C0ALERTS1", oldest: since, postedBy: "BBOT000001") == nil)
    }
}
