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
    /// queued for eviction; the oldest beyond the bound leave memory, in batches (amortized).
    func rememberFinished(_ record: OrderRecord) {
        guard record.status.isTerminal, record.filled == 0 else { return }
        finishedUnfilled.append(record.clientKey)
        guard finishedUnfilled.count > 2 * Self.keptUnfilledOrders else { return }
        let evicted = finishedUnfilled.prefix(finishedUnfilled.count - Self.keptUnfilledOrders)
        for key in evicted {
            // Still finished and unfilled (a stale queue entry is skipped): it leaves memory.
            guard let order = orders[key], order.status.isTerminal, order.filled == 0 else { continue }
            orders[key] = nil
            if keyByOrderId[order.orderId] == key { keyByOrderId[order.orderId] = nil }
        }
        finishedUnfilled.removeFirst(evicted.count)
    }
}
