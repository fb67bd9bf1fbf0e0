import Money

/// The paper account: a `Money.Ledger` (the one place money is booked) and the contract ids
/// TWS reports positions with. Figures are in the base currency (USD) at the gateway's rates;
/// average costs as IB reports them (per contract, commissions included).
public struct PaperAccount: Sendable, Equatable {
    public struct Holding: Sendable, Equatable {
        public var symbol: String
        public var conId: Int
        /// Shares; negative when short.
        public var quantity: Double
        /// IB's avgCost: per unit of the position (price × multiplier), commissions included.
        public var averageCost: Double
    }

    public var id: String
    public private(set) var ledger: Ledger
    private var conIds: [String: Int] = [:]
    /// Realized before this gateway started (restored from its state file).
    public private(set) var realizedBefore = 0.0

    public init(id: String, cash: Double) {
        self.id = id
        ledger = Ledger(base: "USD", cash: cash)
    }

    /// Cash in base, every currency at the current rates.
    public var cash: Double { ledger.cashBase }
    public var cashByCurrency: [String: Double] { ledger.cash }
    public var realizedPnL: Double { realizedBefore + ledger.realizedBase }
    /// Realized since the gateway started (the "daily" figure of reqPnL).
    public var realizedToday: Double { ledger.realizedBase }

    /// The positions by symbol (flat ones included once traded: TWS reports them with 0).
    public var holdings: [String: Holding] {
        var out: [String: Holding] = [:]
        for (slot, key) in ledger.keys.enumerated() {
            let holding = ledger.holdings[slot]
            out[key] = Holding(symbol: key, conId: conIds[key] ?? 0, quantity: holding.quantity, averageCost: holding.averageCost)
        }
        return out
    }

    /// The rates the base figures use (the gateway's forex mids).
    public mutating func use(rates: CurrencyRates) { ledger.rates = rates }

    /// Books one execution; returns the PnL it realized in the instrument's currency, nil when
    /// it only opened or added (IB then leaves realizedPNL unset in the commission report).
    @discardableResult
    public mutating func apply(symbol: String, conId: Int, terms: InstrumentTerms, execId: String, buy: Bool, quantity: Double,
                               price: Double, commission: Commission) -> Double?
    {
        conIds[symbol] = conId
        ledger.register(symbol, terms: terms)
        let before = ledger.quantity(symbol)
        let realized = ledger.apply(LedgerFill(execId: execId, instrument: symbol, quantity: buy ? quantity : -quantity, price: price,
                                               commission: commission.amount, commissionCurrency: commission.currency))
        return before != 0 && (before > 0) != buy ? realized : nil
    }

    /// A position that appears without a trade (restored from the state file, or the `position`
    /// fault: an unexplained position), at IB's average cost.
    public mutating func place(symbol: String, conId: Int, terms: InstrumentTerms, quantity: Double, averageCost: Double) {
        conIds[symbol] = conId
        var rebuilt = Ledger(base: ledger.rates.base, keepsHistory: true)
        rebuilt.rates = ledger.rates
        // Keep every other position as it is; this one is set outright.
        for (slot, key) in ledger.keys.enumerated() where key != symbol {
            let holding = ledger.holdings[slot]
            rebuilt.seed(key, terms: holding.terms, quantity: holding.quantity, averageCost: holding.averageCost)
        }
        rebuilt.seed(symbol, terms: terms, quantity: quantity, averageCost: averageCost)
        rebuilt.restore(cash: ledger.cash)
        realizedBefore += ledger.realizedBase
        ledger = rebuilt
    }

    /// The state file's account: cash per currency and the realized PnL so far.
    public mutating func restore(cash: [String: Double], realized: Double) {
        ledger.restore(cash: cash)
        realizedBefore = realized - ledger.realizedBase
    }

    public func marketValue(markPrice: (String) -> Double?) -> Double { ledger.marketValueBase(mark: markPrice) }

    public func grossPositionValue(markPrice: (String) -> Double?) -> Double {
        var total = 0.0
        for (slot, key) in ledger.keys.enumerated() {
            let holding = ledger.holdings[slot]
            guard holding.quantity != 0 else { continue }
            let value = markPrice(key).map { holding.marketValue(at: $0) } ?? holding.costBasis
            total += abs(ledger.rates.convert(value, from: holding.terms.currency) ?? 0)
        }
        return total
    }

    public func unrealizedPnL(markPrice: (String) -> Double?) -> Double { ledger.unrealizedBase(mark: markPrice) }

    /// One position's unrealized PnL in base.
    public func unrealizedPnL(of symbol: String, markPrice: Double) -> Double {
        guard let holding = ledger.holding(symbol) else { return 0 }
        return ledger.rates.convert(holding.unrealized(at: markPrice), from: holding.terms.currency) ?? 0
    }

    public func netLiquidation(markPrice: (String) -> Double?) -> Double { ledger.equityBase(mark: markPrice) }
}
