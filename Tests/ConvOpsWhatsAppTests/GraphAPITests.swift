import ConvOpsCore
import ConvOpsHTTP
import ConvOpsTestSupport
@testable import ConvOpsWhatsApp
import Foundation
import Testing

/// Sending through the Graph API emulator over real HTTP: what Meta refuses comes back as the
/// kind of error the sender branches on.
@Suite struct GraphAPITests {
    func api(_ e: WhatsAppEmulator, token: String = WhatsAppEmulator.token) -> GraphAPI {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy.production.allowing(endpoint: e.apiURL)), logger: .quiet)
        return GraphAPI(http: http, baseURL: e.apiURL, version: WhatsAppEmulator.version, phoneNumberID: WhatsAppEmulator.phoneNumberID,
                        token: WhatsAppSecret(token, kind: "access token")!, logger: .quiet)
    }

    func kind(_ body: () async throws -> Void) async -> WhatsAppAPIError.Kind? {
        do { try await body(); return nil } catch { return (error as? WhatsAppAPIError)?.kind }
    }

    @Test func withinTheWindowTextGoesOutsideOnlyATemplate() async throws {
        let e = try WhatsAppEmulator()
        defer { e.shutdown() }
        let api = api(e)
        let text = OutboundMessage.text("web-1 is running", to: "+491701234567")[0]
        #expect(await kind { _ = try await api.send(text) } == .reengage)
        let alert = try #require(OutboundMessage.template("convops_alert", language: "en", parameters: ["api-5xx is in ALARM"],
                                                          quickReplies: ["ack:ep-1"], to: "+491701234567"))
        let sent = try await api.send(alert)
        #expect(sent.messageID.hasPrefix("wamid.") && sent.waID == "491701234567")
        e.personWrote("491701234567")
        _ = try await api.send(text)
        #expect(e.accepted.map(\.type) == ["template", "text"])
    }

    @Test func errorsBranchOnTheirCode() async throws {
        let e = try WhatsAppEmulator()
        defer { e.shutdown() }
        e.personWrote("491701234567")
        let text = OutboundMessage.text("hello", to: "+491701234567")[0]
        #expect(await kind { _ = try await api(e, token: "EAAG-wrong").send(text) } == .tokenExpired)
        e.fail(to: "+491701234567", code: 131026)
        #expect(await kind { _ = try await api(e).send(text) } == .undeliverable)
        e.pairBurst(1)
        _ = try await api(e).send(text)
        #expect(await kind { _ = try await api(e).send(text) } == .throttled)
        #expect(e.pairRateViolations == 1)
        // A message built around the limits is refused by the API as a whole.
        let four = OutboundMessage(to: "+491701234567", body: .buttons(text: "x", buttons: (0..<4).map { .init(id: "b\($0)", title: "B\($0)") }))
        e.pairBurst(45)
        #expect(await kind { _ = try await api(e).send(four) } == .refused)
        let unknown = try #require(OutboundMessage.template("not_approved", language: "en", parameters: [], quickReplies: [], to: "+491701234567"))
        #expect(await kind { _ = try await api(e).send(unknown) } == .refused)
        // Nothing listening: transient.
        let dead = GraphAPI(http: HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet),
                            baseURL: "http://127.0.0.1:\(try FreePort.pick())", version: "v25.0", phoneNumberID: "106540352242922",
                            token: WhatsAppSecret("t", kind: "token")!, logger: .quiet)
        #expect(await kind { _ = try await dead.send(text) } == .transient)
    }

    @Test func theRealErrorBodiesMapToTheirKinds() throws {
        for (name, expected) in [("error_response_130429_rate_limit.sdk-java.json", WhatsAppAPIError.Kind.throttled),
                                 ("error_response_100_subcode33_unknown_phone_number_id.ruby-vcr-real.json", .refused)] {
            let e = try #require(JSON.parse(try WhatsAppFixtures.data(name))?["error"])
            let error = WhatsAppAPIError(status: 400, detail: WhatsAppErrorDetail(code: e["code"]?.int ?? 0, title: e["message"]?.string ?? ""), transport: nil)
            #expect(error.kind == expected, "\(name)")
        }
        let expired = try #require(JSON.parse(try WhatsAppFixtures.data("error_object_190_expired_token.pywa.json")))
        #expect(WhatsAppAPIError(status: 401, detail: WhatsAppErrorDetail(code: expired["code"]?.int ?? 0, title: ""), transport: nil).kind == .tokenExpired)
        let reengage = try #require(JSON.parse(try WhatsAppFixtures.data("error_object_131047_reengagement.pywa.json")))
        #expect(WhatsAppAPIError(status: 400, detail: WhatsAppErrorDetail(code: reengage["code"]?.int ?? 0, title: ""), transport: nil).kind == .reengage)
    }
}
