import MarketHistory
import Money

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
    /// The average price of the fills that closed it, by quantity (as `entryPrice` is of the
    /// fills that opened it).
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
    /// "" for the instrument's currency (forex is charged in USD).
    public var commissionCurrency = ""
}

/// The equity after a bar time: cash plus every position at its last close.
public struct EquityPoint: Sendable, Equatable {
    public var time: Int64
    public var equity: Double
    /// Whether anything was held.
    public var invested: Bool
}

/// A backtest's money: the one `Money.Ledger` (positions, cost, realized PnL, commissions,
/// currencies), plus what a report wants on top: the round trips, the fills and the equity
/// after each bar time. Instruments are numbered (their order in the backtest): the per-bar
/// work (marks, equity) touches arrays, never a dictionary.
struct BacktestLedger {
    let initialCash: Double
    let keys: [String]
    let index: [String: Int]
    private(set) var money: Ledger
    private(set) var marks: [Double?]
    private(set) var fills: [BacktestFill] = []
    private(set) var trades: [BacktestTrade] = []
    private(set) var equity: [EquityPoint] = []
    /// Round trips under way, per instrument (index into `trades`).
    private var openTrade: [Int?]
    /// What closed an open trade so far, by trade: quantity and quantity times price (its
    /// exit price is their average when it ends).
    private var closedParts: [Int: (quantity: Double, value: Double)] = [:]

    private mutating func recordClose(_ trade: Int, quantity: Double, at price: Double) {
        closedParts[trade, default: (0, 0)].quantity += quantity
        closedParts[trade, default: (0, 0)].value += quantity * price
    }
    /// Instruments held now (so the equity of a bar costs nothing when flat).
    private var held = 0

    /// `samples`: how many equity samples the run may take at most (one a bar time): reserved
    /// at once, so the curve of a million bars is not copied as it grows (twice its size at the peak).
    init(initialCash: Double, keys: [String], terms: [InstrumentTerms], base: String = "USD", samples: Int = 1_024) {
        self.initialCash = initialCash
        self.keys = keys
        index = Dictionary(keys.enumerated().map { ($1, $0) }) { first, _ in first }
        money = Ledger(base: base, cash: initialCash, keepsHistory: false)
        for (key, terms) in zip(keys, terms) { money.register(key, terms: terms) }
        marks = Array(repeating: nil, count: keys.count)
        openTrade = Array(repeating: nil, count: keys.count)
        equity.reserveCapacity(max(samples, 1))
    }

    var cash: Double { money.cashBase }
    /// Commissions in base.
    var commissions: Double { money.commissionsBase }
    var rates: CurrencyRates { money.rates }

    func quantity(_ i: Int) -> Double { money.holdings[i].quantity }

    func position(_ key: String) -> Double { money.quantity(key) }

    func mark(of key: String) -> Double? { index[key].flatMap { marks[$0] } }

    mutating func mark(_ instrument: Int, _ close: Double) { marks[instrument] = close }

    mutating func setRate(_ currency: String, toBase rate: Double) {
        guard money.rates.rate(currency) != rate else { return }  // set every bar: mostly unchanged
        money.rates.set(currency, toBase: rate)
        cashInBase = nil
    }

    /// `cash`, kept from one fill or rate change to the next: a flat account's equity is it,
    /// sampled every bar.
    private var cashInBase: Double?

    var positions: [String: Double] {
        var out: [String: Double] = [:]
        for (i, holding) in money.holdings.enumerated() where holding.quantity != 0 { out[keys[i]] = holding.quantity }
        return out
    }

    /// Cash and positions in base: what the account is worth after a bar.
    var value: Double {
        guard held > 0 else { return cash }
        // The ledger's slots are the instruments' places (registered in order): marks by place.
        return money.equityBase(marks: marks)
    }

    mutating func sample(at time: Int64) {
        let value: Double
        if held > 0 {
            value = self.value
        } else if let cash = cashInBase {
            value = cash
        } else {
            value = self.cash
            cashInBase = value
        }
        equity.append(EquityPoint(time: time, equity: value, invested: held > 0))
    }

    /// Books a fill in the ledger, and in the round trip it opens, grows, shrinks or ends.
    /// Returns what the account is worth after it, and its cash: read here, in place (a read of
    /// the services' ledger from outside copied all of it, its arrays retained and released, at
    /// every fill).
    @discardableResult
    mutating func record(_ fill: BacktestFill, instrument i: Int) -> (value: Double, cash: Double) {
        cashInBase = nil
        fills.append(fill)
        let signed = fill.buy ? fill.quantity : -fill.quantity
        let before = money.holdings[i].quantity
        let realizedBefore = money.realizedBase, commissionsBefore = money.commissionsBase
        money.apply(LedgerFill(instrument: keys[i], quantity: signed, price: fill.price, commission: fill.commission,
                               commissionCurrency: fill.commissionCurrency), slot: i)
        let after = money.holdings[i].quantity
        let realized = money.realizedBase - realizedBefore
        let commission = money.commissionsBase - commissionsBefore
        held += (before == 0 ? 0 : -1) + (after == 0 ? 0 : 1)
        var remaining = signed
        // The part that closes (or reduces) the current position shrinks or ends its trade.
        if before != 0 && (before > 0) != (signed > 0) {
            let closing = min(abs(signed), abs(before))
            remaining = signed + (signed > 0 ? -closing : closing)
            if let t = openTrade[i] {
                trades[t].pnl += realized
                trades[t].commission += commission * closing / abs(signed)
                recordClose(t, quantity: closing, at: fill.price)
                if after == 0 || (after > 0) != (before > 0) {
                    trades[t].exitTime = fill.time
                    trades[t].exitPrice = closedParts[t].map { $0.value / $0.quantity } ?? fill.price
                    closedParts[t] = nil
                    openTrade[i] = nil
                }
            }
        }
        // What opens (or adds to) a position starts or grows its trade; its commission is in
        // the position's cost, so in the trade's PnL when it closes (or is marked).
        if abs(remaining) > 1e-9 {
            let share = commission * abs(remaining) / abs(signed)
            if let t = openTrade[i] {
                let total = trades[t].quantity + abs(remaining)
                trades[t].entryPrice = (trades[t].entryPrice * trades[t].quantity + fill.price * abs(remaining)) / total
                trades[t].quantity = total
                trades[t].commission += share
            } else {
                openTrade[i] = trades.count
                trades.append(BacktestTrade(instrument: fill.instrument, direction: remaining > 0 ? 1 : -1, quantity: abs(remaining),
                                            entryTime: fill.time, entryPrice: fill.price, exitTime: nil, exitPrice: nil,
                                            commission: share, pnl: 0))
            }
        }
        return (value, cash)
    }

    /// The trades with the open ones marked at the last close (not closed: the summary says so).
    var tradesMarked: [BacktestTrade] {
        var marked = trades
        for (i, t) in openTrade.enumerated() {
            guard let t, money.holdings[i].quantity != 0 else { continue }
            let holding = money.holdings[i]
            let unrealized = holding.unrealized(at: marks[i] ?? holding.averagePrice)
            marked[t].pnl += money.rates.convert(unrealized, from: holding.terms.currency) ?? 0
        }
        return marked
    }
}
