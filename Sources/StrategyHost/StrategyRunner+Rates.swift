import Money
import TradingState

extension StrategyRunner {
    /// The account's base currency and exchange rates, as TWS reports them to the trading state.
    public func rates() -> CurrencyRates { state.rates }
}
