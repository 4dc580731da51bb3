import ConvOpsTestSupport
@testable import ConvOpsWhatsApp
import Foundation
import Testing

/// X-Hub-Signature-256 over the exact bytes, and the subscription check.
@Suite struct WebhookAuthTests {
    let secret = WhatsAppSecret("app-secret-for-tests", kind: "app secret")!
    let verify = WhatsAppSecret("verify-me", kind: "verify token")!

    @Test func theSignatureOfTheExactBytesPassesAndNothingElseDoes() throws {
        let body = try WhatsAppFixtures.data("webhook_text_message.sdk-java.json")
        let header = WebhookAuth.signature(body, appSecret: secret)
        #expect(header.hasPrefix("sha256=") && header.count == 71)
        #expect(WebhookAuth.isSigned(body, header: header, appSecret: secret))
        #expect(WebhookAuth.isSigned(body, header: "sha256=" + header.dropFirst(7).uppercased(), appSecret: secret), "hex in either case")
        var tampered = body
        tampered[tampered.count / 2] ^= 0x01
        #expect(!WebhookAuth.isSigned(tampered, header: header, appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: nil, appSecret: secret), "a missing header is a refusal, never a pass")
        #expect(!WebhookAuth.isSigned(body, header: "", appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: String(header.dropLast()), appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: header + "0", appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: "sha1=" + header.dropFirst(7), appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: "sha256=" + String(repeating: "g", count: 64), appSecret: secret))
        #expect(!WebhookAuth.isSigned(body, header: header, appSecret: WhatsAppSecret("another", kind: "app secret")!))
    }

    /// Meta signs its escaped-unicode serialisation ("é" as \u00e9). A body parsed and written
    /// again (here with the characters raw, as most encoders do) is other bytes: it must fail.
    @Test func aBodyReserialisedWithOtherEscapingFails() throws {
        let original = #"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"wamid.x","type":"text","text":{"body":"J'ai mang\u00e9 des p\u00e2tes \ud83c\udf5d"}}]}}]}]}"#
        let body = Data(original.utf8)
        let header = WebhookAuth.signature(body, appSecret: secret)
        #expect(WebhookAuth.isSigned(body, header: header, appSecret: secret))
        let object = try JSONSerialization.jsonObject(with: body)
        let again = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        #expect(String(decoding: again, as: UTF8.self).contains("mangé"))
        #expect(!WebhookAuth.isSigned(again, header: header, appSecret: secret))
        // And it still reads: the parser sees the same text either way.
        let events = try WebhookEvent.parse(body)
        guard case .message(let m) = events.first, case .text(let text) = m.content else { Issue.record("\(events)"); return }
        #expect(text == "J'ai mangé des pâtes 🍝")
    }

    @Test func theSubscriptionCheckEchoesOnlyForOurTokenAndAPlainChallenge() {
        func ask(_ pairs: [(String, String)]) -> String? { WebhookAuth.challenge(query: pairs.map { (name: $0.0, value: $0.1) }, verifyToken: verify) }
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "verify-me")]) == "1158201444")
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "verify-mf")]) == nil)
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "verify-me-too")]) == nil)
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", "1158201444")]) == nil)
        #expect(ask([("hub.mode", "unsubscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "verify-me")]) == nil)
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", "<script>alert(1)</script>"), ("hub.verify_token", "verify-me")]) == nil)
        #expect(ask([("hub.mode", "subscribe"), ("hub.challenge", ""), ("hub.verify_token", "verify-me")]) == nil)
    }

    @Test func secretsNeverPrint() {
        #expect("\(secret)" == "WhatsAppSecret(app secret, …)")
        #expect(!String(reflecting: secret).contains("app-secret-for-tests"))
        #expect(WhatsAppSecret("  ", kind: "token") == nil)
    }
}
