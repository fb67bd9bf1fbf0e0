import Foundation
import Money

/// Limits for the account as a whole, across every strategy of the run (`account_risk:` in the
/// config), on top of each strategy's own (`risk:`).
public struct AccountLimits: Sendable, Equatable {
    /// Largest absolute position per symbol all strategies together may lead to, counting
    /// every open order as if it filled; per instrument type (shares, contracts, units).
    public var maxPosition: TypeLimits = ["STK": 10_000, "FUT": 100, "OPT": 1_000, "FOP": 100, "CASH": 10_000_000]
    public var maxOpenOrders = 100
    public var maxOrdersPerMinute = 120
    public init() {}
}

/// The account's exposure as the runner sees it (positions from TWS's reports and fills,
/// the open orders of every strategy) and the account-wide checks. Kept under the runner's
/// lock: the check and the id an order gets are one step. A backtest keeps one of its own.
public struct AccountGate: Sendable {
    public let limits: AccountLimits
    public var positions: [String: Double] = [:]
    /// Open orders of the strategies: id → (symbol, buy, remaining).
    public var open: [Int: (symbol: String, buy: Bool, remaining: Double)] = [:]
    private var recent: [Double] = []

    public init(limits: AccountLimits) { self.limits = limits }

    /// `terms`: the instrument's (its type picks the limit, its unit names it); nil reads the
    /// type from the instrument's key (`EUR.USD` forex, `ES 202612` a future), for callers
    /// that have no contract at hand.
    public mutating func check(symbol: String, buy: Bool, quantity: Double, now: Double, terms: InstrumentTerms? = nil) -> RiskRefusal? {
        if open.count >= limits.maxOpenOrders {
            return RiskRefusal(code: "account_max_open_orders",
                               message: "risk: \(open.count) orders of the account are open, account_risk.max_open_orders is \(limits.maxOpenOrders)")
        }
        let position = positions[symbol] ?? 0
        let sameSide = open.values.filter { $0.symbol == symbol && $0.buy == buy }.reduce(0) { $0 + $1.remaining }
        let after = position + (buy ? sameSide + quantity : -(sameSide + quantity))
        let terms = terms ?? (try? InstrumentSpec.parse(symbol))?.contract.terms ?? InstrumentTerms()
        let type = TypeLimits.key(terms.secType)
        let limit = limits.maxPosition[type]
        if abs(after) > limit && abs(after) > abs(position) {
            return RiskRefusal(code: "account_max_position",
                               message: "risk: the account's position in \(symbol) could reach \(Self.format(after)) \(terms.quantityUnit) with every "
                                   + "strategy's open orders, beyond account_risk.max_position.\(type) \(Self.format(limit))")
        }
        recent.removeAll { now - $0 >= 60 }
        if recent.count >= limits.maxOrdersPerMinute {
            return RiskRefusal(code: "account_max_orders_per_minute",
                               message: "risk: \(recent.count) orders of the account in the last minute, account_risk.max_orders_per_minute is \(limits.maxOrdersPerMinute)")
        }
        recent.append(now)
        return nil
    }

    /// A quantity or amount for a refusal message. Values come from strategies and TWS: only
    /// whole ones that fit an integer are printed as one (String(Int(1e20)) would trap).
    static func format(_ value: Double) -> String {
        if let whole = Int64(exactly: value) { return String(whole) }
        return abs(value) < 1e15 ? String(format: "%.2f", value) : "\(value)"
    }
}
