import CAMKit
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP front end of CAMKit for tools in other languages:
///
/// - `GET /models`: the catalog (name, architecture, classes, weights present, loaded, licence, default layer).
/// - `GET /healthz` (the process answers), `GET /readyz` (models loaded and a slot free) and
///   `GET /metrics` (Prometheus text), for an orchestrator and a load balancer.
/// - `POST /explain?models=…&method=…&layer=…&target=…&top_k=…&aug_smooth&eigen_smooth&alpha=…&format=json|png`
///   with a JPEG or PNG body: per model the predictions and the explained target as JSON, or the
///   panel (photo and one overlay per model) as a PNG.
///
/// Every error is answered with a 4xx/5xx status and `{"error": "..."}`.
///
/// Models are loaded once, before the server starts, and handed in; explains run on a
/// dispatch queue, off the event loops and the cooperative thread pool. Each model serialises
/// its own explains (see `ExplainableModel`). `RequestQueue` bounds the requests explaining
/// and waiting; `ServerConfiguration.requestTimeout` bounds how long one may take. Every answer
/// carries `X-Request-Id`, and every log line about a request its `request_id`.
public final class ExplainServer: @unchecked Sendable {
    public let models: [ExplainableModel]
    public let catalog: [ModelInfo]
    public let configuration: ServerConfiguration
    public let logger: Logger
    public let metrics = ServerMetrics()
    private let decoder: ImageDecoder
    private let work = DispatchQueue(label: "camkit.server.explain", qos: .userInitiated, attributes: .concurrent)
    let queue: RequestQueue

    /// - Parameters:
    ///   - models: the models `POST /explain` can use (names must be distinct).
    ///   - catalog: what `GET /models` lists; by default the given models.
    public init(models: [ExplainableModel], catalog: [ModelInfo]? = nil, configuration: ServerConfiguration = ServerConfiguration(),
                logger: Logger = Logger(label: "camkit.server")) {
        self.models = models
        self.catalog = catalog ?? models.map(ModelInfo.init(model:))
        self.configuration = configuration
        self.logger = logger
        self.decoder = ImageDecoder(maxPixels: configuration.maxPixels)
        self.queue = RequestQueue(slots: configuration.maxConcurrentExplains, queueLimit: configuration.maxQueuedRequests)
    }

    /// Loads the catalog's models named by `selection` (`all` or comma-separated names);
    /// models without weights, or whose weights fail to load, are logged and skipped.
    public static func loading(catalog: ModelCatalog, selection: String = "all", configuration: ServerConfiguration = ServerConfiguration(),
                               logger: Logger = Logger(label: "camkit.server")) throws -> ExplainServer {
        let (available, missing) = try catalog.select(selection)
        for descriptor in missing {
            logger.warning("skipping model without weights", metadata: [
                "model": "\(descriptor.name)", "weights": "\(descriptor.weightsURL.path)", "fetch": "\(descriptor.fetchHint)"])
        }
        var loaded: [ExplainableModel] = []
        for descriptor in available {
            do {
                let start = Date()
                loaded.append(try descriptor.load())
                logger.info("loaded model", metadata: ["model": "\(descriptor.name)",
                                                      "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(start)))"])
            } catch {
                logger.error("skipping model whose weights failed to load", metadata: ["model": "\(descriptor.name)", "error": "\(error)"])
            }
        }
        let names = Set(loaded.map(\.name))
        let info = catalog.descriptors.map { ModelInfo(descriptor: $0, loaded: names.contains($0.name)) }
        return ExplainServer(models: loaded, catalog: info, configuration: configuration, logger: logger)
    }

    // MARK: Routes

