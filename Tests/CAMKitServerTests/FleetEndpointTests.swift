import CAMKit
@testable import CAMKitServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import XCTest

/// What an orchestrator and a load balancer ask of a replica: liveness, readiness, metrics,
/// request ids and JSON logs.
final class FleetEndpointTests: XCTestCase {
    func json(_ body: ByteBuffer) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any], String(buffer: body))
    }

    /// A server whose models all failed to load (its expected refusals logged only as warnings).
    static func withoutModels() -> ExplainServer {
        var logger = Logger(label: "camkit.server.test")
        logger.logLevel = .warning
        return ExplainServer(models: [], logger: logger)
    }

    func testHealthzAnswersAliveEvenWithoutModels() async throws {
        for server in [ExplainServerTests.server(), Self.withoutModels()] {
            try await server.makeApplication().test(.router) { client in
                let response = try await client.execute(uri: "/healthz", method: .get)
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(try self.json(response.body)["status"] as? String, "alive")
            }
        }
    }

    func testReadyzFollowsModelsAndFreeSlots() async throws {
        let server = ExplainServerTests.server(ServerConfiguration(maxConcurrentExplains: 1))
        try await server.makeApplication().test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(ready.status, .ok)
            let body = try self.json(ready.body)
            XCTAssertEqual(body["status"] as? String, "ready")
            XCTAssertEqual(body["models"] as? [String], ["small"])
            XCTAssertEqual(body["free_slots"] as? Int, 1)

            // The one slot taken, as by a request explaining.
            try await server.queue.acquire(until: .now + .seconds(5))
            let busy = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(busy.status, .serviceUnavailable)
            XCTAssertEqual(try self.json(busy.body)["error"] as? String, "not ready: all 1 explain slots are taken and 0 requests wait")
            server.queue.release(held: .seconds(1))
            let again = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(again.status, .ok)
        }
        try await Self.withoutModels().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(response.status, .serviceUnavailable)
            XCTAssertEqual(try self.json(response.body)["error"] as? String, "not ready: no model is loaded")
        }
    }

    /// The exposition is parsed line by line as the Prometheus text format (0.0.4) says; the
    /// request and explain counters move with the requests made.
    func testMetricsParseAsPrometheusTextAndCountersMove() async throws {
        let server = ExplainServerTests.server()
        let photo = ByteBuffer(bytes: try ExplainServerTests.fixture("photo.png"))
        try await server.makeApplication().test(.router) { client in
            let before = try PrometheusText(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            XCTAssertNil(before.value("camkit_explains_total", ["model": "small", "method": "gradcam"]))
            XCTAssertEqual(before.value("camkit_queue_depth"), 0)
            XCTAssertEqual(before.value("camkit_explain_slots"), Double(server.queue.slots))

            for _ in 0..<2 {
                let ok = try await client.execute(uri: "/explain", method: .post, body: photo)
                XCTAssertEqual(ok.status, .ok)
            }
            _ = try await client.execute(uri: "/explain?method=layercam", method: .post, body: photo)
            _ = try await client.execute(uri: "/explain?target=zebra", method: .post, body: photo)
            _ = try await client.execute(uri: "/nowhere/\(UUID())", method: .get)

            let response = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(response.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
            let after = try PrometheusText(String(buffer: response.body))
            XCTAssertEqual(after.types["camkit_http_requests_total"], "counter")
            XCTAssertEqual(after.types["camkit_http_request_duration_seconds"], "histogram")
            XCTAssertEqual(after.types["camkit_queue_depth"], "gauge")
            XCTAssertEqual(after.value("camkit_http_requests_total", ["route": "/explain", "method": "POST", "status": "200"]), 3)
            XCTAssertEqual(after.value("camkit_http_requests_total", ["route": "/explain", "method": "POST", "status": "400"]), 1)
            XCTAssertEqual(after.value("camkit_http_requests_total", ["route": "NotFound", "method": "GET", "status": "404"]), 1,
                           "\(after.samples.filter { $0.labels["status"] == "404" })")
            XCTAssertEqual(after.value("camkit_http_requests_total", ["route": "/metrics", "method": "GET", "status": "200"]), 1)
            XCTAssertEqual(after.value("camkit_explains_total", ["model": "small", "method": "gradcam"]), 2)
            XCTAssertEqual(after.value("camkit_explains_total", ["model": "small", "method": "layercam"]), 1)
            XCTAssertEqual(after.value("camkit_http_request_duration_seconds_count", ["route": "/explain"]), 4)
            XCTAssertEqual(after.value("camkit_http_request_duration_seconds_bucket", ["route": "/explain", "le": "+Inf"]), 4)
        }
    }

    func testRequestIDIsAnsweredAndLogged() async throws {
        let lines = LogLines()
        var logger = Logger(label: "camkit.server.test") { label in JSONLogHandler(label: label) { lines.append($0) } }
        logger.logLevel = .info
        let server = ExplainServer(models: [ExplainServerTests.model], logger: logger)
        let photo = ByteBuffer(bytes: try ExplainServerTests.fixture("photo.png"))
        try await server.makeApplication().test(.router) { client in
            let given = try await client.execute(uri: "/explain", method: .post, headers: [RequestIDMiddleware.header: "lb-7f3a"], body: photo)
            XCTAssertEqual(given.headers[RequestIDMiddleware.header], "lb-7f3a")
            let refused = try await client.execute(uri: "/explain?target=zebra", method: .post,
                                                   headers: [RequestIDMiddleware.header: "bad id with spaces"], body: photo)
            let generated = try XCTUnwrap(refused.headers[RequestIDMiddleware.header])
            XCTAssertNotEqual(generated, "bad id with spaces")
            XCTAssertFalse(generated.isEmpty)

            let records = try lines.all.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0) }
            let explained = try XCTUnwrap(records.first { $0["message"] as? String == "explained" })
            XCTAssertEqual(explained["request_id"] as? String, "lb-7f3a")
            XCTAssertEqual(explained["level"] as? String, "info")
            XCTAssertEqual(explained["label"] as? String, "camkit.server.test")
            XCTAssertNotNil(explained["time"] as? String)
            let refusal = try XCTUnwrap(records.first { $0["message"] as? String == "request refused" })
            XCTAssertEqual(refusal["request_id"] as? String, generated)
            XCTAssertEqual(refusal["status"] as? String, "400")
        }
    }

    func testUsableRequestIDs() {
        XCTAssertEqual(RequestIDMiddleware.usable("abc-123_X"), "abc-123_X")
        XCTAssertNil(RequestIDMiddleware.usable(""))
        XCTAssertNil(RequestIDMiddleware.usable("two words"))
        XCTAssertNil(RequestIDMiddleware.usable("new\nline"))
        XCTAssertNil(RequestIDMiddleware.usable(String(repeating: "a", count: 129)))
    }
}

