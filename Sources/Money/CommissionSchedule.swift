/// A commission and the currency it is charged in.
public struct Commission: Sendable, Equatable {
    public var amount: Double
    public var currency: String
    public init(amount: Double, currency: String) {
        self.amount = amount
        self.currency = currency
    }
}

/// What an order has traded and paid before this fill: IB's minimums and maximums are per
/// order, so a partial fill pays what brings the order's total to the rule's total.
public struct OrderSoFar: Sendable, Equatable {
    public var quantity: Double
    /// Traded value in the instrument's currency (price × quantity × multiplier).
    public var value: Double
    /// Commission already charged, in the commission's currency.
    public var paid: Double
    public init(quantity: Double = 0, value: Double = 0, paid: Double = 0) {
        self.quantity = quantity
        self.value = value
        self.paid = paid
    }
}

/// The one commission schedule, per security type, shared by backtests and the paper gateway.
/// IB's published US rates (exchange, regulatory and clearing fees left out):
///
/// | type | fixed | tiered (first tier) |
/// |---|---|---|
/// | stocks, ETFs (STK) | 0.005 a share, min 1.00, max 1 % of the value | 0.0035 a share, min 0.35, max 1 % of the value |
/// | futures (FUT, FOP) | 0.85 a contract | 0.85 a contract |
/// | options (OPT) | 0.65 a contract (0.50 under 0.10 premium, 0.25 under 0.05), min 1.00 | 0.65 a contract, min 1.00 |
/// | forex (CASH) | 0.2 basis points of the value, min 2.00 USD | the same |
///
/// The value counts the multiplier (the 1 % cap of 1 contract of 100 is on 100 units). Forex
/// is charged in USD, everything else in the instrument's currency. Amounts are rounded to cents.
public enum CommissionSchedule: Sendable, Equatable {
    case none
    case ibFixed
    case ibTiered
    /// A flat amount per unit (share, contract, forex unit), no minimum or maximum.
    case perUnit(Double)

    /// The commission of a fill of `quantity` at `price` (quoted, before the multiplier),
    /// given what the order traded and paid before. `rates` values a forex trade in USD when
    /// neither side of the pair is USD.
    public func charge(_ terms: InstrumentTerms, quantity: Double, price: Double, before: OrderSoFar = OrderSoFar(),
                       rates: CurrencyRates? = nil) -> Commission
    {
        var currency = Self.currency(of: terms)
        // IB's amounts are US dollars: an instrument quoted in another currency is charged in
        // USD on its value in USD, when a rate knows it (a JPY stock's minimum is 1.00 USD, not
        // 1 JPY); without a rate, in its own currency.
        var toCharged = 1.0
        if self == .ibFixed || self == .ibTiered, terms.secType != "CASH", terms.currency != "USD",
           let usd = rates?.convert(1, from: terms.currency, to: "USD")
        {
            currency = "USD"
            toCharged = usd
        }
        let totalQuantity = before.quantity + quantity
        let totalValue = (before.value + quantity * price * terms.multiplier) * toCharged
        let price = price * toCharged
        let total: Double
        switch self {
        case .none:
            return Commission(amount: 0, currency: currency)
        case let .perUnit(rate):
            total = rate * totalQuantity
        case .ibFixed, .ibTiered:
            let tiered = self == .ibTiered
            switch terms.secType {
            case "FUT", "FOP":
                total = 0.85 * totalQuantity
            case "OPT":
                let perContract = tiered || price >= 0.10 ? 0.65 : price >= 0.05 ? 0.50 : 0.25
                total = max(perContract * totalQuantity, 1.0)
            case "CASH":
                let usdValue = Self.usdValue(of: terms, quantity: totalQuantity, value: totalValue, price: price, rates: rates)
                total = max(0.00002 * (usdValue ?? 0), 2.0)
            default:
                total = tiered ? min(max(0.0035 * totalQuantity, 0.35), 0.01 * totalValue)
                    : min(max(0.005 * totalQuantity, 1.0), 0.01 * totalValue)
            }
        }
        let amount = max(0, ((total - before.paid) * 100).rounded() / 100)
        return Commission(amount: amount.isFinite ? amount : 0, currency: currency)
    }

    /// The currency a commission on `terms` is charged in: USD for forex, else the instrument's.
    public static func currency(of terms: InstrumentTerms) -> String { terms.secType == "CASH" ? "USD" : terms.currency }

    /// A forex trade's value in USD: the quantity when USD is the pair's base, the value when
    /// USD is its quote, else through the rates (nil without one: the minimum applies).
    private static func usdValue(of terms: InstrumentTerms, quantity: Double, value: Double, price: Double, rates: CurrencyRates?) -> Double? {
        if terms.pairBase == "USD" { return quantity }
        if terms.currency == "USD" { return value }
        guard let rates, let quoteInBase = rates.rate(terms.currency), let usdInBase = rates.rate("USD") else { return nil }
        return value * quoteInBase / usdInBase
    }

    /// Parses the names the command line uses: `none`, `ib-fixed`, `ib-tiered` or
    /// `per-unit:AMOUNT` (a finite amount from 0 to 1,000). Nil for anything else.
    public init?(parsing text: String) {
        switch text {
        case "none": self = .none
        case "ib-fixed": self = .ibFixed
        case "ib-tiered": self = .ibTiered
        default:
            guard text.hasPrefix("per-unit:"), let rate = Double(text.dropFirst("per-unit:".count)), rate.isFinite,
                  (0...1_000).contains(rate)
            else { return nil }
            self = .perUnit(rate)
        }
    }

    /// How the summary names it.
    public var summary: String {
        switch self {
        case .none: return "none"
        case .ibFixed: return "IB fixed (stocks 0.005/share min 1.00 max 1 %; futures 0.85; options 0.65 min 1.00; forex 0.2 bp min 2.00 USD)"
        case .ibTiered: return "IB tiered (stocks 0.0035/share min 0.35 max 1 %; futures 0.85; options 0.65 min 1.00; forex 0.2 bp min 2.00 USD)"
        case let .perUnit(rate): return "\(rate) per unit"
        }
    }
}
