import Foundation
import Money

/// The limits every order from Lua passes before it reaches the socket (design.md
/// invariant 5). Configured in Config/; Lua can neither see nor change them.
///
/// Quantities count what the instrument counts (shares, contracts, units of a forex pair's
/// base currency), so their limits are per instrument type; amounts are in the account's base
/// currency, so one limit means the same on every instrument.
public struct RiskLimits: Sendable, Equatable {
    public var maxOrderQuantity: TypeLimits = ["STK": 1_000, "FUT": 10, "OPT": 100, "FOP": 10, "CASH": 1_000_000]
    /// Base currency per order: quantity × price × multiplier × the currency's rate. 1 ES
    /// (about 272,500 USD) and 25,000 EUR.USD pass; 5,000 AAPL do not.
    public var maxOrderNotional = 1_000_000.0
    /// Largest absolute position per instrument the order may lead to.
    public var maxPosition: TypeLimits = ["STK": 2_000, "FUT": 20, "OPT": 200, "FOP": 20, "CASH": 2_000_000]
    /// Base currency: that position valued at the order's price. Nil: twice
    /// `maxOrderNotional` (raising the order limit raises this one with it).
    public var maxPositionNotional: Double?
    /// The position notional limit in force.
    public var positionNotionalLimit: Double { maxPositionNotional ?? 2 * maxOrderNotional }
    public var maxOpenOrders = 20
    public var maxOrdersPerMinute = 30
    /// Empty: any symbol the gateway knows.
    public var allowedSymbols: Set<String> = []
    /// Realized + unrealized loss since start, in the account's base currency, beyond which
    /// the strategy is halted.
    public var maxDailyLoss = 5_000.0
    /// Refuse every order (watch-only strategies).
    public var readOnly = false
    public init() {}
}

/// A quantity limit per instrument type (IB's sec type): shares of a stock, contracts of a
/// future or an option, units of a forex pair's base currency. A plain number (in the config or
/// in code) sets every type to it; a mapping (`["FUT": 10, "CASH": 1_000_000]`) sets the
/// types it names.
public struct TypeLimits: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByDictionaryLiteral {
    /// The types a limit may name: those a strategy can trade.
    public static let types = ["STK", "FUT", "OPT", "FOP", "CASH"]
    public private(set) var values: [String: Double]

    /// The same limit for every type.
    public init(_ every: Double) { values = Dictionary(uniqueKeysWithValues: Self.types.map { ($0, every) }) }
    public init(integerLiteral value: Int) { self.init(Double(value)) }
    public init(floatLiteral value: Double) { self.init(value) }
    /// Types not named get the smallest named limit (none is looser than one stated).
    public init(dictionaryLiteral elements: (String, Double)...) {
        let named = Dictionary(elements.map { ($0.0.uppercased(), $0.1) }, uniquingKeysWith: { _, last in last })
        let smallest = named.values.min() ?? 0
        values = Dictionary(uniqueKeysWithValues: Self.types.map { ($0, named[$0] ?? smallest) })
    }

    /// The limit for `secType`. A type no limit names (none a strategy can send today) gets the
    /// smallest: never the loosest by accident.
    public subscript(secType: String) -> Double {
        get { values[Self.key(secType)] ?? values.values.min() ?? 0 }
        set { values[Self.key(secType)] = newValue }
    }

    /// The type whose limit applies to `secType` ("" is a stock, as in a TWS contract).
    public static func key(_ secType: String) -> String { secType.isEmpty ? "STK" : secType.uppercased() }
}

/// A strategy's exposure in one symbol: its position, and its open orders' remaining
/// quantities on each side (counted as if they all filled: the worst case).
public struct Exposure: Sendable, Equatable {
    public var position: Double
    public var openBuys = 0.0
    public var openSells = 0.0
    public init(position: Double, openBuys: Double = 0, openSells: Double = 0) {
        self.position = position
        self.openBuys = openBuys
        self.openSells = openSells
    }
}

/// An order a strategy wants, as the gate sees it.
public struct OrderIntent: Sendable, Equatable {
    public var symbol: String
    public var buy: Bool
    public var quantity: Double
    /// The price per unit, as quoted (limit, stop, or the last quote), that the notional is
    /// computed at with the multiplier and currency of `terms`.
    public var referencePrice: Double?
    /// What the quantity counts and what money one unit at that price moves.
    public var terms: InstrumentTerms

