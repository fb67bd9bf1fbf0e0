/// One execution as the ledger books it.
public struct LedgerFill: Sendable, Equatable {
    /// TWS's execution id ("" when nothing will ever correct it: a backtest's fills).
    public var execId: String
    public var instrument: String
    /// Signed: positive bought, negative sold.
    public var quantity: Double
    /// The quoted price (before the multiplier), in the instrument's currency.
    public var price: Double
    public var commission: Double
    /// "" for the instrument's own currency.
    public var commissionCurrency: String
    /// The execution this one corrects (IB: the same id up to its last dot, a higher suffix).
    /// A correction replaces it: shares, price and commission; it never books a trade.
    public var corrects: String?

    public init(execId: String = "", instrument: String, quantity: Double, price: Double, commission: Double = 0,
                commissionCurrency: String = "", corrects: String? = nil)
    {
        self.execId = execId
        self.instrument = instrument
        self.quantity = quantity
        self.price = price
        self.commission = commission
        self.commissionCurrency = commissionCurrency
        self.corrects = corrects
    }
}

/// A position in one instrument, IB's way: what was paid for it, commissions included.
public struct Holding: Sendable, Equatable {
    public var terms: InstrumentTerms
    /// Signed: negative when short.
    public var quantity = 0.0
    /// Money paid for the position in the instrument's currency, commissions included; for a
    /// short, negative: the proceeds less commissions.
    public var costBasis = 0.0
    /// Realized in the instrument's currency, commissions of the reducing fills included.
    public var realized = 0.0
    /// Commissions charged, in the instrument's currency.
    public var commissions = 0.0

    public init(terms: InstrumentTerms) { self.terms = terms }

    /// Average cost per unit of price, commissions included (what to compare with a quote).
    public var averagePrice: Double { quantity == 0 ? 0 : costBasis / (quantity * terms.multiplier) }
    /// IB's `avgCost`: per contract (price × multiplier), commissions included, positive for a short.
    public var averageCost: Double { quantity == 0 ? 0 : costBasis / quantity }

    public func marketValue(at mark: Double) -> Double { quantity * mark * terms.multiplier }
    public func unrealized(at mark: Double) -> Double { quantity == 0 ? 0 : marketValue(at: mark) - costBasis }
}

/// Positions, cash and PnL from executions: the one place money is booked. Used by the
/// backtest, each strategy's own positions, the run's summary and the paper gateway's account.
///
/// Rules (IB's, stated in docs/money.md): the average cost includes commissions (a short's
/// proceeds less its commission); a fill that reduces a position realizes
/// (price − average cost) × quantity × multiplier less its own commission; a fill that
/// crosses zero closes, then opens the rest at its price with its share of the commission.
/// Realized PnL is booked in the instrument's currency and in base at the rate of the moment
/// it is realized; unrealized and cash are converted at the current rates.
public struct Ledger: Sendable, Equatable {
    public private(set) var holdings: [Holding] = []
    public private(set) var keys: [String] = []
    private var index: [String: Int] = [:]
    /// Cash per currency (starting cash in base included).
    public private(set) var cash: [String: Double] = [:]
    public var rates: CurrencyRates
    /// Realized PnL in base, each converted when it was realized.
    public private(set) var realizedBase = 0.0
    /// Commissions in base, each converted when it was charged.
    public private(set) var commissionsBase = 0.0
    /// Realized amounts whose currency had no rate when realized (per currency).
    public private(set) var unconvertedRealized: [String: Double] = [:]
    /// Keep every execution (live: corrections and late commissions replace one). Backtests
    /// need none.
    public let keepsHistory: Bool
    private var history: [[Entry]] = []
    /// Where each execution id was booked (a correction's own id and the id it corrects both
    /// point at the one entry).
    private var seen: [String: Place] = [:]

    private struct Place: Sendable, Equatable {
        var slot: Int
        var position: Int
    }

    /// One booked execution, the holding just before it (a correction rebooks from there) and
    /// what it moved (undone exactly when it is rebooked).
    private struct Entry: Sendable, Equatable {
        var fill: LedgerFill
        var before: Holding
        var booking: Booking
    }

    private struct Booking: Sendable, Equatable {
        var cashDelta = 0.0
        var realizedBase = 0.0
        var commissionBase = 0.0
        /// Realized with no rate to base at the time.
        var unconverted = 0.0
        /// The rate of the instrument's currency when first booked (a rebooking converts at it).
        var rate: Double?
        /// The commission as charged: taken from the cash of its own currency (IB debits a
        /// forex commission in USD, whatever the pair).
        var commissionCurrency = ""
        var commissionPaid = 0.0
    }

    public init(base: String = "USD", cash: Double = 0, keepsHistory: Bool = true) {
        rates = CurrencyRates(base: base)
        self.keepsHistory = keepsHistory
        if cash != 0 { self.cash[rates.base] = cash }
    }

    // MARK: Instruments

    /// The instrument's slot (registered with `terms` if new; the terms of a known one stay).
    @discardableResult
    public mutating func register(_ key: String, terms: InstrumentTerms) -> Int {
        if let slot = index[key] { return slot }
        let slot = holdings.count
        index[key] = slot
        keys.append(key)
        holdings.append(Holding(terms: terms))
        history.append([])
        return slot
    }

