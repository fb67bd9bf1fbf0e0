import NIOConcurrencyHelpers
import NIOCore
import TWSProtocol

/// Where orders leave: while it is closed, no order (new, or a modification) is written to
/// TWS; cancels still go (they only take risk away, and an order of ours that works on at
/// TWS must stay cancellable). The check is made as each order is written to the socket,
/// under the lock every change of the gate takes: an order that passed every check before
/// (the strategy's, the runner's queue, the journal) and waits in the client's queue still
/// cannot leave after the gate closed.
///
/// It is closed for one or more causes at once, each with its reason:
/// - `halted`: the kill switch, for good (nothing reopens it);
/// - `journal`: the journal cannot be written (reopened when it can);
/// - `reconcile`: the last reconciliation left a position unexplained or a state unknown;
/// - `reconciling`: not reconciled with TWS since the connection was made or last dropped
///   (the trading state holds it from its start and at every drop, and releases it with a
///   clean reconciliation of the connection as it is now).
/// What a strategy is told is the first cause in that order.
public final class OrderGate: Sendable {
    public static let causes = ["halted", "journal", "reconcile", "reconciling"]
    private let reasons = NIOLockedValueBox<[String: String]>([:])

    public init() {}

    /// The kill switch: closes it for good (the first reason stays). Returns whether this
    /// call closed it.
    @discardableResult
    public func close(_ why: String) -> Bool {
        reasons.withLockedValue { reasons in
            guard reasons["halted"] == nil else { return false }
            reasons["halted"] = why
            return true
        }
    }

    /// Sets or clears causes in one step (nil clears): no order is written between two of
    /// them. `halted` cannot be set or cleared here. Returns the causes whose reason changed.
    @discardableResult
    public func update(_ changes: [String: String?]) -> Set<String> {
        reasons.withLockedValue { reasons in
            var changed = Set<String>()
            for (cause, reason) in changes where cause != "halted" && reasons[cause] != reason {
                reasons[cause] = reason
                changed.insert(cause)
            }
            return changed
        }
    }

    /// Why the kill switch closed it, or nil.
    public var haltReason: String? { reasons.withLockedValue { $0["halted"] } }

    /// The first cause that closes it now and its reason, or nil while orders may leave.
    public var closure: (cause: String, reason: String)? {
        let now = reasons.withLockedValue { $0 }
        return Self.causes.lazy.compactMap { cause in now[cause].map { (cause, $0) } }.first
    }

    /// Why it is closed, or nil while orders may leave.
    public var closedReason: String? { closure?.reason }

    /// The reason of one cause, or nil when that cause does not close it.
    public func reason(of cause: String) -> String? { reasons.withLockedValue { $0[cause] } }

    /// Runs `write` under the lock when the gate is open; returns why it is closed otherwise.
    func pass(_ write: () -> Void) -> String? {
        reasons.withLockedValue { reasons in
            for cause in Self.causes { if let reason = reasons[cause] { return reason } }
            write()
            return nil
        }
    }
}

extension TWSClient {
    /// Closes the gate for `cause` (not `halted`: see `closeOrderGate`) and drops what waits
    /// in the send queue, as the kill switch does. Returns the ids dropped.
    public func holdOrders(_ cause: String, _ reason: String) async -> [Int] {
        orderGate.update([cause: reason])
        return (try? await loop.submit { self.dropQueuedOrders() }.get()) ?? []
    }

    /// The kill switch at the socket: from now on no order leaves (see `OrderGate`); the
    /// orders queued for sending are dropped now, their requests failing with
    /// `TWSError.orderGateClosed`, so the cancels that follow go first. Returns the ids of
    /// the orders dropped.
    public func closeOrderGate(_ reason: String) async -> [Int] {
        orderGate.close(reason)
        return (try? await loop.submit { self.dropQueuedOrders() }.get()) ?? []
    }

    /// Takes every order (new or modification) out of the send queue and fails its request
    /// (the gate is closed: they cannot leave now, and must not leave later, after it reopened,
    /// on a picture they were not decided on).
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
        unwrittenOrderRequest(orderId)?.fail(.orderGateClosed(reason))
    }

    /// The first placement or modification of order `orderId` not written yet: the one a frame
    /// of that order now on its way belongs to (an order's frames leave in the order made).
    func unwrittenOrderRequest(_ orderId: Int) -> PendingRequest? {
        pending[orderId]?.first { !$0.written && ($0.name == "placeOrder" || $0.name == "modifyOrder") }
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
        unwrittenOrderRequest(order.orderId)?.written = true
        return true
    }
}
