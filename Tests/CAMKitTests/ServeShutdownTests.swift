import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `explain serve` as an orchestrator runs it: a real process, stopped with SIGTERM.
final class ServeShutdownTests: XCTestCase {
    /// A server process with the small zoo on a free port, JSON logs collected from stderr.
    final class ServeProcess {
        let process = Process()
        private let logLock = NSLock()
        private var logText = ""
        private(set) var port = 0

        init(zoo: URL, extra: [String] = []) throws {
            guard let executable = explainExecutable() else { throw XCTSkip("no explain executable next to the test bundle") }
            process.executableURL = executable
            process.arguments = ["serve", "--zoo", zoo.path, "--models", "small", "--port", "0", "--log-format", "json", "--concurrency", "1"] + extra
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            let started = DispatchSemaphore(value: 0)
            err.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                guard let self, !chunk.isEmpty else { handle.readabilityHandler = nil; return }
                let text = self.logLock.withLock { self.logText += String(decoding: chunk, as: UTF8.self); return self.logText }
                if self.port == 0, let port = Self.listeningPort(in: text) {
                    self.port = port
                    started.signal()
                }
            }
            try process.run()
            guard started.wait(timeout: .now() + 120) == .success else {
                Glibc.kill(process.processIdentifier, SIGKILL)
                throw XCTSkip("explain serve did not start within 120 s: \(log)")
            }
        }

        var log: String { logLock.withLock { logText } }

        /// The port Hummingbird logs once it listens ("… listening on 127.0.0.1:PORT").
        static func listeningPort(in log: String) -> Int? {
            guard let range = log.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
            return Int(log[range].split(separator: ":").last ?? "")
        }

        func kill() {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
    }

    /// A request whose body is half sent when SIGTERM arrives: the server stops accepting
    /// connections, receives the rest, answers it in full, and exits 0. Nothing here waits on a
    /// clock: the request is in flight because its body is not complete.
    func testSIGTERMLetsTheRequestInFlightFinishThenExitsZero() throws {
        let folder = try temporaryFolder("serve-shutdown")
        let server = try ServeProcess(zoo: try writeSmallZoo(in: folder))
        addTeardownBlock { server.kill() }

        let photo = try Data(contentsOf: fixtureURL("images/photo.png"))
        let slow = try LoopbackSocket(port: server.port)
        try slow.send("POST /explain?top_k=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                      + "X-Request-Id: slow-upload-1\r\nContent-Length: \(photo.count)\r\n\r\n")
        try slow.send(photo.prefix(photo.count / 2))
        // The server has the request once it counts it in its queue (reading its body).
        try waitFor("the half-sent request to be admitted") {
            try LoopbackSocket.get("/metrics", port: server.port).body.split(separator: "\n")
                .contains { $0.hasPrefix("camkit_queue_depth ") && Double($0.split(separator: " ").last ?? "") == 1 }
        }

        XCTAssertEqual(kill(server.process.processIdentifier, SIGTERM), 0)
        try waitFor("the listener to close") {
            do { _ = try LoopbackSocket(port: server.port); return false } catch let error as POSIXError { return error.code == .ECONNREFUSED }
        }
        XCTAssertTrue(server.process.isRunning, "the server exited with a request in flight")

        try slow.send(photo.suffix(from: photo.count / 2))
        let answer = try XCTUnwrap(HTTPAnswer(slow.readToEnd()), "no answer to the request in flight")
        XCTAssertEqual(answer.status, 200, answer.body)
        XCTAssertEqual(answer.headers["x-request-id"], "slow-upload-1")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        XCTAssertEqual((json["results"] as? [[String: Any]])?.first?["model"] as? String, "small")

        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationReason, .exit)
        XCTAssertEqual(server.process.terminationStatus, 0, server.log)

        // Every log line is a JSON object; the explain's line names its request.
        let lines = server.log.split(separator: "\n")
        for line in lines {
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON log line: \(line)")
        }
        let explained = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["message"] as? String == "explained" }
        XCTAssertEqual(explained?["request_id"] as? String, "slow-upload-1", server.log)
    }

    /// Polls `condition` (every 50 ms, for at most 60 s): the tests wait for an event, not a delay.
    func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)")
        throw CocoaError(.userCancelled)
    }
}
