import TradingState

/// Positions kept from fills: what one strategy holds by its own orders, apart from what the
/// account holds in total (other strategies, other clients, manual trades).
public typealias PositionBook = [String: (quantity: Double, averageCost: Double)]

extension Dictionary where Key == String, Value == (quantity: Double, averageCost: Double) {
    /// Moves the position of the fill's symbol by the fill (a correction by the difference to
    /// the execution it corrects). Returns the PnL it realizes: the part that closes the
    /// position, at its average cost, less the fill's commission.
    @discardableResult
    mutating func apply(_ execution: ExecutionRecord) -> Double {
        let current = self[execution.symbol] ?? (0, 0)
        let signed = execution.signedShares - (execution.corrects?.signedShares ?? 0)
        var realized = -(execution.commission?.commission ?? 0)
        if current.quantity != 0 && (current.quantity > 0) != (signed > 0) {
            let closed = Swift.min(abs(signed), abs(current.quantity))
            realized += (execution.price - current.averageCost) * closed * (current.quantity > 0 ? 1 : -1) * execution.multiplier
        }
        var next = current
        next.quantity = current.quantity + signed
        if abs(next.quantity) < 1e-9 {
            next = (0, 0)
        } else if current.quantity == 0 || (current.quantity > 0) == (signed > 0) {
            next.averageCost = (current.averageCost * abs(current.quantity) + execution.price * abs(signed)) / abs(next.quantity)
        } else if (next.quantity > 0) != (current.quantity > 0) {
            next.averageCost = execution.price
        }
        self[execution.symbol] = next
        return realized
    }

    /// The positions a strategy's own journaled fills add up to (attribution survives restarts:
    /// every order is journaled with the strategy that placed it).
    public static func own(of strategy: String, in snapshot: TradingState.Snapshot) -> PositionBook {
        let orders = snapshot.orders.filter { $0.strategy == strategy }
        let keys = Set(orders.map(\.clientKey))
        let ids = Set(orders.map(\.orderId))
        var book: PositionBook = [:]
        for execution in snapshot.executions where execution.clientKey.map(keys.contains) ?? ids.contains(execution.orderId) {
            book.apply(execution)
        }
        return book.filter { $0.value.quantity != 0 }
    }
}
