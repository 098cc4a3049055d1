import Foundation

/// How `explain serve` listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Loopback by default: the server has no authentication.
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body; bigger ones are answered 413.
    public var maxBodyBytes = 20 * 1024 * 1024
    /// Largest decoded image (width × height), checked from the header; bigger ones are answered 413.
    public var maxPixels = 40_000_000
    /// A connection idle this long (no request arriving, or a request body stalling) is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Requests decoded and explained at once; more wait their turn (without holding a thread).
    public var maxConcurrentExplains = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Requests admitted beyond those explaining (reading their body or waiting for a slot);
    /// more are answered 503 with Retry-After before their body is read, which bounds the
    /// memory bodies can take to (maxConcurrentExplains + maxQueuedRequests) × maxBodyBytes.
    public var maxQueuedRequests = 16
    /// Deadline of a request from its head to the start of its last model: a body not received
    /// by then is answered 408 (and the connection closed, so a slow client holds nothing), a
    /// wait for a slot past it 503, and the models not yet started are skipped with a 503. A
    /// model's explain, once started, runs to its end.
    public var requestTimeout: Duration = .seconds(60)
    /// After SIGTERM or SIGINT, how long the requests in flight may take to finish before they
    /// are cancelled; no new connection is accepted meanwhile.
    public var shutdownTimeout: Duration = .seconds(60)

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 20 * 1024 * 1024,
                maxPixels: Int = 40_000_000, idleTimeout: Duration = .seconds(60),
                maxConcurrentExplains: Int = max(1, ProcessInfo.processInfo.activeProcessorCount),
                maxQueuedRequests: Int = 16, requestTimeout: Duration = .seconds(60), shutdownTimeout: Duration = .seconds(60)) {
        self.host = host; self.port = port; self.maxBodyBytes = maxBodyBytes
        self.maxPixels = maxPixels; self.idleTimeout = idleTimeout
        self.maxConcurrentExplains = max(1, maxConcurrentExplains)
        self.maxQueuedRequests = max(0, maxQueuedRequests)
        self.requestTimeout = requestTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}
