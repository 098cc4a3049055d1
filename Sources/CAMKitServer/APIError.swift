import CAMKit
import Foundation
import Hummingbird

/// An error answered with a status and `{"error": "..."}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Sent with the answer: Retry-After for a busy server, Connection: close when the server
    /// drops the connection after answering.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// 503 telling the client when to come back.
    static func busy(_ message: String, retryAfter seconds: Int) -> APIError {
        APIError(.serviceUnavailable, message, headers: [.retryAfter: "\(seconds)"])
    }

    /// The same answer with Connection: close, after which `JSONErrorMiddleware` closes the
    /// connection: for a refused or late body, which Hummingbird would otherwise read to its
    /// end, however long it streams.
    func closingConnection() -> APIError {
        var error = self
        error.headers[.connection] = "close"
        return error
    }

    public var description: String { "\(status.code) \(message)" }

    /// The status and message for any error thrown while answering a request: what the
    /// caller asked for or sent is a 4xx naming the problem, anything else a 500.
    static func from(_ error: Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ImageError:
            switch error {
            case .tooLarge, .outOfMemory: return APIError(.contentTooLarge, error.description)
            case .unknownFormat, .unsupported: return APIError(.unsupportedMediaType, error.description)
            case .empty, .truncated, .corrupt, .unreadable: return APIError(.badRequest, error.description)
            }
        case let error as ExplainError:
            return APIError(.badRequest, error.description)
        case let error as CAMError:
            return APIError(.badRequest, error.description)
        case let error as UnknownLayerError:
            return APIError(.badRequest, error.description)
        default:
            return APIError(.internalServerError, "internal error: \(error)")
        }
    }
}
