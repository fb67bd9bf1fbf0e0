/// What money one unit of an instrument moves: the facts every money rule needs, and no more.
/// Built from a TWS contract (live, paper), from the instrument details stored with bars
/// (backtest), or from the paper gateway's universe.
public struct InstrumentTerms: Sendable, Hashable {
    /// IB's security type: STK, FUT, OPT, CASH (forex), ...
    public var secType: String
    /// The currency prices are quoted in (a forex pair's quote currency: JPY for USD.JPY).
    public var currency: String
    /// Contract size: 50 for ES, 100 for an equity option, 1 otherwise. Positive and finite.
    public var multiplier: Double
    /// A forex pair's base currency (USD for USD.JPY, EUR for EUR.USD); nil for anything else.
    public var pairBase: String?

    public init(secType: String = "STK", currency: String = "USD", multiplier: Double = 1, pairBase: String? = nil) {
        self.secType = secType.isEmpty ? "STK" : Self.upper(secType)
        self.currency = currency.isEmpty ? "USD" : Self.upper(currency)
        self.multiplier = multiplier.isFinite && multiplier > 0 ? multiplier : 1
        self.pairBase = pairBase.map(Self.upper)
    }

    /// `text.uppercased()`, without making a new string when it is upper case ASCII already
    /// (terms are made for every order and fill, and their names nearly always are).
    static func upper(_ text: String) -> String {
        text.utf8.allSatisfy({ $0 < 0x80 && !($0 >= 97 && $0 <= 122) }) ? text : text.uppercased()
    }

    /// The unit a quantity of this instrument counts: what a risk refusal names.
    public var quantityUnit: String {
        switch secType {
        case "STK", "ETF": return "shares"
        case "FUT", "OPT", "FOP": return "contracts"
        case "CASH": return pairBase ?? "units"
        default: return "units"
        }
    }
}
