import ConvOpsCore
import ConvOpsHTTP
import ConvOpsStore
import ConvOpsTestSupport
import ConvOpsWebSocket
import ConvOpsWhatsApp
import Foundation

/// The webhook's answer time under load, as Meta sees it: signed POSTs from many clients at
/// once, each checked, sealed and stored in SQLite before its 200 (Meta asks for a median
/// under 250 ms and fewer than 1% over 1 s).
enum WhatsAppBenchmark {
    static func run() async throws -> [String: Any] {
        let dir = NSTemporaryDirectory() + "bench-wa-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/convops.db", keys: try DataKeys(dataKey: Data((0..<32).map { UInt8($0) })))
        let endpoint = WebhookEndpoint(appSecret: WhatsAppSecret(WhatsAppEmulator.appSecret, kind: "app secret")!,
                                       verifyToken: WhatsAppSecret("v", kind: "verify token")!,
                                       keep: { try store.receiveWebhook($0, id: UUID().uuidString, at: Date()) })
        var configuration = WebServer.Configuration(customHeaders: [WebhookEndpoint.signatureHeader], maxBodyBytes: WebhookEndpoint.maxBody)
        configuration.ownThread = true
        // As convops run serves it: answered on the service thread. BENCH_MODE=async (the
        // handler in a task) and async-empty (a task that only says 200) measure the server's
        // task path, which stalled while the client's transfers held the task threads (README).
        let mode = ProcessInfo.processInfo.environment["BENCH_MODE"] ?? "immediate"
        let server = switch mode {
        case "async-empty": try WebServer(configuration, http: { _ in HTTPServerResponse(status: 200) })
        case "async": try WebServer(configuration, http: { endpoint.handle($0) })
        default: try endpoint.listen()
        }
        defer { server.shutdown() }
        let emulator = try WhatsAppEmulator()
        defer { emulator.shutdown() }
        let url = "http://127.0.0.1:\(server.port)/whatsapp/webhook"
        let total = Int(ProcessInfo.processInfo.environment["BENCH_WEBHOOKS"] ?? "") ?? 4000
        let clients = Int(ProcessInfo.processInfo.environment["BENCH_CLIENTS"] ?? "") ?? 32
        let bodies = try (0..<total).map { try emulator.textWebhook(from: "4917012\(String(format: "%05d", $0 % 100))", text: "status web-\($0 % 50)",
                                                                   id: "wamid.BENCH\($0)") }
        let started = nanos()
        let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for c in 0..<clients {
                group.addTask {
                    var out: [UInt64] = []
                    var i = c
                    while i < total {
                        let t = nanos()
                        let status = try await emulator.post(bodies[i], to: url)
                        guard status == 200 else { throw TestSupportError("HTTP \(status)") }
                        out.append(nanos() - t)
                        i += clients
                    }
                    return out
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let seconds = Double(nanos() - started) / 1e9
        let kept = try store.pendingWebhooks(limit: total + 1).count
        return [
            "benchmark": "whatsapp_webhook", "mode": mode,
            "webhooks": total, "clients": clients, "kept": kept,
            "per_second": Int(Double(total) / seconds),
            "ack_ms": ["p50": percentile(latencies, 0.5) / 1e6, "p99": percentile(latencies, 0.99) / 1e6,
                       "max": Double(latencies.last ?? 0) / 1e6, "over_1s": latencies.filter { $0 > 1_000_000_000 }.count],
            "refused": endpoint.counts.refused,
        ]
    }
}