    public init(symbol: String, buy: Bool, quantity: Double, referencePrice: Double?, terms: InstrumentTerms = InstrumentTerms()) {
        self.symbol = symbol
        self.buy = buy
        self.quantity = quantity
        self.referencePrice = referencePrice
        self.terms = terms
    }
}

public struct RiskRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let message: String
    public var description: String { message }
}

/// Decides; keeps the count of recent orders and the halt.
public struct RiskGate: Sendable {
    public let limits: RiskLimits
    private var recentOrders: [Double] = []
    public private(set) var halted: String?

    public init(limits: RiskLimits) { self.limits = limits }

    /// Checks an order against the limits, given the strategy's exposure in the symbol (its
    /// position and open orders), how many of its orders are open, and the account's exchange
    /// rates (amounts are compared in their base currency; an order in a currency without a
    /// rate is refused, never counted 1:1). Records it (for the per-minute count) when
    /// accepted and `counting`.
    public mutating func check(_ intent: OrderIntent, exposure: Exposure, openOrders: Int, now: Double,
                               rates: CurrencyRates = CurrencyRates(), counting: Bool = true) -> RiskRefusal?
    {
        if let refusal = unpriced(intent, exposure: exposure) { return refusal }
        if let refusal = valued(intent, exposure: exposure, rates: rates) { return refusal }
        return counted(openOrders: openOrders, now: now, counting: counting)
    }

    /// Every check that does not need a price or a rate (an order waiting for a snapshot
    /// passes these first, and `check` in full when its price comes). Records nothing.
    public func preflight(_ intent: OrderIntent, exposure: Exposure, openOrders: Int, now: Double) -> RiskRefusal? {
        if let refusal = unpriced(intent, exposure: exposure) { return refusal }
        var copy = self
        return copy.counted(openOrders: openOrders, now: now, counting: false)
    }

    /// The halt, read-only, the symbol, and the quantities (per order and per position, in the
    /// instrument's own unit).
    private func unpriced(_ intent: OrderIntent, exposure: Exposure) -> RiskRefusal? {
        if let halted { return RiskRefusal(code: "halted", message: "risk: trading is halted (\(halted)); no new orders") }
        if limits.readOnly { return RiskRefusal(code: "read_only", message: "risk: read-only mode: orders are refused") }
        if !limits.allowedSymbols.isEmpty && !limits.allowedSymbols.contains(intent.symbol) {
            return RiskRefusal(code: "symbol_not_allowed",
                               message: "risk: \(intent.symbol) is not in risk.allowed_symbols (\(limits.allowedSymbols.sorted().joined(separator: ", ")))")
        }
        guard intent.quantity > 0 else { return RiskRefusal(code: "quantity", message: "risk: the quantity must be positive") }
        let type = TypeLimits.key(intent.terms.secType)
        let unit = intent.terms.quantityUnit
        let maxQuantity = limits.maxOrderQuantity[type]
        if intent.quantity > maxQuantity {
            return RiskRefusal(code: "max_order_quantity",
                               message: "risk: \(format(intent.quantity)) \(unit) exceeds risk.max_order_quantity.\(type) \(format(maxQuantity))")
        }
        let after = Self.worstPosition(intent, exposure)
        let maxPosition = limits.maxPosition[type]
        if abs(after) > maxPosition && abs(after) > abs(exposure.position) {
            let open = intent.buy ? exposure.openBuys : exposure.openSells
            return RiskRefusal(code: "max_position",
                               message: "risk: the position in \(intent.symbol) could reach \(format(after)) \(unit) (\(format(exposure.position)) held"
                                   + (open > 0 ? ", \(format(open)) in open orders" : "") + "), beyond risk.max_position.\(type) \(format(maxPosition))")
        }
        return nil
    }