    public func slot(of key: String) -> Int? { index[key] }

    public func holding(_ key: String) -> Holding? { index[key].map { holdings[$0] } }

    public func quantity(_ key: String) -> Double { index[key].map { holdings[$0].quantity } ?? 0 }

    /// A position held before the ledger's first execution (an account's starting positions),
    /// at IB's average cost per contract.
    public mutating func seed(_ key: String, terms: InstrumentTerms, quantity: Double, averageCost: Double) {
        let slot = register(key, terms: terms)
        guard quantity.isFinite, averageCost.isFinite, holdings[slot].quantity == 0, history[slot].isEmpty else { return }
        holdings[slot].quantity = quantity
        holdings[slot].costBasis = quantity * averageCost
    }

    /// Cash per currency as a state file kept it (a restart: the positions are seeded).
    public mutating func restore(cash: [String: Double]) {
        self.cash = cash.filter { $0.value.isFinite }
    }

    // MARK: Executions

    /// Books `fill` (the instrument must be registered, else it is registered as a stock in
    /// base currency). Returns the PnL it realized, in the instrument's currency. An execution
    /// seen before is booked once; a correction replaces the execution it corrects.
    @discardableResult
    public mutating func apply(_ fill: LedgerFill) -> Double {
        let slot = index[fill.instrument] ?? register(fill.instrument, terms: InstrumentTerms(currency: rates.base))
        return apply(fill, slot: slot)
    }

    @discardableResult
    public mutating func apply(_ fill: LedgerFill, slot: Int) -> Double {
        guard fill.quantity.isFinite, fill.price.isFinite, fill.commission.isFinite, holdings.indices.contains(slot) else { return 0 }
        let tracked = keepsHistory && !fill.execId.isEmpty
        if tracked {
            if seen[fill.execId] != nil { return 0 }  // told twice (a replay after a reconnect)
            if let corrected = fill.corrects, let place = seen[corrected], place.slot == slot {
                seen[fill.execId] = place
                return rebook(slot: slot, at: place.position) { $0 = fill }
            }
        }
        let realizedBefore = holdings[slot].realized
        let before = holdings[slot]
        let booking = book(fill, slot: slot, rate: rates.rate(holdings[slot].terms.currency))
        if tracked {
            seen[fill.execId] = Place(slot: slot, position: history[slot].count)
            history[slot].append(Entry(fill: fill, before: before, booking: booking))
        }
        return holdings[slot].realized - realizedBefore
    }

    /// Whether the execution `execId` is booked (only a ledger that keeps history knows).
    public func hasBooked(_ execId: String) -> Bool { seen[execId] != nil }

    /// The commission report of an execution booked without one (TWS sends it just after):
    /// the execution is rebooked with it. Returns the change in realized PnL.
    @discardableResult
    public mutating func setCommission(execId: String, amount: Double, currency: String) -> Double {
        guard amount.isFinite, let place = seen[execId] else { return 0 }
        return rebook(slot: place.slot, at: place.position) {
            $0.commission = amount
            $0.commissionCurrency = currency
        }
    }

    /// Changes the execution at `position` and books it and every later one of the slot
    /// again, from the holding before it. Returns the change in realized PnL.
    private mutating func rebook(slot: Int, at position: Int, change: (inout LedgerFill) -> Void) -> Double {
        let realizedBefore = holdings[slot].realized
        var entries = history[slot]
        guard entries.indices.contains(position) else { return 0 }
        let currency = holdings[slot].terms.currency
        for entry in entries[position...] {
            cash[currency, default: 0] -= entry.booking.cashDelta
            cash[entry.booking.commissionCurrency, default: 0] += entry.booking.commissionPaid
            realizedBase -= entry.booking.realizedBase
            commissionsBase -= entry.booking.commissionBase
            if entry.booking.unconverted != 0 { unconvertedRealized[currency, default: 0] -= entry.booking.unconverted }
        }
        holdings[slot] = entries[position].before
        change(&entries[position].fill)
        for offset in position..<entries.count {
            entries[offset].before = holdings[slot]
            entries[offset].booking = book(entries[offset].fill, slot: slot, rate: entries[offset].booking.rate)
        }
        if abs(unconvertedRealized[currency] ?? 0) < 1e-9 { unconvertedRealized[currency] = nil }
        history[slot] = entries
        return holdings[slot].realized - realizedBefore
    }

