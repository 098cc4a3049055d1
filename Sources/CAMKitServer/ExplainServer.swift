import CAMKit
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore

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

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 20 * 1024 * 1024,
                maxPixels: Int = 40_000_000, idleTimeout: Duration = .seconds(60),
                maxConcurrentExplains: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)) {
        self.host = host; self.port = port; self.maxBodyBytes = maxBodyBytes
        self.maxPixels = maxPixels; self.idleTimeout = idleTimeout
        self.maxConcurrentExplains = max(1, maxConcurrentExplains)
    }

    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}

/// The HTTP front end of CAMKit for tools in other languages:
///
/// - `GET /models`: the catalog (name, architecture, classes, weights present, loaded, licence, default layer).
/// - `POST /explain?models=…&method=…&layer=…&target=…&top_k=…&aug_smooth&eigen_smooth&alpha=…&format=json|png`
///   with a JPEG or PNG body: per model the predictions and the explained target as JSON, or the
///   panel (photo and one overlay per model) as a PNG.
///
/// Every error is answered with a 4xx/5xx status and `{"error": "..."}`.
///
/// Models are loaded once, before the server starts, and handed in; explains run on a
/// dispatch queue, off the event loops and the cooperative thread pool. Each model serialises
/// its own explains (see `ExplainableModel`).
public final class ExplainServer: @unchecked Sendable {
    public let models: [ExplainableModel]
    public let catalog: [ModelInfo]
    public let configuration: ServerConfiguration
    public let logger: Logger
    private let decoder: ImageDecoder
    private let work = DispatchQueue(label: "camkit.server.explain", qos: .userInitiated, attributes: .concurrent)
    private let gate: Gate

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
        self.gate = Gate(capacity: configuration.maxConcurrentExplains)
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

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.get("/models") { _, _ in
            try Self.json(ModelsResponse(models: self.catalog))
        }
        router.post("/explain") { request, context in
            try await self.explain(request, context: context)
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

    /// Runs until SIGINT or SIGTERM.
    public func run() async throws {
        if !configuration.isLoopback {
            logger.warning("listening on a non-loopback address: the server has no authentication", metadata: ["host": "\(configuration.host)"])
        }
        if models.isEmpty {
            logger.warning("no model is loaded: POST /explain will answer 503 until weights are fetched and the server restarted")
        }
        try await makeApplication().runService()
    }

    struct ModelsResponse: Codable { var models: [ModelInfo] }

    func explain(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters.map { (key: String($0.key), value: String($0.value)) }
        let parsed = try ExplainRequest(query: query)
        let chosen = try select(parsed.models)

        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw APIError(.contentTooLarge, "request body of \(length) bytes is over the limit of \(configuration.maxBodyBytes) bytes")
        }
        let body = try await collect(request.body)
        guard body.readableBytes > 0 else {
            throw APIError(.badRequest, "empty request body: send the JPEG or PNG image as the body")
        }
        let data = Data(body.readableBytesView)

        let (photo, explanations, png) = try await offloaded { () throws -> (RGBImage, [Explanation], Data?) in
            let photo = try self.decoder.decode(data: data, name: "the request body")
            let explanations = try chosen.map { model in
                do {
                    return try model.explain(photo, options: parsed.options)
                } catch {
                    // With several models, say which one refused (a class index out of one model's range, say).
                    let api = APIError.from(error)
                    throw APIError(api.status, chosen.count > 1 ? "model '\(model.name)': \(api.message)" : api.message)
                }
            }
            guard parsed.format == .png else { return (photo, explanations, nil) }
            return (photo, explanations, try Self.panel(photo: photo, explanations: explanations, models: chosen).render(as: .png))
        }
        logger.info("explained", metadata: [
            "models": "\(chosen.map(\.name).joined(separator: ","))", "method": "\(parsed.options.method.rawValue)",
            "size": "\(photo.width)x\(photo.height)", "format": "\(parsed.format.rawValue)",
            "ms": "\(explanations.map { String(format: "%.0f", $0.elapsedMilliseconds) }.joined(separator: ","))"])
        if let png {
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        return try Self.json(ExplainResponse(image: .init(width: photo.width, height: photo.height),
                                             results: explanations.map(ExplainResult.init)))
    }

    /// The body, up to the size limit (a chunked upload has no Content-Length to check first).
    func collect(_ body: RequestBody) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "request body is over the limit of \(configuration.maxBodyBytes) bytes")
        }
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
        await gate.enter()
        defer { Task { await gate.leave() } }
        return try await withCheckedThrowingContinuation { continuation in
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

/// Turns every error into `{"error": "..."}` with its status; errors of the server itself are
/// logged.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let api: APIError
            if let error = error as? APIError {
                api = error
            } else if let error = error as? HTTPError {
                api = APIError(error.status, error.body ?? Self.defaultMessage(error.status, request))
            } else if let error = error as? HTTPResponseError {
                api = APIError(error.status, Self.defaultMessage(error.status, request))
            } else {
                api = APIError.from(error)
            }
            if api.status == .internalServerError {
                logger.error("request failed", metadata: ["uri": "\(request.uri)", "error": "\(error)"])
            } else {
                logger.info("request refused", metadata: ["uri": "\(request.uri)", "status": "\(api.status.code)", "error": "\(api.message)"])
            }
            return (try? ExplainServer.json(ErrorBody(error: api.message), status: api.status))
                ?? Response(status: api.status)
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: "no route \(request.method) \(request.uri.path); routes: GET /models, POST /explain"
        case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
        case .contentTooLarge: "request body too large"
        default: status.reasonPhrase
        }
    }
}

/// At most `capacity` holders at once; the others wait in order of arrival.
actor Gate {
    private let capacity: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) { self.capacity = capacity }

    func enter() async {
        if holders < capacity {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()   // the slot passes straight to the next waiter
        }
    }
}
