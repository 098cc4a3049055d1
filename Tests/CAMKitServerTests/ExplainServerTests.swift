import CAMKit
@testable import CAMKitServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import XCTest

/// The HTTP server on a small seeded in-memory model, so the tests need no downloaded weights.
final class ExplainServerTests: XCTestCase {
    static let labels = ["a", "b", "c", "d", "e"]

    static func smallModel() -> ExplainableModel {
        let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
        let model = SeedModel(.cnn, backbone: config, numClasses: 5)
        SeededWeights.fill(model)
        let recipe = Preprocessing(resizeShorterSide: 64, cropWidth: 64, cropHeight: 64, interpolation: .bilinear,
                                   mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
        return ExplainableModel(name: "small", model: model, labels: labels, preprocessing: recipe)
    }

    /// One model for all tests: explains serialise on it, as they do in the server.
    static let model = smallModel()

    static func server(_ configuration: ServerConfiguration = ServerConfiguration(), catalog: [ModelInfo]? = nil) -> ExplainServer {
        var logger = Logger(label: "camkit.server.test")
        logger.logLevel = .warning
        return ExplainServer(models: [model], catalog: catalog, configuration: configuration, logger: logger)
    }

    static func app(_ server: ExplainServer = server()) -> some ApplicationProtocol {
        server.makeApplication()
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images")

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent(name))
    }

    /// Drawn test pictures of every colour type the decoder handles.
    static let images = ["photo.png", "decode/baseline.jpg", "decode/gray.png", "decode/gray_alpha.png", "decode/cmyk.jpg",
                         "decode/gray16.png"]

