import ConvOpsCore
import ConvOpsHTTP
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWebSocket
@testable import ConvOpsWhatsApp
import Foundation
import Testing

/// The webhook on the libwebsockets server, with a real SQLite file behind it: verified bodies
/// are kept before the 200, everything else is refused and counted, big bodies never read.
@Suite struct WebhookServerTests {
    struct Rig {
        let emulator: WhatsAppEmulator
        let store: Store
        let endpoint: WebhookEndpoint
        let server: WebServer
        let directory: String
        var url: String { "http://127.0.0.1:\(server.port)/whatsapp/webhook" }

        init() throws {
            emulator = try WhatsAppEmulator()
            directory = try makeTemporaryDirectory("wa")
            store = try Store(path: directory + "/convops.db", keys: try DataKeys.createFile(directory + "/convops.db.key"))
            let store = store
            endpoint = WebhookEndpoint(appSecret: WhatsAppSecret(WhatsAppEmulator.appSecret, kind: "app secret")!,
                                       verifyToken: WhatsAppSecret(WhatsAppEmulator.verifyToken, kind: "verify token")!,
                                       keep: { body in try store.receiveWebhook(body, id: UUID().uuidString, at: Date()) })
            // The server as convops run listens.
            server = try endpoint.listen()
        }

        func stop() {
            server.shutdown()
            emulator.shutdown()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func signedBodiesAreKeptBeforeTheAnswerOthersRefusedAndCounted() async throws {
        let r = try Rig()
        defer { r.stop() }
        let body = try r.emulator.textWebhook(from: "491701234567", text: "restart web-1 bitte, schön")
        #expect(String(decoding: body, as: UTF8.self).contains(#"sch\u00f6n"#), "signed as Meta serialises it")
        #expect(try await r.emulator.post(body, to: r.url) == 200)
        #expect(try await r.emulator.post(body, to: r.url, signing: .missing) == 401)
        #expect(try await r.emulator.post(body, to: r.url, signing: .wrongSecret) == 401)
        #expect(try await r.emulator.post(body, to: r.url, signing: .header("sha256=" + String(repeating: "0", count: 64))) == 401)
        // A redelivery is kept again; the message is acted on once (its wamid marks it).
        #expect(try await r.emulator.post(body, to: r.url) == 200)
        let kept = try r.store.pendingWebhooks()
        #expect(kept.count == 2 && kept.allSatisfy { $0.body == body }, "stored byte for byte")
        #expect(r.endpoint.counts.accepted == 2 && r.endpoint.counts.refused == 3)
        guard case .message(let m) = try WebhookEvent.parse(kept[0].body).first else { Issue.record("no message"); return }
        #expect(try r.store.markWhatsAppMessage(m.id, at: Date()))
        #expect(try !r.store.markWhatsAppMessage(m.id, at: Date()))
        #expect(try r.store.seenWhatsAppMessage(m.id))
        // What was kept is sealed: neither the number nor the text is in the file.
        for file in [r.store.path, r.store.path + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            for secret in ["491701234567", "restart web-1", m.id] { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in \(file)") }
        }
        for d in kept { try r.store.processedWebhook(id: d.id) }
        #expect(try r.store.pendingWebhooks().isEmpty)
    }

    @Test func theSubscriptionCheckOverHTTP() async throws {
        let r = try Rig()
        defer { r.stop() }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let good = try await http.execute(HTTPRequest(url: r.url + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=\(WhatsAppEmulator.verifyToken)"))
        #expect(good.status == 200 && good.bodyText == "1158201444")
        let bad = try await http.execute(HTTPRequest(url: r.url + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess"))
        #expect(bad.status == 403 && !bad.bodyText.contains("1158201444"))
        #expect(try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(r.server.port)/other")).status == 404)
        #expect(try await http.execute(HTTPRequest(method: .put, url: r.url)).status == 405)
    }

    @Test func aBodyOverTheLimitIsNeverRead() async throws {
        let r = try Rig()
        defer { r.stop() }
        let big = Data(repeating: 0x20, count: WebhookEndpoint.maxBody + 1)
        // Refused with 413, or the connection closed while curl still sends: either way not kept.
        let status = try? await r.emulator.post(big, to: r.url)
        #expect(status == nil || status == 413, "\(String(describing: status))")
        #expect(try r.store.pendingWebhooks().isEmpty)
        #expect(r.endpoint.counts.accepted == 0)
        // The server still serves.
        #expect(try await r.emulator.post(try r.emulator.textWebhook(from: "491701234567", text: "hi"), to: r.url) == 200)
    }

    @Test func deliveryStatesNeverMoveBackwards() throws {
        let r = try Rig()
        defer { r.stop() }
        let order: [DeliveryStatus.State] = [.read, .sent, .delivered, .sent, .read]
        var states: [String] = []
        for s in order { states.append(try r.store.recordDeliveryStatus(messageID: "wamid.X", state: s.rawValue, rank: s.rank, errorCode: nil, at: Date()).state) }
        #expect(states == ["read", "read", "read", "read", "read"])
        #expect(try r.store.recordDeliveryStatus(messageID: "wamid.X", state: "failed", rank: DeliveryStatus.State.failed.rank, errorCode: 131047, at: Date()).changed)
    }
}