    /// The booking rule itself; `rate` converts the instrument's currency to base (nil: unknown).
    private mutating func book(_ fill: LedgerFill, slot: Int, rate: Double?) -> Booking {
        var holding = holdings[slot]
        let terms = holding.terms
        let multiplier = terms.multiplier
        let commission = commissionInInstrumentCurrency(fill, terms: terms)
        let signed = fill.quantity
        var booking = Booking()
        booking.rate = rate
        booking.cashDelta = -signed * fill.price * multiplier
        cash[terms.currency, default: 0] += booking.cashDelta
        // The commission leaves the cash of the currency it was charged in; in the position's
        // cost and PnL it counts in the instrument's currency.
        booking.commissionCurrency = fill.commissionCurrency.isEmpty ? terms.currency : fill.commissionCurrency.uppercased()
        booking.commissionPaid = fill.commission
        cash[booking.commissionCurrency, default: 0] -= fill.commission
        holding.commissions += commission
        var realized = 0.0
        let current = holding.quantity
        if current == 0 || (current > 0) == (signed > 0) {
            holding.costBasis += signed * fill.price * multiplier + commission
            holding.quantity = current + signed
        } else if signed != 0 {
            let closed = min(abs(signed), abs(current))
            let commissionClosing = commission * closed / abs(signed)
            let basisClosed = holding.costBasis * closed / abs(current)
            let direction: Double = signed > 0 ? 1 : -1
            realized = -direction * closed * fill.price * multiplier - commissionClosing - basisClosed
            holding.costBasis -= basisClosed
            holding.quantity = current + direction * closed
            if abs(holding.quantity) < 1e-9 {
                holding.quantity = 0
                holding.costBasis = 0
            }
            let rest = abs(signed) - closed
            if rest > 1e-9 {
                holding.quantity = direction * rest
                holding.costBasis = direction * rest * fill.price * multiplier + (commission - commissionClosing)
            }
        }
        holding.realized += realized
        holdings[slot] = holding
        if realized != 0 {
            if let rate {
                booking.realizedBase = realized * rate
                realizedBase += booking.realizedBase
            } else {
                booking.unconverted = realized
                unconvertedRealized[terms.currency, default: 0] += realized
            }
        }
        booking.commissionBase = rate.map { commission * $0 } ?? 0
        commissionsBase += booking.commissionBase
        return booking
    }

    /// A commission charged in another currency, in the instrument's: a forex pair's own base
    /// converts at the fill's price (2 USD on USD.JPY at 150 is 300 JPY), others through the rates.
    private func commissionInInstrumentCurrency(_ fill: LedgerFill, terms: InstrumentTerms) -> Double {
        let currency = fill.commissionCurrency.isEmpty ? terms.currency : fill.commissionCurrency.uppercased()
        if currency == terms.currency { return fill.commission }
        if terms.pairBase == currency, fill.price > 0 { return fill.commission * fill.price }
        return rates.convert(fill.commission, from: currency, to: terms.currency) ?? fill.commission
    }

    // MARK: Totals

    /// Cash in base, every currency at its current rate (a currency without one counts nothing
    /// and is listed in `unconverted(marks:)`).
    public var cashBase: Double {
        cash.reduce(0) { $0 + (rates.convert($1.value, from: $1.key) ?? 0) }
    }

    /// Realized in each currency, commissions included.
    public var realizedByCurrency: [String: Double] {
        var out: [String: Double] = [:]
        for holding in holdings where holding.realized != 0 { out[holding.terms.currency, default: 0] += holding.realized }
        return out
    }

    /// Unrealized PnL in base at `mark` (nil: no mark, the position counts at its cost).
    public func unrealizedBase(mark: (String) -> Double?) -> Double {
        var total = 0.0
        for (slot, holding) in holdings.enumerated() where holding.quantity != 0 {
            guard let price = mark(keys[slot]) else { continue }
            total += rates.convert(holding.unrealized(at: price), from: holding.terms.currency) ?? 0
        }
        return total
    }

    /// Market value of every position in base (at its cost without a mark).
    public func marketValueBase(mark: (String) -> Double?) -> Double { marketValueBase(slot: { mark(keys[$0]) }) }

    /// The same with the marks by slot, the order instruments were registered in (nil: none):
    /// a backtest asks it every bar, without a look-up by name.
    public func marketValueBase(marks: [Double?]) -> Double { marketValueBase(slot: { marks.indices.contains($0) ? marks[$0] : nil }) }

    private func marketValueBase(slot mark: (Int) -> Double?) -> Double {
        var total = 0.0
        for (slot, holding) in holdings.enumerated() where holding.quantity != 0 {
            let value = mark(slot).map { holding.marketValue(at: $0) } ?? holding.costBasis
            total += rates.convert(value, from: holding.terms.currency) ?? 0
        }
        return total
    }

    /// Cash plus positions, in base.
    public func equityBase(mark: (String) -> Double?) -> Double { cashBase + marketValueBase(mark: mark) }

    /// The same with the marks by slot.
    public func equityBase(marks: [Double?]) -> Double { cashBase + marketValueBase(marks: marks) }

    /// Currencies held (cash or positions) with no rate to base: their money is left out of
    /// the base figures, which a summary must say.
    public var unconvertedCurrencies: [String] {
        var out = Set<String>()
        for (currency, amount) in cash where amount != 0 && rates.rate(currency) == nil { out.insert(currency) }
        for holding in holdings where holding.quantity != 0 && rates.rate(holding.terms.currency) == nil { out.insert(holding.terms.currency) }
        for currency in unconvertedRealized.keys { out.insert(currency) }
        return out.sorted()
    }
}
