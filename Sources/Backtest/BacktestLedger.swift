import MarketHistory

/// One round trip: from flat to flat (or to the other side) in one instrument.
public struct BacktestTrade: Sendable, Equatable {
    public var instrument: String
    /// +1 long, -1 short.
    public var direction: Int
    public var quantity: Double
    public var entryTime: Int64
    public var entryPrice: Double
    /// Nil while the trade is open at the end of the backtest.
    public var exitTime: Int64?
    public var exitPrice: Double?
    public var commission: Double
    /// Net of commissions; for an open trade, marked at the last close.
    public var pnl: Double
}

/// One fill of the backtest, as it went into the ledger.
public struct BacktestFill: Sendable, Equatable {
    public var orderId: Int
    public var instrument: String
    public var time: Int64
    public var buy: Bool
    public var quantity: Double
    public var price: Double
    public var commission: Double
}

/// The equity after a bar time: cash plus every position at its last close.
public struct EquityPoint: Sendable, Equatable {
    public var time: Int64
    public var equity: Double
    /// Whether anything was held.
    public var invested: Bool
}

/// Cash, positions and round trips of a backtest, from its fills; equity from the closes.
struct BacktestLedger {
    let initialCash: Double
    private(set) var cash: Double
    private(set) var positions: [String: (quantity: Double, averageCost: Double)] = [:]
    private(set) var marks: [String: Double] = [:]
    private(set) var multipliers: [String: Double] = [:]
    private(set) var fills: [BacktestFill] = []
    private(set) var trades: [BacktestTrade] = []
    private(set) var equity: [EquityPoint] = []
    private(set) var commissions = 0.0
    /// Round trips under way, per instrument (index into `trades`).
    private var openTrade: [String: Int] = [:]

    init(initialCash: Double, multipliers: [String: Double]) {
        self.initialCash = initialCash
        cash = initialCash
        self.multipliers = multipliers
    }

    func position(_ key: String) -> Double { positions[key]?.quantity ?? 0 }

    mutating func mark(_ key: String, _ close: Double) { marks[key] = close }

    var value: Double {
        var total = cash
        for (key, position) in positions where position.quantity != 0 {
            total += position.quantity * (marks[key] ?? position.averageCost) * (multipliers[key] ?? 1)
        }
        return total
    }

    mutating func sample(at time: Int64) {
        let invested = positions.values.contains { $0.quantity != 0 }
        equity.append(EquityPoint(time: time, equity: value, invested: invested))
    }

    mutating func record(_ fill: BacktestFill) {
        fills.append(fill)
        let multiplier = multipliers[fill.instrument] ?? 1
        let signed = fill.buy ? fill.quantity : -fill.quantity
        cash -= signed * fill.price * multiplier + fill.commission
        commissions += fill.commission
        let current = positions[fill.instrument] ?? (0, 0)
        let next = current.quantity + signed
        var remaining = signed
        // The part that closes (or reduces) the current position ends or shrinks its trade.
        if current.quantity != 0 && (current.quantity > 0) != (signed > 0) {
            let closing = min(abs(signed), abs(current.quantity))
            remaining = signed + (signed > 0 ? -closing : closing)
            if let index = openTrade[fill.instrument] {
                let share = closing / abs(signed)
                trades[index].pnl += (fill.price - current.averageCost) * closing * (current.quantity > 0 ? 1 : -1) * multiplier
                trades[index].commission += fill.commission * share
                trades[index].pnl -= fill.commission * share
                if abs(next) < 1e-9 || (next > 0) != (current.quantity > 0) {
                    trades[index].exitTime = fill.time
                    trades[index].exitPrice = fill.price
                    openTrade[fill.instrument] = nil
                }
            }
        }
        if abs(next) < 1e-9 {
            positions[fill.instrument] = (0, 0)
        } else if current.quantity == 0 || (current.quantity > 0) == (signed > 0) {
            positions[fill.instrument] = (next, (current.averageCost * abs(current.quantity) + fill.price * abs(signed)) / abs(next))
        } else if (next > 0) != (current.quantity > 0) {
            positions[fill.instrument] = (next, fill.price)
        } else {
            positions[fill.instrument] = (next, current.averageCost)
        }
        // What opens (or adds to) a position starts or grows its trade.
        if abs(remaining) > 1e-9 {
            let share = abs(remaining) / abs(signed)
            if let index = openTrade[fill.instrument] {
                let total = trades[index].quantity + abs(remaining)
                trades[index].entryPrice = (trades[index].entryPrice * trades[index].quantity + fill.price * abs(remaining)) / total
                trades[index].quantity = total
                trades[index].commission += fill.commission * share
                trades[index].pnl -= fill.commission * share
            } else {
                openTrade[fill.instrument] = trades.count
                trades.append(BacktestTrade(instrument: fill.instrument, direction: remaining > 0 ? 1 : -1, quantity: abs(remaining),
                                            entryTime: fill.time, entryPrice: fill.price, exitTime: nil, exitPrice: nil,
                                            commission: fill.commission * share, pnl: -fill.commission * share))
            }
        }
    }

    /// The trades with the open ones marked at the last close (not closed: the summary says so).
    var tradesMarked: [BacktestTrade] {
        var marked = trades
        for (key, index) in openTrade {
            guard let position = positions[key], position.quantity != 0 else { continue }
            let mark = marks[key] ?? position.averageCost
            marked[index].pnl += (mark - position.averageCost) * position.quantity * (multipliers[key] ?? 1)
        }
        return marked
    }
}