/// Log lines a `JSONLogHandler` wrote, from any thread.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) {
        XCTAssertTrue(line.hasSuffix("\n"))
        lock.withLock { lines.append(String(line.dropLast())) }
    }
}

/// The Prometheus text exposition format, parsed strictly enough to fail on a malformed line:
/// `# HELP`/`# TYPE` comments, then `name{label="value",…} number` samples.
struct PrometheusText {
    struct Sample { let name: String; let labels: [String: String]; let value: Double }
    var types: [String: String] = [:]
    var samples: [Sample] = []

    struct Malformed: Error, CustomStringConvertible { let line: String; var description: String { "malformed line: \(line)" } }

    init(_ text: String) throws {
        let name = #"[a-zA-Z_:][a-zA-Z0-9_:]*"#
        let sample = try Regex(#"^(\#(name))(\{([^}]*)\})? ([-+0-9.eE]+|NaN|\+Inf|-Inf)$"#)
        let label = try Regex(#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#)
        let type = try Regex(#"^# TYPE (\#(name)) (counter|gauge|histogram|summary|untyped)$"#)
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if let match = try type.wholeMatch(in: line) {
                types[String(match.output[1].substring!)] = String(match.output[2].substring!)
                continue
            }
            guard let match = try sample.wholeMatch(in: line), let value = Double(match.output[4].substring!.replacingOccurrences(of: "+Inf", with: "inf")) else {
                throw Malformed(line: line)
            }
            var labels: [String: String] = [:]
            if let list = match.output[3].substring {
                for pair in list.matches(of: label) {
                    labels[String(pair.output[1].substring!)] = String(pair.output[2].substring!)
                }
            }
            samples.append(Sample(name: String(match.output[1].substring!), labels: labels, value: value))
        }
    }

    /// The value of the one sample with this name and exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
