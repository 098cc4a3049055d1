import ArgumentParser
import CAMKit
import CAMKitServer
import Dispatch
import Foundation
import Logging

/// `explain serve`: the HTTP server for tools in other languages (see CAMKitServer).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve explanations over HTTP: POST /explain with an image body, GET /models, /healthz, /readyz, /metrics.",
        discussion: """
            POST /explain?models=a,b&method=gradcam&layer=…&target=top1&top_k=5&aug_smooth=false&eigen_smooth=false&alpha=0.5&format=json|png
            with a JPEG or PNG body answers JSON per model (or the PNG panel with format=png);
            GET /models lists the catalog. Errors are answered with a 4xx or 503 and {"error": "..."}:
            408 for a body not received within --request-timeout, 503 with Retry-After when --queue-limit
            requests already wait or no slot frees before the timeout.
            GET /healthz answers while the process runs, GET /readyz while a model is loaded and a slot free,
            GET /metrics in the Prometheus text format. SIGTERM or SIGINT stops accepting connections, lets the
            requests in flight finish within --shutdown-timeout, then exits 0.
            Models are loaded once at start-up; models without weights are skipped (fetch them with `\(ModelZoo.fetchCommand)`).
            """)

    @Option(help: "Address to bind; the default is loopback only (the server has no authentication).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Models to load: all, or comma-separated names.")
    var models = "all"

    @Option(help: "A zoo file (JSON) adding models to the built-in ones.")
    var zoo: String?

    @Option(name: .customLong("max-body-mb"), help: "Largest request body in MB; larger ones are answered 413.")
    var maxBodyMB: Double = 20

    @Option(help: "Largest image in megapixels (width × height, from the header); larger ones are answered 413.")
    var maxMegapixels: Double = 40

    @Option(help: "Seconds an idle connection is kept open.")
    var idleTimeout: Int = 60

    @Option(help: "Requests explained at once; more wait their turn (default: the number of cores).")
    var concurrency: Int?

    @Option(help: "Requests waiting beyond those explained at once; more are answered 503 with Retry-After.")
    var queueLimit = 16

    @Option(help: "Seconds a request may take to send its body (else 408) and to get to its last model (else 503).")
    var requestTimeout: Double = 60

    @Option(help: "Seconds the requests in flight may take to finish after SIGTERM or SIGINT before they are cut off.")
    var shutdownTimeout: Double = 60

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Log lines as text or as one JSON object per line (json), with each request's request_id.")
    var logFormat: LogFormat = .text

    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard maxBodyMB > 0 else { throw ValidationError("--max-body-mb must be positive") }
        guard maxMegapixels > 0 else { throw ValidationError("--max-megapixels must be positive") }
        guard concurrency.map({ $0 > 0 }) ?? true else { throw ValidationError("--concurrency must be positive") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        guard queueLimit >= 0 else { throw ValidationError("--queue-limit must be 0 or more, got \(queueLimit)") }
        guard requestTimeout > 0, requestTimeout <= 86_400 else {
            throw ValidationError("--request-timeout must be more than 0 and at most 86400 seconds, got \(requestTimeout)")
        }
        guard shutdownTimeout >= 0, shutdownTimeout <= 86_400 else {
            throw ValidationError("--shutdown-timeout must be 0 to 86400 seconds, got \(shutdownTimeout)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() throws {
        if logFormat == .json {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        }
        var logger = Logger(label: "camkit.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let catalog = try ModelCatalog(zooFile: try zoo.map { try ZooFile(contentsOf: URL(fileURLWithPath: $0)) })
        let configuration = ServerConfiguration(
            host: host, port: port, maxBodyBytes: Int(maxBodyMB * 1024 * 1024),
            maxPixels: Int(maxMegapixels * 1_000_000), idleTimeout: .seconds(idleTimeout),
            maxConcurrentExplains: concurrency ?? max(1, ProcessInfo.processInfo.activeProcessorCount),
            maxQueuedRequests: queueLimit, requestTimeout: .milliseconds(Int64((requestTimeout * 1000).rounded())),
            shutdownTimeout: .milliseconds(Int64((shutdownTimeout * 1000).rounded())))
        let server = try ExplainServer.loading(catalog: catalog, selection: models, configuration: configuration, logger: logger)

        // The root command is synchronous, so the server runs in a task this thread waits for.
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Task.detached {
            do { try await server.run() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}

private final class Outcome: @unchecked Sendable {
    var error: Error?
}
