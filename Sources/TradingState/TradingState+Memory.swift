import Foundation

/// What a finished order leaves in memory is bounded: an order that ended without a fill
/// (cancelled, rejected, not sent) stays in memory among the latest `keptUnfilledOrders` of
/// them, then only in the journal. An order with fills stays as long as its executions (the
/// positions are their sum), so memory grows with fills, never with orders placed and
/// cancelled. A late report about an order no longer in memory is handled as TWS's report
/// of an order this state does not hold (it changes nothing of ours).
extension TradingState {
    public static let keptUnfilledOrders = 2_000

    /// Called as an order's record is stored (on the loop): a finished unfilled one is
    /// queued for eviction; the oldest beyond the bound leave memory, in batches.
    func rememberFinished(_ record: OrderRecord) {
        guard record.status.isTerminal, record.filled == 0 else { return }
        for key in finishedUnfilled.add(record.clientKey) {
            // Still finished and unfilled (a stale queue entry is skipped): it leaves memory.
            guard let order = orders[key], order.status.isTerminal, order.filled == 0 else { continue }
            orders[key] = nil
            if keyByOrderId[order.orderId] == key { keyByOrderId[order.orderId] = nil }
        }
    }
}

/// Keys of finished things, oldest first. Once more than twice `kept` wait, all but the newest
/// `kept` are handed back to be dropped: one batch now and then, not a shift per key.
public struct FinishedKeys<Key: Hashable & Sendable>: Sendable {
    public let kept: Int
    private var keys: [Key] = []

    public init(kept: Int) { self.kept = kept }

    /// Adds `key`; returns the keys past the bound (usually none).
    public mutating func add(_ key: Key) -> ArraySlice<Key> {
        keys.append(key)
        guard keys.count > 2 * kept else { return [] }
        let old = keys.prefix(keys.count - kept)
        keys.removeFirst(old.count)
        return old
    }
}
