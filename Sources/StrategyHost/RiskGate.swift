import Foundation

/// The limits every order from Lua passes before it reaches the socket (design.md
/// invariant 5). Configured in Config/; Lua can neither see nor change them.
public struct RiskLimits: Sendable, Equatable {
    public var maxOrderQuantity = 1_000.0
    public var maxOrderNotional = 100_000.0
    /// Largest absolute position per symbol the order may lead to.
    public var maxPosition = 2_000.0
    public var maxOpenOrders = 20
    public var maxOrdersPerMinute = 30
    /// Empty: any symbol the gateway knows.
    public var allowedSymbols: Set<String> = []
    /// Realized + unrealized loss since start beyond which the strategy is halted.
    public var maxDailyLoss = 5_000.0
    /// Refuse every order (watch-only strategies).
    public var readOnly = false
    public init() {}
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
    /// The price the notional is computed at (limit, stop, or the last quote).
    public var referencePrice: Double?
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
    /// position and open orders) and how many of its orders are open. Records it (for the
    /// per-minute count) when accepted and `counting`.
    public mutating func check(_ intent: OrderIntent, exposure: Exposure, openOrders: Int, now: Double, counting: Bool = true) -> RiskRefusal? {
        if let halted { return RiskRefusal(code: "halted", message: "risk: trading is halted (\(halted)); no new orders") }
        if limits.readOnly { return RiskRefusal(code: "read_only", message: "risk: read-only mode: orders are refused") }
        if !limits.allowedSymbols.isEmpty && !limits.allowedSymbols.contains(intent.symbol) {
            return RiskRefusal(code: "symbol_not_allowed",
                               message: "risk: \(intent.symbol) is not in risk.allowed_symbols (\(limits.allowedSymbols.sorted().joined(separator: ", ")))")
        }
        guard intent.quantity > 0 else { return RiskRefusal(code: "quantity", message: "risk: the quantity must be positive") }
        if intent.quantity > limits.maxOrderQuantity {
            return RiskRefusal(code: "max_order_quantity",
                               message: "risk: \(format(intent.quantity)) shares exceeds risk.max_order_quantity \(format(limits.maxOrderQuantity))")
        }
        guard let price = intent.referencePrice, price > 0, price.isFinite else {
            return RiskRefusal(code: "no_price",
                               message: "risk: no price to value an order for \(intent.symbol): give it a limit, or subscribe to its quotes and wait for one")
        }
        if intent.quantity * price > limits.maxOrderNotional {
            return RiskRefusal(code: "max_order_notional",
                               message: "risk: notional \(format(intent.quantity * price)) exceeds risk.max_order_notional \(format(limits.maxOrderNotional))")
        }
        // Worst case: every open order on the same side fills too.
        let before = exposure.position + (intent.buy ? exposure.openBuys : -exposure.openSells)
        let after = before + (intent.buy ? intent.quantity : -intent.quantity)
        if abs(after) > limits.maxPosition && abs(after) > abs(exposure.position) {
            let open = intent.buy ? exposure.openBuys : exposure.openSells
            return RiskRefusal(code: "max_position",
                               message: "risk: the position in \(intent.symbol) could reach \(format(after)) (\(format(exposure.position)) held"
                                   + (open > 0 ? ", \(format(open)) in open orders" : "") + "), beyond risk.max_position \(format(limits.maxPosition))")
        }
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

    /// Every check that does not need a price (an order waiting for a snapshot passes these
    /// first, and `check` in full when its price comes). Records nothing.
    public func preflight(_ intent: OrderIntent, exposure: Exposure, openOrders: Int, now: Double) -> RiskRefusal? {
        var copy = self
        var priced = intent
        priced.referencePrice = 0.000_000_001  // any positive price: notional is checked later
        return copy.check(priced, exposure: exposure, openOrders: openOrders, now: now, counting: false)
    }

    /// Halts when the day's loss passes the limit. Returns true when this call halted it.
    public mutating func checkLoss(_ pnl: Double) -> Bool {
        guard halted == nil, pnl < -limits.maxDailyLoss else { return false }
        halted = "daily loss \(format(-pnl)) beyond risk.max_daily_loss \(format(limits.maxDailyLoss))"
        return true
    }

    public mutating func halt(_ reason: String) {
        if halted == nil { halted = reason }
    }

    private func format(_ value: Double) -> String { AccountGate.format(value) }
}
