import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the connection, so that a request refused for its
/// body (too large, too late) can have the connection closed after its answer.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
