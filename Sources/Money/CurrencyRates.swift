/// How many units of the base currency one unit of each other currency is worth.
///
/// Fed from TWS (the `ExchangeRate` account values, a forex pair's price) live and on the
/// paper gateway, from stored bars of the pair in a backtest. A currency without a rate has
/// no value in base: callers say so rather than count it 1:1.
public struct CurrencyRates: Sendable, Equatable {
    public let base: String
    private var toBase: [String: Double] = [:]

    public init(base: String = "USD") {
        self.base = base.isEmpty ? "USD" : base.uppercased()
    }

    /// Sets the value of one unit of `currency` in base. A rate that is not a positive finite
    /// number is ignored (a bad field from TWS never makes money worth nothing or infinity).
    public mutating func set(_ currency: String, toBase rate: Double) {
        let currency = currency.uppercased()
        guard currency != base, rate.isFinite, rate > 0 else { return }
        toBase[currency] = rate
    }

    /// Learns a rate from a forex pair's price: one `pairBase` is `price` of `quote`.
    public mutating func learn(pairBase: String, quote: String, price: Double) {
        guard price.isFinite, price > 0 else { return }
        let pairBase = pairBase.uppercased(), quote = quote.uppercased()
        if quote == base {
            set(pairBase, toBase: price)
        } else if pairBase == base {
            set(quote, toBase: 1 / price)
        } else if let quoteRate = rate(quote) {
            set(pairBase, toBase: price * quoteRate)
        } else if let baseRate = rate(pairBase) {
            // A cross whose base is known gives its quote (EUR.JPY with EUR known gives JPY).
            set(quote, toBase: baseRate / price)
        }
    }

    /// One unit of `currency` in base; 1 for the base itself; nil when unknown.
    public func rate(_ currency: String) -> Double? {
        // Currencies are kept in capitals: the look-up as given comes first (the equity is
        // counted on every bar), a capitalized one only when that misses.
        if currency.isEmpty || currency == base { return 1 }
        if let rate = toBase[currency] { return rate }
        let capitals = currency.uppercased()
        return capitals == base ? 1 : toBase[capitals]
    }

    /// `amount` of `currency` in base, or nil when the rate is unknown.
    public func convert(_ amount: Double, from currency: String) -> Double? {
        rate(currency).map { amount * $0 }
    }

    /// `amount` of `from` in `to`, through base; nil when either rate is unknown.
    public func convert(_ amount: Double, from: String, to: String) -> Double? {
        guard let fromRate = rate(from), let toRate = rate(to) else { return nil }
        return amount * fromRate / toRate
    }

    /// The currencies with a known rate, base first.
    public var known: [String] { [base] + toBase.keys.sorted() }
}
