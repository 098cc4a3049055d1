import Foundation
import Prometheus

/// What `GET /metrics` exposes, in the Prometheus text format: the traffic (requests by route,
/// method and status, their latency), the load (requests waiting, explains running) and the
/// work (explains by model and method).
///
/// The server owns its registry instead of bootstrapping the process-wide `MetricsSystem`, so
/// that several servers in one process (the tests) count apart.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Seconds: from a cached answer (milliseconds) to a photo on several models (minutes).
    static let latencyBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
        .map { Duration.milliseconds(Int64($0 * 1000)) }

    private let queueDepth: Gauge
    private let explainsRunning: Gauge
    private let slots: Gauge

    public init() {
        queueDepth = registry.makeGauge(descriptor: .init(
            namespace: "camkit", metricName: "queue_depth", unitName: "",
            helpText: "Explain requests admitted and not yet explaining: reading their body or waiting for a slot"))
        explainsRunning = registry.makeGauge(descriptor: .init(
            namespace: "camkit", metricName: "explains_running", unitName: "", helpText: "Explain requests holding a slot"))
        slots = registry.makeGauge(descriptor: .init(
            namespace: "camkit", metricName: "explain_slots", unitName: "", helpText: "Explain requests that may run at once (--concurrency)"))
    }

    /// Counts one answered request; `route` is the matched route (Hummingbird's `NotFound` for any
    /// other path), so unknown paths do not add series.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", "\(status)")]
        registry.makeCounter(descriptor: .init(namespace: "camkit", subsystem: "http", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests answered, by route, method and status"),
                             labels: labels).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "camkit", subsystem: "http", metricName: "request_duration",
                                                         unitName: "seconds",
                                                         helpText: "Time from a request's head to its answer, by route"),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// Counts one model's explain of one photo.
    func recordExplain(model: String, method: String) {
        registry.makeCounter(descriptor: .init(namespace: "camkit", metricName: "explains", unitName: "total",
                                               helpText: "Photos explained, by model and method"),
                             labels: [("model", model), ("method", method)]).increment()
    }

    /// The exposition, with the gauges read from the queue at the moment of the scrape.
    func exposition(queue: RequestQueue) -> [UInt8] {
        let counts = queue.counts
        queueDepth.set(Double(counts.admitted - counts.running))
        explainsRunning.set(Double(counts.running))
        slots.set(Double(queue.slots))
        return registry.emitToBuffer()
    }
}
