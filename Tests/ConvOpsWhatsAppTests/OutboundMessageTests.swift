import ConvOpsCore
import ConvOpsTestSupport
@testable import ConvOpsWhatsApp
import Foundation
import Testing

/// WhatsApp refuses a whole message for one limit broken: each is applied where it is built.
@Suite struct OutboundMessageTests {
    @Test func replyButtonsAreAtMostThreeWithShortUniqueTitles() throws {
        let ok = try #require(OutboundMessage.buttons(String(repeating: "x", count: 2000), [
            .init(id: "confirm:rq-1", title: "Confirm the restart of web-1 now"),
            .init(id: "cancel:rq-1", title: "Confirm the restart of web-1 later"),
        ], to: "+491701234567"))
        guard case .buttons(let text, let buttons) = ok.body else { Issue.record("\(ok.body)"); return }
        #expect(text.count == 1024)
        #expect(buttons.allSatisfy { $0.title.count <= 20 })
        #expect(Set(buttons.map(\.title)).count == 2, "\(buttons.map(\.title))")
        #expect(OutboundMessage.buttons("x", (0..<4).map { .init(id: "b\($0)", title: "B\($0)") }, to: "+1") == nil)
        #expect(OutboundMessage.buttons("x", [], to: "+1") == nil)
        #expect(OutboundMessage.buttons("x", [.init(id: String(repeating: "i", count: 257), title: "t")], to: "+1") == nil)
    }

    @Test func theRequestHasMetasShape() throws {
        let sent = try #require(OutboundMessage.buttons("Hi Pablo!", [.init(id: "change-button", title: "Change"), .init(id: "cancel-button", title: "Cancel")],
                                                        to: "+16505551234"))
        let meta = try #require(JSON.parse(try WhatsAppFixtures.data("request_interactive_reply_buttons.meta-docs.json")))
        let ours = sent.json
        for key in ["messaging_product", "recipient_type", "to", "type"] { #expect(ours[key] == meta[key], "\(key)") }
        #expect(ours["interactive"]?["type"] == meta["interactive"]?["type"])
        #expect(ours["interactive"]?["action"]?["buttons"] == meta["interactive"]?["action"]?["buttons"])
    }

    @Test func listsTextAndTemplates() throws {
        let rows = (0..<10).map { OutboundMessage.Row(id: "pick:\($0)", title: "web-\($0) EC2 instance in prod/eu-west-1", description: String(repeating: "d", count: 100)) }
        let list = try #require(OutboundMessage.list("Which one?", button: "Choose the resource please", rows, to: "+1"))
        guard case .list(_, let button, let fitted) = list.body else { Issue.record("\(list.body)"); return }
        #expect(button.count <= 20 && fitted.allSatisfy { $0.title.count <= 24 && ($0.description?.count ?? 0) <= 72 })
        #expect(OutboundMessage.list("x", button: "b", rows + [.init(id: "pick:x", title: "x")], to: "+1") == nil)
        #expect(OutboundMessage.list("x", button: "b", [.init(id: "same", title: "a"), .init(id: "same", title: "b")], to: "+1") == nil)

        let long = (0..<300).map { "line \($0) of the status answer" }.joined(separator: "\n")
        let parts = OutboundMessage.text(long, to: "+1")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { if case .text(let t) = $0.body { t.count <= 4096 } else { false } })
        #expect(parts.map { if case .text(let t) = $0.body { t } else { "" } }.joined() == long, "nothing lost in the split")

        let template = try #require(OutboundMessage.template("convops_alert", language: "en", parameters: ["api-5xx\nis in ALARM", "", "a   b"],
                                                             quickReplies: ["ack:ep-1", "fix:ep-1", "snooze:ep-1"], to: "+1", reference: "ep-1"))
        let j = template.json
        #expect(j["template"]?["components"]?[0]?["parameters"]?[0]?["text"] == "api-5xx is in ALARM")
        #expect(j["template"]?["components"]?[0]?["parameters"]?[1]?["text"] == "-", "never an empty parameter")
        #expect(j["template"]?["components"]?[3]?["parameters"]?[0]?["payload"] == "snooze:ep-1")
        #expect(j["biz_opaque_callback_data"] == "ep-1")
    }
}