    public func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())
        router.get("/models") { _, _ in
            try Self.json(ModelsResponse(models: self.catalog))
        }
        router.get("/healthz") { _, _ in
            try Self.json(["status": "alive"])
        }
        router.get("/readyz") { _, _ in
            try self.readiness()
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition(queue: self.queue))))
        }
        router.post("/explain") { request, context in
            try await self.explain(request, context: context)
        }
        // A route asked with the wrong method is told the right one, rather than "no route".
        for (path, allowed) in Self.routes {
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] where method != allowed {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(path); use \(allowed)",
                                   headers: [.allow: allowed.rawValue])
                }
            }
        }
        return router
    }

    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "camkit-explain"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// Every route and its method, for the answers to a wrong method or an unknown path.
    static let routes: [(path: String, method: HTTPRequest.Method)] = [
        ("/models", .get), ("/explain", .post), ("/healthz", .get), ("/readyz", .get), ("/metrics", .get),
    ]

    /// 200 when a request would be explained now: some model is loaded and a slot is free;
    /// else 503 saying which is missing, so a load balancer sends the photo to another replica.
    func readiness() throws -> Response {
        guard !models.isEmpty else {
            throw APIError(.serviceUnavailable, "not ready: no model is loaded")
        }
        let counts = queue.counts
        guard counts.running < queue.slots else {
            throw APIError(.serviceUnavailable, "not ready: all \(queue.slots) explain slots are taken and \(counts.waiting) requests wait")
        }
        return try Self.json(ReadyResponse(status: "ready", models: models.map(\.name), freeSlots: queue.slots - counts.running))
    }

    struct ReadyResponse: Codable {
        var status: String
        var models: [String]
        var freeSlots: Int
        enum CodingKeys: String, CodingKey { case status, models, freeSlots = "free_slots" }
    }

    /// Runs until SIGINT or SIGTERM. Either stops the listener at once and lets the requests in
    /// flight finish, then returns; after `configuration.shutdownTimeout` the requests still
    /// running are cancelled (swift-service-lifecycle's escalation).
    public func run() async throws {
        if !configuration.isLoopback {
            logger.warning("listening on a non-loopback address: the server has no authentication", metadata: ["host": "\(configuration.host)"])
        }
        if models.isEmpty {
            logger.warning("no model is loaded: POST /explain will answer 503 until weights are fetched and the server restarted")
        }
        var group = ServiceGroupConfiguration(services: [.init(service: makeApplication())],
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }

    struct ModelsResponse: Codable { var models: [ModelInfo] }

    func explain(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let deadline = arrived + configuration.requestTimeout
        let query = request.uri.queryParameters.map { (key: String($0.key), value: String($0.value)) }
        let parsed = try ExplainRequest(query: query)
        let chosen = try select(parsed.models)
        try Self.checkMediaType(request.headers[.contentType])
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw APIError(.contentTooLarge, "request body of \(length) bytes is over the limit of \(configuration.maxBodyBytes) bytes")
                .closingConnection()
        }

        guard queue.admit() else {
            let counts = queue.counts
            throw APIError.busy("the server is busy: \(counts.running) requests explaining and \(counts.admitted - counts.running) "
                                + "waiting, as many as it queues; retry later", retryAfter: queue.retryAfterSeconds)
        }
        defer { queue.dismiss() }
        let body = try await collect(request.body, until: deadline)
        guard body.readableBytes > 0 else {
            throw APIError(.badRequest, "empty request body: send the JPEG or PNG image as the body")
        }
        let data = Data(body.readableBytesView)

        let received = ContinuousClock.now
        do {
            try await queue.acquire(until: deadline)
        } catch is RequestQueue.Timeout {
            throw APIError.busy("no explain slot freed within the request timeout of \(Self.seconds(configuration.requestTimeout)); "
                                + "retry later", retryAfter: queue.retryAfterSeconds)
        }
        let started = ContinuousClock.now
        defer { queue.release(held: .now - started) }

        let (photo, explanations, png) = try await offloaded { () throws -> (RGBImage, [Explanation], Data?) in
            let photo = try self.decoder.decode(data: data, name: "the request body")
            let explanations = try self.explainAll(photo, with: chosen, options: parsed.options, deadline: deadline)
            guard parsed.format == .png else { return (photo, explanations, nil) }
            return (photo, explanations, try Self.panel(photo: photo, explanations: explanations, models: chosen).render(as: .png))
        }
        let timing = ExplainTiming(read: received - arrived, queue: started - received, compute: .now - started)
        context.logger.info("explained", metadata: [
            "models": "\(chosen.map(\.name).joined(separator: ","))", "method": "\(parsed.options.method.rawValue)",
            "size": "\(photo.width)x\(photo.height)", "format": "\(parsed.format.rawValue)",
            "read_ms": "\(timing.readMs)", "queue_ms": "\(timing.queueMs)", "compute_ms": "\(timing.computeMs)"])
        if let png {
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        return try Self.json(ExplainResponse(image: .init(width: photo.width, height: photo.height),
                                             results: explanations.map(ExplainResult.init), timing: timing))
    }

    /// Every model on the photo, in order. A forward pass cannot be stopped, so the deadline is
    /// checked before each model: the overrun is at most one model's explain.
    func explainAll(_ photo: RGBImage, with models: [ExplainableModel], options: ExplainOptions,
                    deadline: ContinuousClock.Instant) throws -> [Explanation] {
        var explanations: [Explanation] = []
        for model in models {
            guard ContinuousClock.now < deadline else {
                throw APIError.busy("the request timeout of \(Self.seconds(configuration.requestTimeout)) passed after "
                                    + "\(explanations.count) of \(models.count) models; retry later or ask for fewer models",
                                    retryAfter: queue.retryAfterSeconds)
            }
            do {
                explanations.append(try model.explain(photo, options: options))
                metrics.recordExplain(model: model.name, method: options.method.rawValue)
            } catch {
                // With several models, say which one refused (a class index out of one model's range, say).
                let api = APIError.from(error)
                throw APIError(api.status, models.count > 1 ? "model '\(model.name)': \(api.message)" : api.message)
            }
        }
        return explanations
    }

    /// Media types a body may be declared as. The body's own bytes decide between JPEG and PNG;
    /// `application/x-www-form-urlencoded` is what `curl --data-binary` sends by default.
    static let acceptedMediaTypes: Set<String> = ["image/jpeg", "image/jpg", "image/png", "application/octet-stream",
                                                  "application/x-www-form-urlencoded"]

    /// Refuses bodies declared as something else than an image (a form upload, JSON), before reading them.
    static func checkMediaType(_ contentType: String?) throws {
        guard let contentType else { return }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        guard !acceptedMediaTypes.contains(mediaType) else { return }
        let hint = mediaType.hasPrefix("multipart/") ? "not a form upload (curl --data-binary @photo.jpg, not -F)"
            : "with Content-Type image/jpeg, image/png or application/octet-stream"
        throw APIError(.unsupportedMediaType, "Content-Type '\(contentType)' is not accepted: send the JPEG or PNG bytes as the body, \(hint)")
    }

    /// The body, up to the size limit (a chunked upload has no Content-Length to check first),
    /// by the deadline. A late body is answered 408 and the rest of it is not read: the
    /// connection closes after the answer, so a client trickling bytes holds nothing.
    func collect(_ body: RequestBody, until deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await self.collect(body) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let collected = first else {
                throw APIError(.requestTimeout, "the request body did not arrive within the request timeout of "
                               + "\(Self.seconds(configuration.requestTimeout))").closingConnection()
            }
            return collected
        }
    }

    /// The body, up to the size limit; one over it is not read further.
    func collect(_ body: RequestBody) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "request body is over the limit of \(configuration.maxBodyBytes) bytes")
                .closingConnection()
        }
    }

    /// "60 s", "0.5 s".
    static func seconds(_ duration: Duration) -> String {
        "\(String(format: "%g", duration.inSeconds)) s"
    }

    /// The loaded models a request names; all of them when it names none.
    func select(_ names: [String]) throws -> [ExplainableModel] {
        if names.isEmpty {
            guard !models.isEmpty else {
                throw APIError(.serviceUnavailable, "no model is loaded; fetch weights (\(ModelZoo.fetchCommand)) and restart the server")
            }
            return models
        }
        return try names.map { name in
            if let model = models.first(where: { $0.name == name }) { return model }
            if catalog.contains(where: { $0.name == name }) {
                throw APIError(.serviceUnavailable, "model '\(name)' is not loaded (its weights are missing); loaded: \(loadedNames)")
            }
            throw APIError(.badRequest, "unknown model '\(name)'; models: \(loadedNames)")
        }
    }

    private var loadedNames: String { models.isEmpty ? "none" : models.map(\.name).joined(separator: ", ") }

    /// The photo and one overlay per model. A column's line names the class its map explains
    /// (the top-1 class unless a target was asked for) with that class's probability.
    static func panel(photo: RGBImage, explanations: [Explanation], models: [ExplainableModel]) -> Panel {
        let columns = zip(explanations, models).map { e, model in
            var label = e.targetLabel
            if let versus = e.versusIndex, model.labels.indices.contains(versus) {
                label += " vs \(model.labels[versus])"
            }
            return PanelColumn(title: "\(e.model) · \(e.method.rawValue)", label: label,
                               confidence: probability(of: e.targetIndex, in: e), image: e.overlay,
                               topK: e.top.map { (label: $0.label, probability: $0.probability) })
        }
        return Panel(photo: photo, columns: columns)
    }

    /// Softmax of the logits at one class.
    static func probability(of index: Int, in e: Explanation) -> Double {
        let logits = e.logits.scalars.map(Double.init)
        guard logits.indices.contains(index), let top = logits.max() else { return 0 }
        let sum = logits.reduce(0) { $0 + exp($1 - top) }
        return exp(logits[index] - top) / sum
    }

    /// Runs blocking work (decoding, the model, rendering) on the server's dispatch queue.
    private func offloaded<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            work.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
