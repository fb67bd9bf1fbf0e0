/// Memory and matching work flat in the number of orders: finished orders (filled,
/// cancelled, inactive) beyond the latest `keptFinishedOrders` leave memory (the state file
/// keeps what it kept). Every tick walks `orderSequence`, so a run that places and cancels
/// orders all day must not make each tick slower. TWS itself lists only the day's completed
/// orders; an id no longer held is refused as a duplicate if used again, as TWS does.
extension GatewayEngine {
    static let keptFinishedOrders = 1_000

    /// Called as an order is added: when the sequence has grown past the mark, the oldest
    /// finished orders beyond the bound are dropped, and the next mark is set at twice what
    /// is left (amortized: working orders are never dropped, however many there are).
    func compactFinishedOrders() {
        guard orderSequence.count > compactOrdersAt else { return }
        let finished = orderSequence.filter { orders[$0]?.isDone ?? true }
        let dropped = Set(finished.prefix(max(finished.count - Self.keptFinishedOrders, 0)))
        if !dropped.isEmpty {
            orderSequence.removeAll { dropped.contains($0) }
            for key in dropped { orders[key] = nil }
        }
        compactOrdersAt = max(Self.keptFinishedOrders * 2, orderSequence.count * 2)
    }
}

extension GatewayEngine {
    /// For the order soak (moonwire-bench): orders held in memory now, and the permId the
    /// next order will get (it grows by one per order received, rejected ones included).
    public var ordersInMemory: Int { orders.count }
    public var nextPermanentId: Int64 { nextPermId }
}
