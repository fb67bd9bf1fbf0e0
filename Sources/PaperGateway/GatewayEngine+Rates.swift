import Money

extension GatewayEngine {
    /// The paper account's base currency.
    static let baseCurrency = "USD"

    /// What one unit of each currency the gateway knows is worth in the base, from the mids of
    /// the forex pairs of its universe (EUR from EUR.USD, JPY as 1 / USD.JPY; a cross such as
    /// EUR.GBP once one of its currencies has a rate). A currency no pair leads to has none.
    func exchangeRates() -> CurrencyRates {
        var rates = CurrencyRates(base: Self.baseCurrency)
        let pairs = market.instruments.filter { $0.secType == "CASH" }.compactMap { instrument -> (String, String, Double)? in
            guard let mid = market.quote(symbol: instrument.symbol)?.mid, mid.isFinite, mid > 0 else { return nil }
            return (instrument.ibSymbol, instrument.currency, mid)
        }
        // Pairs against the base first; each further pass reaches the crosses one step away.
        for _ in 0..<3 {
            for (pairBase, quote, price) in pairs where rates.rate(pairBase) == nil || rates.rate(quote) == nil {
                rates.learn(pairBase: pairBase, quote: quote, price: price)
            }
        }
        return rates
    }

    /// The `ExchangeRate` account values TWS sends: 1 for BASE, then every known currency.
    func exchangeRateValues() -> [(String, String, String)] {
        let rates = exchangeRates()
        return [("ExchangeRate", "1.00", "BASE")] + rates.known.compactMap { currency in
            rates.rate(currency).map { ("ExchangeRate", currency == rates.base ? "1.00" : "\($0)", currency) }
        }
    }
}
