import Foundation
import NIOCore
import NIOPosix

/// A bare TCP connection to a live server, for requests an HTTP client library will not send:
/// a body that stalls or trickles, a chunked body of a chosen size.
enum RawConnection {
    struct NoAnswer: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "the server neither answered nor closed the connection within \(timeout)" }
    }

    /// Connects to 127.0.0.1:`port`, runs `write`, and returns every byte the server sends
    /// until it closes the connection. Write errors are ignored: the server may close the
    /// connection before everything is written, which is what some tests check. A reset after
    /// the server sent something also ends the exchange: a server that closes while the client
    /// is still sending makes its kernel answer the client's next bytes with a reset.
    static func exchange(port: Int, timeout: Duration = .seconds(20),
                         _ write: @escaping @Sendable (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void)
        async throws -> [UInt8]
    {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    try? await write(outbound)
                    return nil
                }
                group.addTask {
                    var received: [UInt8] = []
                    do {
                        for try await chunk in inbound { received += chunk.readableBytesView }
                    } catch {
                        if received.isEmpty { throw error }
                    }
                    return received
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw NoAnswer(timeout: timeout)
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let received = result { return received }
                }
                return []
            }
        }
    }

    /// Sends `head`, then `more` every `interval`, a body that never ends, until the server
    /// closes the connection; returns what it answered.
    static func answersToEndlessBody(port: Int, head: String, more: String, every interval: Duration) async throws -> [RawResponse] {
        try RawResponse.parseAll(try await exchange(port: port) { outbound in
            try await outbound.write(ByteBuffer(string: head))
            while true {
                try await Task.sleep(for: interval)
                try await outbound.write(ByteBuffer(string: more))
            }
        })
    }
}

/// An HTTP/1.1 answer read off a raw connection.
struct RawResponse {
    var status: Int
    /// Lower-cased names.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The answers in `bytes`, one after the other; each must have a Content-Length.
    static func parseAll(_ bytes: [UInt8]) throws -> [RawResponse] {
        var responses: [RawResponse] = []
        var rest = bytes[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while !rest.isEmpty {
            guard let end = rest.indices.first(where: { rest[$0...].starts(with: separator) }) else {
                throw Malformed(description: "no end of headers in \(String(decoding: rest, as: UTF8.self))")
            }
            let lines = String(decoding: rest[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let statusWords = lines[0].split(separator: " ")
            guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
                throw Malformed(description: "bad status line '\(lines[0])'")
            }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { throw Malformed(description: "bad header line '\(line)'") }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard let length = headers["content-length"].flatMap(Int.init) else {
                throw Malformed(description: "no Content-Length in \(headers)")
            }
            let bodyStart = end + separator.count
            guard rest.endIndex - bodyStart >= length else { throw Malformed(description: "body shorter than \(length) bytes") }
            responses.append(RawResponse(status: status, headers: headers, body: Array(rest[bodyStart..<bodyStart + length])))
            rest = rest[(bodyStart + length)...]
        }
        return responses
    }
}
