extension TradingState {
    /// The key an account value is kept (and told to strategies) under. TWS sends many values
    /// once per currency held and once more as the total in base (currency `BASE`): the total
    /// takes the plain key (`CashBalance`), a row in another currency its own
    /// (`CashBalance.JPY`, `ExchangeRate.EUR`), so a per-currency figure never overwrites the
    /// total the strategies and the risk limits read. A row in the base currency takes the plain
    /// key only while no BASE row holds it (the paper gateway, and values TWS sends once).
    func accountValueKey(account: String, key: String, currency: String) -> String {
        if currency.isEmpty || currency == "BASE" { return key }
        if currency == rates.base && accountValues[account]?[key]?.1 != "BASE" { return key }
        return key + "." + currency
    }
}