    func json(_ body: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(String(buffer: body))")
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    // MARK: GET /models

    func testModelsListsTheCatalog() async throws {
        try await Self.app().test(.router) { client in
            let response = try await client.execute(uri: "/models", method: .get)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8")
            let models = try XCTUnwrap(try self.json(response.body)["models"] as? [[String: Any]])
            XCTAssertEqual(models.count, 1)
            let small = models[0]
            XCTAssertEqual(small["name"] as? String, "small")
            XCTAssertEqual(small["architecture"] as? String, "SeedModel")
            XCTAssertEqual(small["classes"] as? Int, 5)
            XCTAssertEqual(small["weights_present"] as? Bool, true)
            XCTAssertEqual(small["loaded"] as? Bool, true)
            XCTAssertEqual(small["default_layer"] as? String, "backbone.stages.3")
            XCTAssertNotNil(small["licence"] as? String)
        }
    }

    // MARK: POST /explain

    func testExplainAnswersJSONForRealImages() async throws {
        try await Self.app().test(.router) { client in
            for name in Self.images {
                let data = try Self.fixture(name)
                let photo = try ImageDecoder().decode(data: data, name: name)
                let response = try await client.execute(uri: "/explain", method: .post, body: ByteBuffer(bytes: data))
                XCTAssertEqual(response.status, .ok, "\(name): \(String(buffer: response.body))")
                XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8")

                // The field names tools in other languages read.
                let raw = try self.json(response.body)
                let first = try XCTUnwrap((raw["results"] as? [[String: Any]])?.first, name)
                for key in ["model", "method", "layer", "target_index", "target_label", "top", "confidence", "elapsed_ms", "wait_ms"] {
                    XCTAssertNotNil(first[key], "\(name): no \(key) in \(raw)")
                }
                let timing = try XCTUnwrap(raw["timing"] as? [String: Double], "\(name): no timing in \(raw)")
                XCTAssertEqual(Set(timing.keys), ["read_ms", "queue_ms", "compute_ms"])
                let top = try XCTUnwrap(first["top"] as? [[String: Any]])
                XCTAssertEqual(Set(top[0].keys), ["index", "label", "probability"])

                let answer = try self.decode(ExplainResponse.self, response.body)
                XCTAssertEqual(answer.image.width, photo.width, name)
                XCTAssertEqual(answer.image.height, photo.height, name)
                XCTAssertEqual(answer.results.count, 1)
                let result = answer.results[0]
                XCTAssertEqual(result.model, "small")
                XCTAssertEqual(result.method, "gradcam")
                XCTAssertEqual(result.layer, "backbone.stages.3")
                XCTAssertEqual(result.top.count, 5)
                XCTAssert(zip(result.top, result.top.dropFirst()).allSatisfy { $0.probability >= $1.probability })
                XCTAssertEqual(result.top.map(\.probability).reduce(0, +), 1, accuracy: 1e-4)
                XCTAssertEqual(result.confidence, result.top[0].probability)
                XCTAssertEqual(result.targetIndex, result.top[0].index)
                XCTAssertEqual(result.targetLabel, Self.labels[result.targetIndex])
                XCTAssertNil(result.versusIndex)
                XCTAssertGreaterThan(result.elapsedMs, 0)
                // The same as the library says for the same photo.
                let direct = try Self.model.explain(photo)
                XCTAssertEqual(result.top.map(\.index), direct.top.map(\.index), name)
                XCTAssertEqual(result.confidence, direct.confidence, accuracy: 1e-9, name)
            }
        }
    }

    func testQueryParametersMirrorTheCLI() async throws {
        let body = ByteBuffer(bytes: try Self.fixture("photo.png"))
        try await Self.app().test(.router) { client in
            let uri = "/explain?models=small&method=gradcam%2B%2B&layer=backbone.stages.2&target=c&top_k=2"
                + "&aug_smooth=false&eigen_smooth=true&alpha=0.3"
            let response = try await client.execute(uri: uri, method: .post, body: body)
            XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            let result = try self.decode(ExplainResponse.self, response.body).results[0]
            XCTAssertEqual(result.method, "gradcam++")
            XCTAssertEqual(result.layer, "backbone.stages.2")
            XCTAssertEqual(result.targetIndex, 2)
            XCTAssertEqual(result.targetLabel, "c")
            XCTAssertEqual(result.top.count, 2)

            let contrast = try await client.execute(uri: "/explain?model=small&target=a-vs-4&method=hirescam&aug_smooth",
                                                    method: .post, body: body)
            XCTAssertEqual(contrast.status, .ok, String(buffer: contrast.body))
            let c = try self.decode(ExplainResponse.self, contrast.body).results[0]
            XCTAssertEqual(c.targetIndex, 0)
            XCTAssertEqual(c.versusIndex, 4)
            XCTAssertEqual(c.method, "hirescam")

            // Two models: the same one twice still answers one result per name, in order.
            let twice = try await client.execute(uri: "/explain?models=small,small&top_k=1", method: .post, body: body)
            XCTAssertEqual(twice.status, .ok)
            XCTAssertEqual(try self.decode(ExplainResponse.self, twice.body).results.count, 2)
        }
    }

    func testFormatPNGAnswersThePanel() async throws {
        let data = try Self.fixture("decode/baseline.jpg")
        let photo = try ImageDecoder().decode(data: data, name: "baseline.jpg")
        try await Self.app().test(.router) { client in
            let response = try await client.execute(uri: "/explain?format=png&top_k=3", method: .post, body: ByteBuffer(bytes: data))
            XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            XCTAssertEqual(response.headers[.contentType], "image/png")
            let png = [UInt8](response.body.readableBytesView)
            XCTAssertGreaterThan(png.count, 33)
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            XCTAssertEqual(String(decoding: png[12..<16], as: UTF8.self), "IHDR")
            let be = { (at: Int) in png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
            let (width, height) = (be(16), be(20))
            // Photo and one overlay side by side, each at least as wide as the photo scaled to 224 high.
            let expected = try Panel(photo: photo, columns: [PanelColumn(title: "", label: "", confidence: 0, image: photo,
                                                                           topK: Array(repeating: ("", 0), count: 3))]).pageSize()
            XCTAssertEqual(width, expected.width)
            XCTAssertEqual(height, expected.height)
            // It decodes as the picture it claims to be.
            let decoded = try ImageDecoder().decode(data: Data(png), name: "panel.png")
            XCTAssertEqual(decoded.width, width)
            XCTAssertEqual(decoded.height, height)
        }
    }

    func testSeveralModelsAnswerInOrderAndErrorsNameTheModel() async throws {
        let config = ConvNeXtV2Config(name: "tiny", depths: [1, 1, 1, 1], dims: [8, 8, 16, 16], convMLP: false)
        let seed = SeedModel(.cnn, backbone: config, numClasses: 3)
        SeededWeights.fill(seed)
        let tiny = ExplainableModel(name: "tiny", model: seed, labels: ["x", "y", "z"], preprocessing: Self.model.preprocessing)
        let server = ExplainServer(models: [Self.model, tiny])
        let body = ByteBuffer(bytes: try Self.fixture("photo.png"))
        try await server.makeApplication().test(.router) { client in
            let both = try await client.execute(uri: "/explain?models=tiny,small&target=1", method: .post, body: body)
            XCTAssertEqual(both.status, .ok, String(buffer: both.body))
            let results = try self.decode(ExplainResponse.self, both.body).results
            XCTAssertEqual(results.map(\.model), ["tiny", "small"])
            XCTAssertEqual(results.map(\.targetLabel), ["y", "b"])
            XCTAssertEqual(results.map(\.top.count), [3, 5])

            let bad = try await client.execute(uri: "/explain?target=4", method: .post, body: body)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(try self.decode(ErrorBody.self, bad.body).error,
                           "model 'tiny': class index 4 is out of range: the model has classes 0..<3")
        }
    }

    func testPanelColumnsNameTheExplainedClass() throws {
        let photo = try ImageDecoder().decode(data: try Self.fixture("photo.png"), name: "photo.png")
        let e = try Self.model.explain(photo, options: ExplainOptions(target: try TargetSpec(parsing: "c-vs-a")))
        let panel = ExplainServer.panel(photo: photo, explanations: [e], models: [Self.model])
        XCTAssertEqual(panel.columns[0].label, "c vs a")
        XCTAssertEqual(panel.columns[0].title, "small · gradcam")
        let probabilityOfC = try XCTUnwrap(try Self.model.explain(photo, options: ExplainOptions(topK: 5)).top.first { $0.index == 2 })
        XCTAssertEqual(panel.columns[0].confidence, probabilityOfC.probability, accuracy: 1e-6)
        XCTAssertEqual(panel.columns[0].topK.count, 5)
    }

    // MARK: Bad requests

    struct Bad {
        var uri: String
        var method: HTTPRequest.Method = .post
        var headers: HTTPFields = [:]
        var body: ByteBuffer?
        var status: HTTPResponse.Status
        var says: String
    }

    func testBadRequestsAreAnsweredWithJSONErrors() async throws {
        let photo = try Self.fixture("photo.png")
        let image = ByteBuffer(bytes: photo)
        var random = SystemRandomNumberGenerator()
        let noise = ByteBuffer(bytes: (0..<2048).map { _ in UInt8.random(in: 0...255, using: &random) })
        let truncatedPNG = ByteBuffer(bytes: photo.prefix(photo.count / 2))
        let truncatedJPEG = ByteBuffer(bytes: try Self.fixture("decode/baseline.jpg").prefix(700))
        let cases: [Bad] = [
            Bad(uri: "/explain", body: nil, status: .badRequest, says: "empty request body"),
            Bad(uri: "/explain", body: ByteBuffer(), status: .badRequest, says: "empty request body"),
            Bad(uri: "/explain", body: ByteBuffer(string: "hello, not a picture"), status: .unsupportedMediaType, says: "not a JPEG or PNG"),
            Bad(uri: "/explain", body: noise, status: .unsupportedMediaType, says: "not a JPEG or PNG"),
            Bad(uri: "/explain", body: truncatedPNG, status: .badRequest, says: "PNG"),
            Bad(uri: "/explain", body: truncatedJPEG, status: .badRequest, says: "JPEG"),
            Bad(uri: "/explain", headers: [.contentType: "multipart/form-data; boundary=x"], body: image,
                status: .unsupportedMediaType, says: "not a form upload (curl --data-binary @photo.jpg, not -F)"),
            Bad(uri: "/explain", headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"image": "dog.jpg"}"#),
                status: .unsupportedMediaType, says: "Content-Type 'application/json' is not accepted"),
            Bad(uri: "/explain", headers: [.contentType: "image/gif"], body: image, status: .unsupportedMediaType,
                says: "with Content-Type image/jpeg, image/png or application/octet-stream"),
            Bad(uri: "/explain?models=nope", body: image, status: .badRequest, says: "unknown model 'nope'; models: small"),
            Bad(uri: "/explain?target=9", body: image, status: .badRequest, says: "class index 9 is out of range"),
            Bad(uri: "/explain?target=zebra", body: image, status: .badRequest, says: "no class labelled 'zebra'"),
            Bad(uri: "/explain?target=top1-vs-a", body: image, status: .badRequest, says: "contrast"),
            Bad(uri: "/explain?target=", body: image, status: .badRequest, says: "empty target"),
            Bad(uri: "/explain?method=gradcam%2B%2B%2B", body: image, status: .badRequest, says: "unknown method 'gradcam+++'"),
            Bad(uri: "/explain?layer=backbone.nowhere", body: image, status: .badRequest, says: "backbone.nowhere"),
            Bad(uri: "/explain?top_k=0", body: image, status: .badRequest, says: "top_k must be at least 1"),
            Bad(uri: "/explain?top_k=many", body: image, status: .badRequest, says: "top_k must be an integer"),
            Bad(uri: "/explain?alpha=2", body: image, status: .badRequest, says: "alpha must be in [0, 1]"),
            Bad(uri: "/explain?alpha=nan", body: image, status: .badRequest, says: "alpha must be a number"),
            Bad(uri: "/explain?aug_smooth=maybe", body: image, status: .badRequest, says: "aug_smooth must be true or false"),
            Bad(uri: "/explain?format=gif", body: image, status: .badRequest, says: "format must be json or png"),
            Bad(uri: "/explain?colour=red", body: image, status: .badRequest, says: "unknown parameter 'colour'"),
            Bad(uri: "/explain?method=gradcam&method=hirescam", body: image, status: .badRequest, says: "given twice"),
            Bad(uri: "/explain?model=small&models=small", body: image, status: .badRequest, says: "not both"),
            Bad(uri: "/nothing", method: .get, status: .notFound, says: "routes: GET /models, POST /explain"),
            Bad(uri: "/explain", method: .get, status: .methodNotAllowed, says: "GET is not allowed on /explain; use POST"),
            Bad(uri: "/models", method: .delete, status: .methodNotAllowed, says: "DELETE is not allowed on /models; use GET"),
        ]
        try await Self.app().test(.router) { client in
            for bad in cases {
                let response = try await client.execute(uri: bad.uri, method: bad.method, headers: bad.headers, body: bad.body)
                let context = "\(bad.uri) (\(bad.body?.readableBytes ?? 0) bytes): \(String(buffer: response.body))"
                XCTAssertEqual(response.status, bad.status, context)
                XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8", context)
                let error = try? self.decode(ErrorBody.self, response.body)
                XCTAssert(error?.error.contains(bad.says) == true, "expected '\(bad.says)' in \(context)")
            }
            // The server still answers after all that.
            let after = try await client.execute(uri: "/explain", method: .post, headers: [.contentType: "image/png"], body: image)
            XCTAssertEqual(after.status, .ok)
        }
    }

    func testOversizedBodiesAndImagesAre413() async throws {
        let photo = try Self.fixture("photo.png")
        let small = Self.server(ServerConfiguration(maxBodyBytes: 1000))
        try await Self.app(small).test(.router) { client in
            let response = try await client.execute(uri: "/explain", method: .post, body: ByteBuffer(bytes: photo))
            XCTAssertEqual(response.status, .contentTooLarge)
            // The test client always sends Content-Length: refused before the body is read.
            XCTAssert(try self.decode(ErrorBody.self, response.body).error.contains("request body of 3946 bytes is over the limit of 1000 bytes"),
                      String(buffer: response.body))
        }
        // A body without Content-Length (chunked) is cut off while it streams in.
        do {
            _ = try await small.collect(RequestBody(buffer: ByteBuffer(bytes: photo)))
            XCTFail("a body over the limit was collected")
        } catch let error as APIError {
            XCTAssertEqual(error.status, .contentTooLarge)
            XCTAssert(error.message.contains("over the limit of 1000 bytes"), error.message)
        }
        let exact = try await small.collect(RequestBody(buffer: ByteBuffer(bytes: photo.prefix(1000))))
        XCTAssertEqual(exact.readableBytes, 1000)

        let fewPixels = Self.server(ServerConfiguration(maxPixels: 100))
        try await Self.app(fewPixels).test(.router) { client in
            let response = try await client.execute(uri: "/explain", method: .post, body: ByteBuffer(bytes: photo))
            XCTAssertEqual(response.status, .contentTooLarge)
            let message = try self.decode(ErrorBody.self, response.body).error
            XCTAssert(message.hasPrefix("the request body is 80×60 = ") && message.contains("megapixels, over the limit of"), message)
        }
    }

    func testCatalogModelWithoutWeightsIsListedButUnavailable() async throws {
        let ghost = ModelInfo(name: "ghost", architecture: "mobilenet_v2", classes: 19, weightsPresent: false, loaded: false,
                              licence: "Apache-2.0", defaultLayer: "features.18")
        let server = Self.server(catalog: [ModelInfo(model: Self.model), ghost])
        try await Self.app(server).test(.router) { client in
            let list = try await client.execute(uri: "/models", method: .get)
            let names = try self.decode(ExplainServer.ModelsResponse.self, list.body).models.map(\.name)
            XCTAssertEqual(names, ["small", "ghost"])
            let response = try await client.execute(uri: "/explain?models=ghost", method: .post,
                                                    body: ByteBuffer(bytes: try Self.fixture("photo.png")))
            XCTAssertEqual(response.status, .serviceUnavailable)
            XCTAssert(try self.decode(ErrorBody.self, response.body).error.contains("not loaded"))
        }
    }

    // MARK: A real socket

    /// Binds to loopback on an ephemeral port (the testing framework sets port 0) and talks
    /// HTTP/1.1 over a real connection.
    func testLiveServerOverLoopback() async throws {
        let data = try Self.fixture("decode/gray.png")
        try await Self.app().test(.live) { client in
            let models = try await client.execute(uri: "/models", method: .get)
            XCTAssertEqual(models.status, .ok)
            XCTAssertEqual(try self.decode(ExplainServer.ModelsResponse.self, models.body).models.first?.name, "small")

            let response = try await client.execute(uri: "/explain?top_k=3", method: .post,
                                                    headers: [.contentType: "image/png"], body: ByteBuffer(bytes: data))
            XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            XCTAssertEqual(try self.decode(ExplainResponse.self, response.body).results.first?.top.count, 3)

            let bad = try await client.execute(uri: "/explain", method: .post, body: ByteBuffer(string: "garbage"))
            XCTAssertEqual(bad.status, .unsupportedMediaType)
            XCTAssertNotNil(try? self.decode(ErrorBody.self, bad.body))
        }
    }

    func testConcurrentRequestsAllAnswer() async throws {
        let server = Self.server(ServerConfiguration(maxConcurrentExplains: 1))
        let body = ByteBuffer(bytes: try Self.fixture("decode/gray.png"))
        try await server.makeApplication().test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await client.execute(uri: "/explain?top_k=1", method: .post, body: body).status }
                }
                group.addTask { try await client.execute(uri: "/explain?target=zebra", method: .post, body: body).status }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                XCTAssertEqual(statuses.filter { $0 == .ok }.count, 4)
                XCTAssertEqual(statuses.filter { $0 == .badRequest }.count, 1)
            }
        }
    }

    /// The server as `explain serve` configures it, with port 0: it binds to 127.0.0.1 on a
    /// port the system chooses, and a client talks HTTP to that address.
    func testServeBindsToLoopbackOnAnEphemeralPort() async throws {
        var logger = Logger(label: "camkit.server.test")
        // Stopped by cancelling its task, the server logs the cancellation as an error.
        logger.logLevel = .critical
        let server = ExplainServer(models: [Self.model], configuration: ServerConfiguration(host: "127.0.0.1", port: 0), logger: logger)
        let (addresses, bound) = AsyncStream.makeStream(of: SocketAddress?.self)
        let app = server.makeApplication { channel in bound.yield(channel.localAddress) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = addresses.makeAsyncIterator()
            let next = await iterator.next()
            let address = try XCTUnwrap(next ?? nil)
            XCTAssertEqual(address.ipAddress, "127.0.0.1")
            let port = try XCTUnwrap(address.port)
            XCTAssertNotEqual(port, 0)

            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            let response = try await client.post("/explain?top_k=2&format=json", body: ByteBuffer(bytes: try Self.fixture("photo.png")))
            XCTAssertEqual(response.status, .ok)
            let body = try XCTUnwrap(response.body)
            XCTAssertEqual(try self.decode(ExplainResponse.self, body).results.first?.top.count, 2)
            let error = try await client.post("/explain?models=nope", body: ByteBuffer(bytes: try Self.fixture("photo.png")))
            XCTAssertEqual(error.status, .badRequest)
            XCTAssertEqual(try self.decode(ErrorBody.self, try XCTUnwrap(error.body)).error, "unknown model 'nope'; models: small")
            try await client.shutdown()
            group.cancelAll()
        }
    }

    // MARK: Parsing

    func testRequestParsingDefaults() throws {
        let request = try ExplainRequest(query: [])
        XCTAssertEqual(request.models, [])
        XCTAssertEqual(request.options, ExplainOptions())
        XCTAssertEqual(request.format, .json)
        let all = try ExplainRequest(query: [(key: "models", value: "all")])
        XCTAssertEqual(all.models, [])
        let two = try ExplainRequest(query: [(key: "models", value: " a, b ,"), (key: "eigen_smooth", value: "YES"),
                                              (key: "format", value: "PNG")])
        XCTAssertEqual(two.models, ["a", "b"])
        XCTAssertTrue(two.options.eigenSmooth)
        XCTAssertEqual(two.format, .png)
    }

    func testFinerCAMParameters() throws {
        let request = try ExplainRequest(query: [(key: "method", value: "finercam"), (key: "compare", value: "1, 3"),
                                                 (key: "finer_alpha", value: "0.5")])
        XCTAssertEqual(request.options.method, .finercam)
        XCTAssertEqual(request.options.finer, FinerSettings(comparisonRanks: [1, 3], alpha: 0.5))
        let method = try XCTUnwrap(request.options.method.makeMethod(finer: request.options.finer) as? FinerCAM)
        XCTAssertEqual(method.comparisonRanks, [1, 3])
        XCTAssertThrowsError(try ExplainRequest(query: [(key: "compare", value: "0,x")])) { error in
            XCTAssert("\(error)".contains("'0,x'"), "\(error)")
        }
        XCTAssertThrowsError(try ExplainRequest(query: [(key: "finer_alpha", value: "nan")]))
    }
}
