import NIOConcurrencyHelpers
import NIOCore
import TWSProtocol

/// The kill switch where orders leave: once closed, no order (new, or a modification) is
/// written to TWS any more; cancels still go. The check is made as each order is written to
/// the socket, under the lock `close` takes: an order that passed every check before (the
/// strategy's, the runner's queue, the journal) and waits in the client's queue still
/// cannot leave after the switch.
public final class OrderGate: Sendable {
    private let reason = NIOLockedValueBox<String?>(nil)

    public init() {}

    /// Closes it for good (the first reason stays). Returns whether this call closed it.
    @discardableResult
    public func close(_ why: String) -> Bool {
        reason.withLockedValue { reason in
            guard reason == nil else { return false }
            reason = why
            return true
        }
    }

    /// Why it is closed, or nil while orders may leave.
    public var closedReason: String? { reason.withLockedValue { $0 } }

    /// Runs `write` under the lock when the gate is open; returns why it is closed otherwise.
    func pass(_ write: () -> Void) -> String? {
        reason.withLockedValue { reason in
            if let reason { return reason }
            write()
            return nil
        }
    }
}

extension TWSClient {
    /// The kill switch at the socket: from now on no order leaves (see `OrderGate`); the
    /// orders queued for sending are dropped now, their requests failing with
    /// `TWSError.orderGateClosed`, so the cancels that follow go first. Returns the ids of
    /// the orders dropped.
    public func closeOrderGate(_ reason: String) async -> [Int] {
        orderGate.close(reason)
        return (try? await loop.submit { self.dropQueuedOrders() }.get()) ?? []
    }

    /// Takes every order (new or modification) out of the send queue and fails its request.
    func dropQueuedOrders() -> [Int] {
        let reason = orderGate.closedReason ?? "the order gate is closed"
        var dropped: [Int] = []
        outgoing.removeAll { request in
            guard case let .placeOrder(order) = request else { return false }
            dropped.append(order.orderId)
            return true
        }
        for id in dropped { refusedAtGate(id, reason) }
        return dropped
    }

    /// An order the gate stopped: its request (placeOrder or modifyOrder under its id) fails.
    func refusedAtGate(_ orderId: Int, _ reason: String) {
        guard let request = pending[orderId], request.name == "placeOrder" || request.name == "modifyOrder" else { return }
        request.fail(.orderGateClosed(reason))
    }

    /// Writes `frame` of `request` to `channel`; an order only while the gate is open, under
    /// its lock. Returns false when the gate stopped it.
    func write(_ frame: [UInt8], of request: ClientRequest, to channel: Channel) -> Bool {
        guard case let .placeOrder(order) = request else {
            channel.writeAndFlush(channel.allocator.buffer(bytes: frame), promise: nil)
            return true
        }
        if let reason = orderGate.pass({ channel.writeAndFlush(channel.allocator.buffer(bytes: frame), promise: nil) }) {
            refusedAtGate(order.orderId, reason)
            return false
        }
        return true
    }
}
