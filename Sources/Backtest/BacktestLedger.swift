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
/// Instruments are numbered (their order in the backtest): the per-bar work (marks, equity)
/// touches arrays, never a dictionary.
struct BacktestLedger {
    let initialCash: Double
    let keys: [String]
    let index: [String: Int]
    private(set) var cash: Double
    private(set) var quantities: [Double]
    private(set) var averageCosts: [Double]
    private(set) var marks: [Double?]
    let multipliers: [Double]
    private(set) var fills: [BacktestFill] = []
    private(set) var trades: [BacktestTrade] = []
    private(set) var equity: [EquityPoint] = []
    private(set) var commissions = 0.0
    /// Round trips under way, per instrument (index into `trades`).
    private var openTrade: [Int?]
    /// Instruments held now (so the equity of a bar costs nothing when flat).
    private var held = 0

    init(initialCash: Double, keys: [String], multipliers: [Double]) {
        self.initialCash = initialCash
        self.keys = keys
        index = Dictionary(keys.enumerated().map { ($1, $0) }) { first, _ in first }
        cash = initialCash
        self.multipliers = multipliers
        quantities = Array(repeating: 0, count: keys.count)
        averageCosts = Array(repeating: 0, count: keys.count)
        marks = Array(repeating: nil, count: keys.count)
        openTrade = Array(repeating: nil, count: keys.count)
        equity.reserveCapacity(1_024)
    }

    func position(_ key: String) -> Double { index[key].map { quantities[$0] } ?? 0 }

    func mark(of key: String) -> Double? { index[key].flatMap { marks[$0] } }

    mutating func mark(_ instrument: Int, _ close: Double) { marks[instrument] = close }

    var positions: [String: Double] {
        var out: [String: Double] = [:]
        for (i, quantity) in quantities.enumerated() where quantity != 0 { out[keys[i]] = quantity }
        return out
    }

    var value: Double {
        guard held > 0 else { return cash }
        var total = cash
        for i in quantities.indices where quantities[i] != 0 {
            total += quantities[i] * (marks[i] ?? averageCosts[i]) * multipliers[i]
        }
        return total
    }

    mutating func sample(at time: Int64) {
        equity.append(EquityPoint(time: time, equity: value, invested: held > 0))
    }

    mutating func record(_ fill: BacktestFill, instrument i: Int) {
        fills.append(fill)
        let multiplier = multipliers[i]
        let signed = fill.buy ? fill.quantity : -fill.quantity
        cash -= signed * fill.price * multiplier + fill.commission
        commissions += fill.commission
        let current = (quantity: quantities[i], averageCost: averageCosts[i])
        let next = current.quantity + signed
        var remaining = signed
        // The part that closes (or reduces) the current position ends or shrinks its trade.
        if current.quantity != 0 && (current.quantity > 0) != (signed > 0) {
            let closing = min(abs(signed), abs(current.quantity))
            remaining = signed + (signed > 0 ? -closing : closing)
            if let t = openTrade[i] {
                let share = closing / abs(signed)
                trades[t].pnl += (fill.price - current.averageCost) * closing * (current.quantity > 0 ? 1 : -1) * multiplier
                trades[t].commission += fill.commission * share
                trades[t].pnl -= fill.commission * share
                if abs(next) < 1e-9 || (next > 0) != (current.quantity > 0) {
                    trades[t].exitTime = fill.time
                    trades[t].exitPrice = fill.price
                    openTrade[i] = nil
                }
            }
        }
        if abs(next) < 1e-9 {
            (quantities[i], averageCosts[i]) = (0, 0)
        } else if current.quantity == 0 || (current.quantity > 0) == (signed > 0) {
            (quantities[i], averageCosts[i]) = (next, (current.averageCost * abs(current.quantity) + fill.price * abs(signed)) / abs(next))
        } else if (next > 0) != (current.quantity > 0) {
            (quantities[i], averageCosts[i]) = (next, fill.price)
        } else {
            quantities[i] = next
        }
        held += (current.quantity == 0 ? 0 : -1) + (quantities[i] == 0 ? 0 : 1)
        // What opens (or adds to) a position starts or grows its trade.
        if abs(remaining) > 1e-9 {
            let share = abs(remaining) / abs(signed)
            if let t = openTrade[i] {
                let total = trades[t].quantity + abs(remaining)
                trades[t].entryPrice = (trades[t].entryPrice * trades[t].quantity + fill.price * abs(remaining)) / total
                trades[t].quantity = total
                trades[t].commission += fill.commission * share
                trades[t].pnl -= fill.commission * share
            } else {
                openTrade[i] = trades.count
                trades.append(BacktestTrade(instrument: fill.instrument, direction: remaining > 0 ? 1 : -1, quantity: abs(remaining),
                                            entryTime: fill.time, entryPrice: fill.price, exitTime: nil, exitPrice: nil,
                                            commission: fill.commission * share, pnl: -fill.commission * share))
            }
        }
    }

    /// The trades with the open ones marked at the last close (not closed: the summary says so).
    var tradesMarked: [BacktestTrade] {
        var marked = trades
        for (i, t) in openTrade.enumerated() {
            guard let t, quantities[i] != 0 else { continue }
            let mark = marks[i] ?? averageCosts[i]
            marked[t].pnl += (mark - averageCosts[i]) * quantities[i] * multipliers[i]
        }
        return marked
    }
}
