import CAMKit
@testable import CAMKitServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import XCTest

/// The limits that keep one client from exhausting the server: body size, the request
/// deadline (body, queue wait, models), and the bound on waiting requests.
final class ServerLimitTests: XCTestCase {
    static func server(_ configuration: ServerConfiguration) -> ExplainServer {
        var logger = Logger(label: "camkit.server.test")
        // A live server stopped by cancelling its task logs the cancellation as an error.
        logger.logLevel = .critical
        return ExplainServer(models: [ExplainServerTests.model], configuration: configuration, logger: logger)
    }

    static var photo: ByteBuffer { get throws { ByteBuffer(bytes: try ExplainServerTests.fixture("photo.png")) } }

    func error(_ body: ByteBuffer) throws -> String {
        try JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)).error
    }

    func assertQueueIsEmpty(_ server: ExplainServer, file: StaticString = #filePath, line: UInt = #line) {
        let counts = server.queue.counts
        XCTAssertEqual([counts.admitted, counts.running, counts.waiting], [0, 0, 0], "admitted, running, waiting", file: file, line: line)
    }

    // MARK: Body size

    /// With Content-Length the body is refused before it is read; a chunked one is cut off
    /// at the limit. Either way the rest is read and dropped, and the connection goes on.
    /// A body over the limit is answered 413, with or without Content-Length, and the
    /// connection is closed instead of the rest being read: these bodies never end.
    func testBodyOverTheLimitIs413WithAndWithoutContentLengthAndIsNotReadToItsEnd() async throws {
        let server = Self.server(ServerConfiguration(maxBodyBytes: 1000))
        let chunk = String(repeating: "y", count: 600)
        let endless: [(name: String, head: String, more: String, message: String)] = [
            ("with Content-Length", "POST /explain HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000000\r\n\r\n", chunk,
             "request body of 10000000000 bytes is over the limit of 1000 bytes"),
            ("chunked", "POST /explain HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", "258\r\n\(chunk)\r\n",
             "request body is over the limit of 1000 bytes"),
        ]
        try await server.makeApplication().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            for body in endless {
                let answers = try await RawConnection.answersToEndlessBody(port: port, head: body.head, more: body.more,
                                                                           every: .milliseconds(5))
                XCTAssertEqual(answers.map(\.status), [413], "\(body.name): \(answers.map(\.text))")
                guard let answer = answers.first else { continue }
                XCTAssertEqual(answer.headers["connection"], "close", body.name)
                XCTAssertEqual(answer.headers["content-type"], "application/json; charset=utf-8", body.name)
                XCTAssert(answer.text.contains(body.message), "\(body.name): \(answer.text)")
            }
            let after = try await client.execute(uri: "/models", method: .get)
            XCTAssertEqual(after.status, .ok)
        }
        assertQueueIsEmpty(server)
    }

    // MARK: Request timeout

    /// A body that stalls, or trickles in a byte at a time, gets 408 at the deadline and its
    /// connection closed: it holds neither a place in the queue nor the connection.
    func testLateBodyIs408AndClosesTheConnection() async throws {
        let server = Self.server(ServerConfiguration(requestTimeout: .milliseconds(400)))
        let trickles: [(name: String, head: String, byte: String)] = [
            ("with Content-Length", "POST /explain HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n0123456789", "x"),
            ("chunked", "POST /explain HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", "1\r\nx\r\n"),
        ]
        try await server.makeApplication().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            for trickle in trickles {
                // At this rate the body would take minutes.
                let answers = try await RawConnection.answersToEndlessBody(port: port, head: trickle.head, more: trickle.byte,
                                                                           every: .milliseconds(50))
                XCTAssertEqual(answers.map(\.status), [408], "\(trickle.name): \(answers.map(\.text))")
                guard let answer = answers.first else { continue }
                XCTAssertEqual(answer.headers["connection"], "close", trickle.name)
                XCTAssert(answer.text.contains("the request body did not arrive within the request timeout of 0.4 s"),
                          "\(trickle.name): \(answer.text)")
                self.assertQueueIsEmpty(server)
            }
            let after = try await client.execute(uri: "/explain", method: .post, body: try Self.photo)
            XCTAssertEqual(after.status, .ok, String(buffer: after.body))
        }
    }

    /// A request that cannot get an explain slot before its deadline is answered 503 with
    /// Retry-After, and gives its place back.
    func testWaitingForASlotPastTheTimeoutIs503() async throws {
        let server = Self.server(ServerConfiguration(maxConcurrentExplains: 1, requestTimeout: .milliseconds(300)))
        try await server.makeApplication().test(.router) { client in
            // Another request holds the only slot.
            try await server.queue.acquire(until: .now + .seconds(60))
            let response = try await client.execute(uri: "/explain", method: .post, body: try Self.photo)
            XCTAssertEqual(response.status, .serviceUnavailable)
            XCTAssertEqual(try self.error(response.body), "no explain slot freed within the request timeout of 0.3 s; retry later")
            let retryAfter = try XCTUnwrap(response.headers[.retryAfter].flatMap(Int.init), "Retry-After in seconds")
            XCTAssertGreaterThanOrEqual(retryAfter, 1)
            let counts = server.queue.counts
            XCTAssertEqual([counts.admitted, counts.running, counts.waiting], [0, 1, 0])

            server.queue.release(held: .zero)
            let after = try await client.execute(uri: "/explain", method: .post, body: try Self.photo)
            XCTAssertEqual(after.status, .ok, String(buffer: after.body))
        }
        assertQueueIsEmpty(server)
    }

    /// The answer says how long the request waited for a slot, apart from the explain itself.
    func testQueueWaitIsReportedApartFromCompute() async throws {
        let server = Self.server(ServerConfiguration(maxConcurrentExplains: 1))
        try await server.makeApplication().test(.router) { client in
            try await server.queue.acquire(until: .now + .seconds(60))
            let photo = try Self.photo
            async let answer = client.execute(uri: "/explain", method: .post, body: photo)
            while server.queue.counts.waiting == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(200))
            server.queue.release(held: .zero)

            let response = try await answer
            XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            let timing = try JSONDecoder().decode(ExplainResponse.self, from: Data(response.body.readableBytesView)).timing
            XCTAssertGreaterThanOrEqual(timing.queueMs, 200)
            XCTAssertGreaterThan(timing.computeMs, 0)
            let result = try JSONDecoder().decode(ExplainResponse.self, from: Data(response.body.readableBytesView)).results[0]
            XCTAssertLessThanOrEqual(result.elapsedMs + result.waitMs, timing.computeMs)
        }
        assertQueueIsEmpty(server)
    }

    /// A forward pass cannot be interrupted, so the deadline is checked before each model.
    func testModelsNotStartedByTheDeadlineAreSkippedWith503() throws {
        let server = Self.server(ServerConfiguration(requestTimeout: .seconds(1)))
        let photo = try ImageDecoder().decode(data: try ExplainServerTests.fixture("photo.png"), name: "photo.png")
        let models = [ExplainServerTests.model, ExplainServerTests.model]
        XCTAssertThrowsError(try server.explainAll(photo, with: models, options: ExplainOptions(), deadline: .now - .seconds(1))) { error in
            let api = error as? APIError
            XCTAssertEqual(api?.status, .serviceUnavailable)
            XCTAssertEqual(api?.message, "the request timeout of 1 s passed after 0 of 2 models; retry later or ask for fewer models")
            XCTAssertNotNil(api?.headers[.retryAfter])
        }
        let explanations = try server.explainAll(photo, with: models, options: ExplainOptions(), deadline: .now + .seconds(60))
        XCTAssertEqual(explanations.count, 2)
    }

    // MARK: Queue limit

    /// Past `maxConcurrentExplains + maxQueuedRequests` requests, a new one is refused at once
    /// with 503 and Retry-After, before its body is read.
    func testFullQueueIs503WithRetryAfter() async throws {
        let server = Self.server(ServerConfiguration(maxConcurrentExplains: 1, maxQueuedRequests: 1))
        try await server.makeApplication().test(.router) { client in
            XCTAssert(server.queue.admit())
            XCTAssert(server.queue.admit())
            XCTAssertFalse(server.queue.admit())
            let response = try await client.execute(uri: "/explain", method: .post, body: try Self.photo)
            XCTAssertEqual(response.status, .serviceUnavailable)
            XCTAssertEqual(try self.error(response.body),
                           "the server is busy: 0 requests explaining and 2 waiting, as many as it queues; retry later")
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(response.headers[.retryAfter].flatMap(Int.init)), 1)

            server.queue.dismiss()
            server.queue.dismiss()
            let after = try await client.execute(uri: "/explain", method: .post, body: try Self.photo)
            XCTAssertEqual(after.status, .ok, String(buffer: after.body))
        }
        assertQueueIsEmpty(server)
    }

    /// Many more requests than slots and queue: each is answered 200 or 503, none is lost,
    /// and the queue is empty afterwards.
    func testFloodIsAnsweredAndLeavesNothingBehind() async throws {
        let server = Self.server(ServerConfiguration(maxConcurrentExplains: 1, maxQueuedRequests: 2))
        let photo = try Self.photo
        try await server.makeApplication().test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await client.execute(uri: "/explain?top_k=1", method: .post, body: photo).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            XCTAssertEqual(statuses.count, 12)
            XCTAssertEqual(statuses.filter { $0 != .ok && $0 != .serviceUnavailable }, [])
            XCTAssert(statuses.contains(.ok))
        }
        assertQueueIsEmpty(server)
    }
}
