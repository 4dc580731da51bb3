import ConvOpsWebSocket
import Foundation
import Logging
import ServiceLifecycle

/// GET /metrics on loopback only (config `metrics_port`), by the libwebsockets HTTP server:
/// for a Prometheus or an agent on the same host. Nothing else is served.
struct MetricsService: Service {
    let metrics: UsageMetrics
    let port: Int
    let logger: Logger

    func run() async throws {
        let metrics = self.metrics
        let server = try WebServer(WebServer.Configuration(interface: "127.0.0.1", port: Int32(port)), immediateHTTP: { request in
            guard request.path == "/metrics" else { return HTTPServerResponse(status: 404, contentType: "text/plain", body: "not found\n") }
            guard request.method == "GET" || request.method == "HEAD" else {
                return HTTPServerResponse(status: 405, contentType: "text/plain", body: "GET only\n")
            }
            return HTTPServerResponse(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                                      body: Data(metrics.text()))
        })
        logger.info("metrics.serving", metadata: ["metrics.address": "127.0.0.1:\(server.port)"])
        try? await gracefulShutdown()
        server.shutdown()
    }
}
