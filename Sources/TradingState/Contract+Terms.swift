import Money
import TWSProtocol

extension Contract {
    /// The money facts of this contract (type, currency, multiplier; a forex pair's base
    /// currency is its `symbol`: EUR for EUR.USD), for the risk limits and the ledger.
    public var terms: InstrumentTerms {
        let type = secType.isEmpty ? "STK" : Self.upper(secType)
        return InstrumentTerms(secType: type, currency: currency, multiplier: size, pairBase: type == "CASH" ? symbol : nil)
    }
}
