import ConvOpsCore
import ConvOpsStore
import CoreMetrics
import Foundation
import Prometheus

/// The privacy policy's "anonymised, aggregate metrics": counters and latency histograms whose
/// labels come from closed sets only (an intent, an outcome, an alert's disposition), never a
/// person, a channel, an account or a resource. Kept in a Prometheus registry of our own, so
/// nothing else in the process (or another ConvOps in a test) writes into it.
public final class UsageMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Seconds, from a millisecond to a minute: a chat answer, an AWS call, an alert shown.
        factory.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                                   .milliseconds(250), .seconds(1), .seconds(5), .seconds(15), .seconds(60)]
        self.factory = factory
    }

    /// An alert message taken off the queue, what became of it, and how long that took.
    func alert(_ disposition: AlertDisposition?, parked: Bool, took: Duration) {
        Counter(label: "convops_alerts_received_total", factory: factory).increment()
        let outcome = parked ? "parked" : (disposition?.rawValue ?? "kept_in_queue")
        Counter(label: "convops_alerts_total", dimensions: [("outcome", outcome)], factory: factory).increment()
        Timer(label: "convops_alert_seconds", factory: factory).recordNanoseconds(took.nanoseconds)
    }

    /// A message recognised as delivered before.
    func duplicate(took: Duration) {
        Counter(label: "convops_alerts_received_total", factory: factory).increment()
        Counter(label: "convops_alerts_total", dimensions: [("outcome", "duplicate")], factory: factory).increment()
        Timer(label: "convops_alert_seconds", factory: factory).recordNanoseconds(took.nanoseconds)
    }

    /// A message answered: its intent (or "none" when it did not parse), how it ended, how long it took.
    func request(_ intent: IntentKind?, outcome: String, took: Duration) {
        let kind = intent?.rawValue ?? "none"
        Counter(label: "convops_requests_total", dimensions: [("intent", kind), ("outcome", outcome)], factory: factory).increment()
        Timer(label: "convops_request_seconds", dimensions: [("intent", kind)], factory: factory).recordNanoseconds(took.nanoseconds)
    }

    /// Prometheus's text format, for GET /metrics.
    public func text() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max : s * 1_000_000_000 + atto / 1_000_000_000
    }
}
