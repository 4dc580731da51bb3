import ConvOpsTestSupport
@testable import ConvOpsWhatsApp
import Foundation
import Testing

/// Every real webhook payload reads, each to what it means; unknown parts are named, never fatal.
@Suite struct WebhookParseTests {
    func events(_ name: String) throws -> [WebhookEvent] { try WebhookEvent.parse(try WhatsAppFixtures.data(name)) }

    func message(_ name: String) throws -> WebhookEvent.InboundMessage {
        guard case .message(let m) = try events(name).first else { throw TestSupportError("no message in \(name)") }
        return m
    }

    func status(_ name: String) throws -> DeliveryStatus {
        guard case .status(let s) = try events(name).first else { throw TestSupportError("no status in \(name)") }
        return s
    }

    @Test func everyWebhookFixtureReads() throws {
        let names = try WhatsAppFixtures.names().filter { $0.hasPrefix("webhook_") }
        #expect(names.count >= 20)
        for name in names {
            let read = try events(name)
            #expect(!read.isEmpty, "\(name)")
            #expect(!read.contains { if case .unknown = $0 { true } else { false } }, "\(name): \(read)")
        }
    }

    @Test func messagesOfEachKind() throws {
        let text = try message("webhook_text_message.sdk-java.json")
        #expect(text.content == .text("hi everyone!") && text.from == "1111111111111" && text.phoneNumberID == "409552778964973")
        #expect(text.timestamp == Date(timeIntervalSince1970: 1_672_947_578))
        let bsuid = try message("webhook_text_message_with_bsuid.pywa.json")
        #expect(bsuid.userID == "US.13491208655302741918")
        let button = try message("webhook_interactive_button_reply.meta-docs.json")
        #expect(button.content == .buttonReply(id: "change-button", title: "Change"))
        #expect(button.contextID == "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA")
        #expect(try message("webhook_interactive_list_reply.meta-docs.json").content == .listReply(id: "priority_express", title: "Priority Mail Express"))
        #expect(try message("webhook_template_quick_reply_button.pywa.json").content == .templateButton(payload: "callback_data", text: "title"))
        #expect(try message("webhook_system_user_changed_number.pywa.json").content == .numberChanged(newWaID: "972912345678"))
        #expect(try message("webhook_text_reply_with_context.pywa.json").contextID != nil)
    }

    @Test func statusesAndErrors() throws {
        let failed = try status("webhook_status_failed_131047_reengagement.sdk-java.json")
        #expect(failed.state == .failed && failed.errors.first?.code == 131047)
        #expect(try status("webhook_status_read.pywa.json").state == .read)
        #expect(try status("webhook_status_sent_with_biz_opaque_callback_data.pywa.json").callbackData != nil)
        guard case .error(let e) = try events("webhook_errors_130429_rate_limit.meta-docs.json").first else { Issue.record("no error"); return }
        #expect(e.code == 130429)
    }

    @Test func aStatusNeverMovesBackwards() {
        let order: [DeliveryStatus.State] = [.read, .sent, .delivered, .sent]
        #expect(order.reduce(DeliveryStatus.State.sent) { $0.advanced(by: $1) } == .read)
        #expect(DeliveryStatus.State.delivered.advanced(by: .failed) == .failed)
        #expect(DeliveryStatus.State.failed.advanced(by: .read) == .failed)
    }

    @Test func whatIsNotAWhatsAppNotificationIsAnErrorWhatIsUnknownIsNamed() throws {
        #expect(throws: WebhookParseError.self) { try WebhookEvent.parse(Data("[]".utf8)) }
        #expect(throws: WebhookParseError.self) { try WebhookEvent.parse(Data(#"{"object":"page","entry":[]}"#.utf8)) }
        #expect(throws: WebhookParseError.self) { try WebhookEvent.parse(Data([0xFF, 0xFE])) }
        let odd = #"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{}},"#
            + #"{"field":"messages","value":{"messages":[{"id":"wamid.1","type":"reaction","reaction":{}},{"type":"text"},"#
            + #"{"id":"wamid.2","type":"text","text":{}}],"statuses":[{"id":"wamid.3","status":"deleted"}]}}]}]}"#
        let read = try WebhookEvent.parse(Data(odd.utf8))
        #expect(read.count == 5)
        #expect(read.filter { if case .unknown = $0 { true } else { false } }.count == 4)
        guard case .message(let reaction) = read[1] else { Issue.record("\(read)"); return }
        #expect(reaction.content == .other(type: "reaction"))
    }
}
