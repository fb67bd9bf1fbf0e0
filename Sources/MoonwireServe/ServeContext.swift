import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// A request to the API: Hummingbird's storage, the WebSocket upgrade's slot, and the peer's
/// address (for the per-client rate limit).
struct ServeContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<ServeContext>
    let remoteAddress: SocketAddress?
    /// The request carried the server's token (set by `AccessGuard`).
    var hasToken = false

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }

    /// No request the API takes is larger (a strategy's add is a path and a few parameters).
    var maxUploadSize: Int { 64 * 1024 }
}