    /// The order and the position it may lead to, valued in the base currency.
    private func valued(_ intent: OrderIntent, exposure: Exposure, rates: CurrencyRates) -> RiskRefusal? {
        guard let price = intent.referencePrice, price > 0, price.isFinite else {
            return RiskRefusal(code: "no_price",
                               message: "risk: no price to value an order for \(intent.symbol): give it a limit, or subscribe to its quotes and wait for one")
        }
        let currency = intent.terms.currency
        guard let rate = rates.rate(currency) else {
            return RiskRefusal(code: "no_rate",
                               message: "risk: no exchange rate for \(currency) yet (the account's base currency is \(rates.base)): the order for "
                                   + "\(intent.symbol) cannot be valued; TWS reports rates with the account values (ExchangeRate) soon after connecting")
        }
        let base = rates.base
        let unitValue = price * intent.terms.multiplier * rate
        let notional = intent.quantity * unitValue
        if !(notional <= limits.maxOrderNotional) {  // NaN or infinity (huge products) is refused too
            return RiskRefusal(code: "max_order_notional",
                               message: "risk: notional \(Self.amount(notional, base))" + Self.converted(intent.quantity * price * intent.terms.multiplier, currency, base)
                                   + " exceeds risk.max_order_notional \(Self.amount(limits.maxOrderNotional, base))")
        }
        let after = Self.worstPosition(intent, exposure)
        let positionValue = abs(after) * unitValue
        let positionLimit = limits.positionNotionalLimit
        if !(positionValue <= positionLimit) && abs(after) > abs(exposure.position) {
            return RiskRefusal(code: "max_position_notional",
                               message: "risk: the position in \(intent.symbol) could reach \(format(after)) \(intent.terms.quantityUnit), "
                                   + "\(Self.amount(positionValue, base)) at \(format(price)), beyond risk.max_position_notional \(Self.amount(positionLimit, base))"
                                   + (limits.maxPositionNotional == nil ? " (twice risk.max_order_notional)" : ""))
        }
        return nil
    }

    /// Open orders and the per-minute count.
    private mutating func counted(openOrders: Int, now: Double, counting: Bool) -> RiskRefusal? {
        if openOrders >= limits.maxOpenOrders {
            return RiskRefusal(code: "max_open_orders", message: "risk: \(openOrders) orders are open, risk.max_open_orders is \(limits.maxOpenOrders)")
        }
        recentOrders.removeAll { now - $0 >= 60 }
        if recentOrders.count >= limits.maxOrdersPerMinute {
            return RiskRefusal(code: "max_orders_per_minute",
                               message: "risk: \(recentOrders.count) orders in the last minute, risk.max_orders_per_minute is \(limits.maxOrdersPerMinute)")
        }
        if counting { recentOrders.append(now) }
        return nil
    }

    /// The position if the order and every open order on its side filled.
    private static func worstPosition(_ intent: OrderIntent, _ exposure: Exposure) -> Double {
        let before = exposure.position + (intent.buy ? exposure.openBuys : -exposure.openSells)
        return before + (intent.buy ? intent.quantity : -intent.quantity)
    }

    /// Halts when the day's loss passes the limit. `pnl` and the limit are in the account's
    /// base currency, named `currency` in the reason when given. Returns true when this call
    /// halted it. `currency` is asked for only then (a mark comes with every quote or bar).
    public mutating func checkLoss(_ pnl: Double, currency: @autoclosure () -> String? = nil) -> Bool {
        guard halted == nil, pnl < -limits.maxDailyLoss else { return false }
        let unit = currency().map { " " + $0 } ?? ""
        halted = "daily loss \(format(-pnl))\(unit) beyond risk.max_daily_loss \(format(limits.maxDailyLoss))\(unit)"
        return true
    }

    public mutating func halt(_ reason: String) {
        if halted == nil { halted = reason }
    }

    private func format(_ value: Double) -> String { AccountGate.format(value) }

    /// An amount for a refusal: grouped, cents only when there are any (`272,500 USD`,
    /// `21,712.50 USD`). Never traps, whatever the value.
    static func amount(_ value: Double, _ currency: String) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value) \(currency)" }
        var text = String(format: "%.2f", value)
        if text.hasSuffix(".00") { text.removeLast(3) }
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        let whole = text.prefix { $0 != "." }
        var grouped = ""
        for (index, digit) in whole.enumerated() {
            if index > 0 && (whole.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (negative ? "-" : "") + grouped + text.dropFirst(whole.count) + " " + currency
    }

    /// ` (2,000,000 JPY)`: the amount in the order's own currency, when it is not the base.
    private static func converted(_ value: Double, _ currency: String, _ base: String) -> String {
        currency == base ? "" : " (\(amount(value, currency)))"
    }
}
