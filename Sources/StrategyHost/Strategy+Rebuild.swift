import TradingState

/// After a restart a strategy gets back the orders it placed in earlier runs. The journal
/// holds each order with the strategy that placed it, under the key it carried to TWS in its
/// orderRef (`mw:<strategy>:...`); the reconciliation binds TWS's reports to those records by
/// that orderRef. From them the strategy's own view is rebuilt before on_start, so
/// `orders.open()`, `orders.get(id)`, `orders.modify` and `orders.cancel` know the ids it got
/// before, and their on_order / on_fill events reach it as they would have.
extension StrategyRunner {
    /// The strategy's own orders the trading state knows (journaled, reconciled with TWS).
    public func startingOrders(strategy: String) async -> [OrderRecord] {
        Strategy.ownOrders(of: strategy, in: await state.snapshot())
    }
}

extension Strategy {
    /// Every order of `name` still open (or whose fate is unknown: the exposure counts it),
    /// and the latest finished ones that `orders.get` answers for, oldest first.
    static func ownOrders(of name: String, in snapshot: TradingState.Snapshot) -> [OrderRecord] {
        let own = snapshot.orders.filter { $0.strategy == name }
        let finished = own.filter(\.status.isTerminal).suffix(keptFinishedOrders)
        return Array(finished) + own.filter { !$0.status.isTerminal }
    }

    /// Sets the orders and positions the strategy starts with, then delivers on_start.
    public func start(positions: PositionBook, orders: [OrderRecord]) {
        loop.execute {
            // An event relayed since the snapshot was taken is as new or newer: it stays.
            for record in orders where self.orders[record.orderId] == nil { self.remember(order: record) }
        }
        start(positions: positions)
    }
}
