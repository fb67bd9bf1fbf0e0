/// The paper account: cash, positions with average cost, realized PnL.
///
/// Average cost includes commissions, as IB reports it. A fill that reduces a position
/// realizes (price − average cost) × quantity less its own commission.
public struct PaperAccount: Sendable, Equatable {
    public struct Holding: Sendable, Equatable {
        public var symbol: String
        public var conId: Int
        /// Shares; negative when short.
        public var quantity: Double
        public var averageCost: Double
    }

    public var id: String
    public var cash: Double
    public var realizedPnL = 0.0
    /// Realized since the gateway started (the "daily" figure of reqPnL).
    public var realizedToday = 0.0
    public var holdings: [String: Holding] = [:]

    public init(id: String, cash: Double) {
        self.id = id
        self.cash = cash
    }

    /// Applies one execution; returns the PnL it realized (nil if it only opened or added).
    @discardableResult
    public mutating func apply(symbol: String, conId: Int, buy: Bool, quantity: Double, price: Double, commission: Double) -> Double? {
        let signed = buy ? quantity : -quantity
        cash -= signed * price + commission
        var holding = holdings[symbol] ?? Holding(symbol: symbol, conId: conId, quantity: 0, averageCost: 0)
        var realized: Double? = nil
        if holding.quantity == 0 || (holding.quantity > 0) == buy {
            // Opening or adding: the commission goes into the average cost.
            let cost = holding.averageCost * abs(holding.quantity) + quantity * price + commission
            holding.quantity += signed
            holding.averageCost = cost / abs(holding.quantity)
        } else {
            let closing = min(quantity, abs(holding.quantity))
            let direction = holding.quantity > 0 ? 1.0 : -1.0
            let pnl = (price - holding.averageCost) * closing * direction - commission * (closing / quantity)
            holding.quantity += signed
            if abs(holding.quantity) < 1e-9 {
                holding.quantity = 0
                holding.averageCost = 0
            } else if (holding.quantity > 0) != (direction > 0) {
                // Reversed through zero: the rest opens a new position at this price.
                holding.averageCost = price + commission / quantity
            }
            realized = pnl
            realizedPnL += pnl
            realizedToday += pnl
        }
        if holding.quantity == 0 {
            holdings[symbol] = Holding(symbol: symbol, conId: conId, quantity: 0, averageCost: 0)
        } else {
            holdings[symbol] = holding
        }
        return realized
    }

    public func marketValue(mark: (String) -> Double) -> Double {
        holdings.values.reduce(0) { $0 + $1.quantity * mark($1.symbol) }
    }

    public func grossPositionValue(mark: (String) -> Double) -> Double {
        holdings.values.reduce(0) { $0 + abs($1.quantity * mark($1.symbol)) }
    }

    public func unrealizedPnL(mark: (String) -> Double) -> Double {
        holdings.values.reduce(0) { $0 + ($1.quantity == 0 ? 0 : (mark($1.symbol) - $1.averageCost) * $1.quantity) }
    }

    public func netLiquidation(mark: (String) -> Double) -> Double { cash + marketValue(mark: mark) }
}

/// IB's fixed-rate commissions for US stocks: USD 0.005 a share, at least 1.00 an order,
/// at most 1 % of the trade value.
public enum CommissionModel {
    /// The commission for a fill, given what the order has already paid and traded. `price`
    /// is the value of one unit (price × multiplier). Stocks: 0.005 a share, 1.00 minimum, 1 %
    /// maximum; futures 0.85 a contract; options 0.65 a contract, 1.00 minimum; forex 0.2
    /// basis points of the value, 2.00 minimum (IB's fixed rates).
    public static func commission(secType: String = "STK", shares: Double, price: Double, previousShares: Double, previousValue: Double,
                                  paid: Double) -> Double
    {
        let totalShares = previousShares + shares
        let totalValue = previousValue + shares * price
        let total: Double
        switch secType {
        case "FUT": total = 0.85 * totalShares
        case "OPT": total = max(0.65 * totalShares, 1.0)
        case "CASH": total = max(0.00002 * totalValue, 2.0)
        default: total = min(max(0.005 * totalShares, 1.0), 0.01 * totalValue)
        }
        return max(0, ((total - paid) * 100).rounded() / 100)
    }
}
