import Money

/// The account's base currency and exchange rates, as TWS reports them: the account values
/// `ExchangeRate` (one unit of a currency in base); the base from the currency TWS gives
/// `NetLiquidation` in (account values, account summary, `$LEDGER`: always the base), or a
/// `Currency` row of currency BASE naming it. A forex pair's price may teach a rate too.
struct RateBook: Sendable {
    private(set) var rates = CurrencyRates()
    /// What TWS reported per currency, and the pairs' prices: kept to rebuild the rates when
    /// the base currency becomes known after them (rows come in no promised order).
    private var reported: [String: Double] = [:]
    private var pairs: [String: (pairBase: String, quote: String, price: Double)] = [:]
    private var base: String?

    /// Takes one account value (or summary tag); returns true when the rates changed.
    mutating func note(key: String, value: String, currency: String) -> Bool {
        let before = rates
        switch key {
        case "ExchangeRate":
            // Outside numbers: only a positive finite rate of a currency code counts.
            guard let code = Self.code(currency), let rate = Double(value), rate.isFinite, rate > 0 else { return false }
            reported[code] = rate
            rates.set(code, toBase: rate)
        case "Currency":
            // `Currency` rows name each currency the account holds (USD in USD, EUR in EUR):
            // only one given as the value of the BASE row names the base.
            guard currency == "BASE", let code = Self.code(value) else { return false }
            setBase(code)
        case "NetLiquidation":
            // In the account values and the summary (`$LEDGER` too) it is in the base; per
            // currency it is NetLiquidationByCurrency.
            guard let code = Self.code(currency) else { return false }
            setBase(code)
        default:
            return false
        }
        return rates != before
    }

    /// A forex pair's price: one `pairBase` is `price` of `quote`.
    mutating func learn(pairBase: String, quote: String, price: Double) {
        guard let pairBase = Self.code(pairBase), let quote = Self.code(quote), price.isFinite, price > 0 else { return }
        pairs[pairBase + "." + quote] = (pairBase, quote, price)
        rates.learn(pairBase: pairBase, quote: quote, price: price)
    }

    private mutating func setBase(_ code: String) {
        guard code != base else { return }
        base = code
        var rebuilt = CurrencyRates(base: code)
        for (currency, rate) in reported.sorted(by: { $0.key < $1.key }) { rebuilt.set(currency, toBase: rate) }
        for pair in pairs.values.sorted(by: { ($0.pairBase, $0.quote) < ($1.pairBase, $1.quote) }) {
            rebuilt.learn(pairBase: pair.pairBase, quote: pair.quote, price: pair.price)
        }
        rates = rebuilt
    }

    /// A currency code as TWS writes one (three ASCII letters), upper case; nil for anything
    /// else (`BASE`, empty, a bad field).
    static func code(_ text: String) -> String? {
        let upper = text.uppercased()
        guard upper.utf8.count == 3, upper.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { return nil }
        return upper
    }
}

extension TradingState {
    /// The account's base currency and exchange rates as TWS last reported them (any thread).
    /// Until TWS has named the base, USD; a currency TWS gave no rate for has none (callers
    /// refuse to value it rather than count it 1:1).
    public var rates: CurrencyRates { rateBook.withLockedValue { $0.rates } }

    /// Learns a rate from a forex pair's price, where the host sees one (any thread).
    public func learnRate(pairBase: String, quote: String, price: Double) {
        rateBook.withLockedValue { $0.learn(pairBase: pairBase, quote: quote, price: price) }
    }

    /// An account value or summary tag: the rates and the base currency it may carry.
    func noteRate(key: String, value: String, currency: String) {
        _ = rateBook.withLockedValue { $0.note(key: key, value: value, currency: currency) }
    }
}
