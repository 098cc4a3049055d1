import Hummingbird
import Logging
import NIOCore

/// Turns every error into `{"error": "..."}` with its status (and its headers); errors of the
/// server itself are logged.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let api: APIError
            if let error = error as? APIError {
                api = error
            } else if let error = error as? HTTPError {
                api = APIError(error.status, error.body ?? Self.defaultMessage(error.status, request), headers: error.headers)
            } else if let error = error as? HTTPResponseError {
                api = APIError(error.status, Self.defaultMessage(error.status, request))
            } else {
                api = APIError.from(error)
            }
            if api.status == .internalServerError {
                context.logger.error("request failed", metadata: ["uri": "\(request.uri)", "error": "\(error)"])
            } else {
                context.logger.info("request refused", metadata: ["uri": "\(request.uri)", "status": "\(api.status.code)", "error": "\(api.message)"])
            }
            guard var response = try? ExplainServer.json(ErrorBody(error: api.message), status: api.status) else {
                return Response(status: api.status, headers: api.headers)
            }
            response.headers.append(contentsOf: api.headers)
            if api.headers[.connection] == "close" {
                return Self.closing(context.channel, after: response)
            }
            return response
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: "no route \(request.method) \(request.uri.path); routes: "
            + ExplainServer.routes.map { "\($0.method) \($0.path)" }.joined(separator: ", ")
        case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
        case .contentTooLarge: "request body too large"
        default: status.reasonPhrase
        }
    }

    /// `response`, then the connection closed once its last byte is written.
    static func closing(_ channel: any Channel, after response: Response) -> Response {
        var response = response
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(writer)
            try await channel.close()
        }
        return response
    }
}
