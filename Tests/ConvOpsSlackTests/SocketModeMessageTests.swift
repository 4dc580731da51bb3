import ConvOpsCore
import ConvOpsSlack
import ConvOpsTestSupport
import Foundation
import Testing

/// Every real payload in the fixtures decodes to what it is; nothing is fatal.
@Suite struct SocketModeMessageTests {
    @Test func decodesEveryFixtureFrame() throws {
        let names = try SlackFixtures.names()
        #expect(names.count >= 30)
        for name in names where name.hasPrefix("socket_") && !name.hasPrefix("socket_ack") {
            let message = SocketModeMessage.decode(try SlackFixtures.text(name))
            switch message {
            case .hello(let hello): #expect(name.contains("hello") && hello.numConnections != nil, "\(name)")
            case .disconnect(let reason): #expect(name.contains("disconnect") && name.contains("\(reason)"), "\(name)")
            case .envelope(let e): #expect(name.contains("envelope") && !e.id.isEmpty, "\(name)")
            default: Issue.record("\(name) decoded as \(message)")
            }
        }
    }

    @Test func readsSlashCommandsMentionsAndClicks() throws {
        guard case .envelope(let slash) = SocketModeMessage.decode(try SlackFixtures.text("socket_envelope_slash_commands__python_sdk.json")),
              case .slashCommand(let command) = SlackInbound.read(slash) else { Issue.record("not a slash command"); return }
        #expect(command.userID == "U111" && command.channelID == "C111" && command.command == "/hello-socket-mode")
        #expect(slash.acceptsResponsePayload)

        guard case .envelope(let mention) = SocketModeMessage.decode(try SlackFixtures.text("socket_envelope_events_api_app_mention__python_sdk.json")),
              case .message(let message) = SlackInbound.read(mention) else { Issue.record("not a mention"); return }
        #expect(message.userID == "U222" && message.text == "<@U111>" && !message.isDirect)
        #expect(mention.deliveryKey == "event:Ev111")

        guard case .envelope(let click) = SocketModeMessage.decode(try SlackFixtures.text("socket_envelope_interactive_block_actions_button__java_sdk.json")),
              case .blockAction(let action) = SlackInbound.read(click) else { Issue.record("not a click"); return }
        #expect(action.actionID == "a" && action.value == "underlying" && action.messageTS == "1605853634.000400" && action.channelID == "C111")

        guard case .envelope(let retry) = SocketModeMessage.decode(try SlackFixtures.text("socket_envelope_events_api_message_retry_attempt1_timeout__bolt_python.json")) else {
            Issue.record("not an envelope"); return
        }
        #expect(retry.retryAttempt == 1 && retry.retryReason == "timeout")
        // A channel message (not a mention, not a DM) is not a request.
        guard case .envelope(let channelMessage) = SocketModeMessage.decode(try SlackFixtures.text("socket_envelope_events_api_message_channel__python_sdk.json")),
              case .ignored = SlackInbound.read(channelMessage) else { Issue.record("a channel message was taken as a request"); return }

        // The shortcut and the large modal select are acknowledged and ignored.
        for name in ["socket_envelope_interactive_shortcut__python_sdk.json",
                     "socket_envelope_interactive_block_actions_static_select_in_modal_LARGE__python_sdk.json"] {
            guard case .envelope(let e) = SocketModeMessage.decode(try SlackFixtures.text(name)) else { Issue.record("\(name)"); continue }
            if case .blockAction(let a) = SlackInbound.read(e) { #expect(!a.actionID.hasPrefix("convops."), "\(name)") }
        }
    }

    @Test func directMessagesAreRequestsAndBotMessagesAreNot() throws {
        let inner = try SlackFixtures.json("event_inner_message_im__java_sdk.json")
        let envelope = Envelope(id: "e1", type: .eventsAPI, payload: ["type": "event_callback", "event_id": "Ev9", "event": inner])
        guard case .message(let dm) = SlackInbound.read(envelope) else { Issue.record("DM not read"); return }
        #expect(dm.isDirect && dm.channelID == "D024BE91L" && dm.text == "Hello hello can you hear me?")
        let fromBot = Envelope(id: "e2", type: .eventsAPI, payload: ["event_id": "Ev10", "event": inner.setting("bot_id", "B1")])
        guard case .ignored = SlackInbound.read(fromBot) else { Issue.record("a bot's message was taken as a request"); return }
        // app_rate_limited has no inner event: acknowledged, ignored, not a crash.
        let limited = Envelope(id: "e3", type: .eventsAPI, payload: ["type": "app_rate_limited", "minute_rate_limited": 1518467820])
        guard case .ignored = SlackInbound.read(limited) else { Issue.record("app_rate_limited"); return }
    }

    @Test func unknownAndMalformedFramesAreValues() {
        #expect(SocketModeMessage.decode("not json") == .malformed)
        #expect(SocketModeMessage.decode("[1,2]") == .malformed)
        #expect(SocketModeMessage.decode(#"{"no":"type"}"#) == .malformed)
        #expect(SocketModeMessage.decode(#"{"type":"brand_new"}"#) == .unknown(type: "brand_new"))
        // An unknown envelope type still carries an id, so it is acknowledged.
        guard case .envelope(let e) = SocketModeMessage.decode(#"{"type":"future_thing","envelope_id":"x1","payload":{}}"#) else {
            Issue.record("not an envelope"); return
        }
        #expect(e.type == .other("future_thing"))
        #expect(SocketModeMessage.decode(#"{"type":"disconnect"}"#) == .disconnect(.other("")))
    }

    @Test func acksMatchTheSDKsShape() throws {
        #expect(Envelope.ack("abc") == #"{"envelope_id":"abc"}"#)
        // A string reply is wrapped as {"text": …}, as in python's test_response fixture.
        let fixture = try #require(JSON.parse(try SlackFixtures.text("socket_ack_with_payload__python_sdk.json")))
        let id = try #require(fixture["envelope_id"]?.string)
        #expect(JSON.parse(Envelope.ack(id, payload: "Thanks!")) == fixture)
    }
}

/// The quick ack, worked out on the socket's thread without decoding the frame.
@Suite struct ImmediateAckTests {
    func ack(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { Envelope.immediateAck($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func matchesTheDecodedEnvelopeForEveryFixture() throws {
        for name in try SlackFixtures.names() where name.hasPrefix("socket_") {
            let text = try SlackFixtures.text(name)
            if case .envelope(let e) = SocketModeMessage.decode(text) {
                #expect(ack(text) == Envelope.ack(e.id), "\(name)")
            } else {
                #expect(ack(text) == nil, "\(name)")
            }
        }
    }

    @Test func leavesOddFramesToTheDecoder() {
        #expect(ack(#"{"envelope_id" : "a-1", "type":"x"}"#) == #"{"envelope_id":"a-1"}"#)
        #expect(ack(#"{"envelope_id":"a\"b"}"#) == nil)
        #expect(ack(#"{"envelope_id":""}"#) == nil)
        #expect(ack(#"{"envelope_id":12}"#) == nil)
        #expect(ack(#"{"envelope_id":"unterminated"#) == nil)
        #expect(ack("envelope_id") == nil)
        // A quoted key inside a string value is always escaped, so it is never taken for the key.
        #expect(ack(#"{"text":"say \"envelope_id\":\"x\"","envelope_id":"real"}"#) == #"{"envelope_id":"real"}"#)
    }
}
