import Hummingbird

/// Counts every answer, errors included (it sits outside `JSONErrorMiddleware`, which turns them
/// into answers), by the route it matched and its status, with its latency.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(route: context.endpointPath ?? "NotFound", method: request.method.rawValue,
                              status: response.status.code, duration: .now - start)
        return response
    }
}
