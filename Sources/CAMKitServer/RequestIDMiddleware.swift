import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id, in every log line about it (`request_id`) and in its answer's
/// `X-Request-Id`: the client's own id when it sent a usable one (a load balancer's or a
/// caller's, so one id follows the request through the fleet), else Hummingbird's.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[Self.header].flatMap(Self.usable) ?? context.id
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// A client's id, if it is 1 to 128 printable ASCII characters (it goes into logs and headers as is).
    static func usable(_ id: String) -> String? {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return id
    }
}
