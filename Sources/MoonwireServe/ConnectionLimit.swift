import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// At most `maximum` HTTP connections at once; one more is closed as it opens. Each holds a
/// file descriptor: without a cap, connections that do nothing (another user of the machine
/// needs no token to open them) would use up the process's files, and the journal or the
/// reconnect to TWS would fail for want of one.
final class ConnectionLimit: Sendable {
    static let maximum = 256
    private let open = NIOLockedValueBox(0)

    func admit() -> Bool {
        open.withLockedValue { count in
            guard count < Self.maximum else { return false }
            count += 1
            return true
        }
    }

    func release() { open.withLockedValue { $0 -= 1 } }

    /// Counts a connection in when it becomes active, out when it closes.
    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let limit: ConnectionLimit
        // Set on the channel's own event loop only, in channelActive / channelInactive.
        private let admitted = NIOLockedValueBox(false)

        init(limit: ConnectionLimit) { self.limit = limit }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { admitOrClose(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            admitOrClose(context)
            context.fireChannelActive()
        }

        private func admitOrClose(_ context: ChannelHandlerContext) {
            guard !admitted.withLockedValue({ $0 }) else { return }
            if limit.admit() {
                admitted.withLockedValue { $0 = true }
            } else {
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if admitted.withLockedValue({ $0 }) {
                admitted.withLockedValue { $0 = false }
                limit.release()
            }
            context.fireChannelInactive()
        }

    }
}

/// Closes the connection when `IdleStateHandler` says nothing moved on it for its timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// A server's child channel with `ConnectionLimit.Handler` first in every connection's
/// pipeline, from the moment it is accepted (before any byte: an idle connection counts).
struct LimitedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner
    let limit: ConnectionLimit

    /// Nothing read or written for this long closes a connection (an event-stream client
    /// gets a ping every 10 s from the server, so a quiet run does not close it).
    static var idleSeconds: Int64 { 30 }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(ConnectionLimit.Handler(limit: limit), position: .first)
            // Hummingbird's own idle timeout is armed only once a request has begun: a
            // connection that never sends a byte would stay for ever.
            try operations.addHandler(IdleStateHandler(allTimeout: .seconds(Self.idleSeconds)), position: .first)
            try operations.addHandler(IdleCloser(), position: .after(operations.handler(type: IdleStateHandler.self)))
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Inner.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
