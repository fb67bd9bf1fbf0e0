import MarketHistory

/// How simulated orders fill on bars. The default never looks ahead: an order placed while
/// a bar is handled (its close already known) fills on a later bar.
///
/// * Market: at the next bar's open (`sameBarClose`: at the close of the bar it was placed on).
/// * Limit: on a later bar that trades through it: at the limit, or at the open when the bar
///   opens beyond it (a gap in the order's favour fills at the better price).
/// * Stop: on a later bar that reaches it: at the stop, or at the open when the bar gaps
///   through it (the worse price, as a real stop would get). Stop-limit: triggered so, then a
///   limit order from that bar on.
/// * Slippage: `slippageTicks` ticks against the order on market and stop fills.
public struct FillRules: Sendable, Equatable {
    public enum Timing: String, Sendable { case nextBarOpen = "next-open", sameBarClose = "same-close" }
    public var timing = Timing.nextBarOpen
    public var slippageTicks = 0
    public var tickSize = 0.01
    public var commission = CommissionModel.ibFixed
    public init() {}
}

/// What a fill costs in commission.
public enum CommissionModel: Sendable, Equatable {
    case none
    /// IB's fixed rate for US stocks: 0.005 a share, at least 1.00, at most 1 % of the value.
    case ibFixed
    /// IB's tiered rate (the first tier): 0.0035 a share, at least 0.35, at most 1 % of the value.
    case ibTiered
    case perShare(Double)

    public func commission(quantity: Double, price: Double) -> Double {
        let value = quantity * price
        let raw: Double
        switch self {
        case .none: return 0
        case .ibFixed: raw = min(max(0.005 * quantity, 1.0), 0.01 * value)
        case .ibTiered: raw = min(max(0.0035 * quantity, 0.35), 0.01 * value)
        case let .perShare(rate): raw = rate * quantity
        }
        return (raw * 100).rounded() / 100
    }
}

public struct SimulatedOrder: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case market
        case limit(Double)
        case stop(Double)
        case stopLimit(stop: Double, limit: Double)
    }
    public var id: Int
    public var buy: Bool
    public var quantity: Double
    public var kind: Kind
    public init(id: Int, buy: Bool, quantity: Double, kind: Kind) {
        self.id = id
        self.buy = buy
        self.quantity = quantity
        self.kind = kind
    }
}

public struct SimulatedFill: Sendable, Equatable {
    public var orderId: Int
    public var time: Int64
    public var buy: Bool
    public var quantity: Double
    public var price: Double
    public var commission: Double
}

/// The orders of one instrument, filled bar by bar under `FillRules`. Deterministic: the same
/// bars and orders give the same fills.
public struct SimulatedBroker: Sendable {
    public let rules: FillRules
    private var working: [(order: SimulatedOrder, triggered: Bool)] = []
    /// The bar being handled (orders placed now see its close, never fill on it by default).
    private var current: StoredBar?

    public init(rules: FillRules = FillRules()) { self.rules = rules }

    public var openOrders: [SimulatedOrder] { working.map(\.order) }

    /// Places an order while `current` is being handled. With `sameBarClose` a market order
    /// fills at once at that bar's close.
    public mutating func place(_ order: SimulatedOrder) -> SimulatedFill? {
        if rules.timing == .sameBarClose, order.kind == .market, let bar = current {
            return fill(order, at: slipped(bar.close, buy: order.buy), time: bar.time)
        }
        working.append((order, false))
        return nil
    }

    public mutating func cancel(_ id: Int) -> Bool {
        guard let index = working.firstIndex(where: { $0.order.id == id }) else { return false }
        working.remove(at: index)
        return true
    }

    /// New terms for a working order (orders.modify): it keeps its place; a stop-limit that
    /// was triggered stays triggered.
    @discardableResult
    public mutating func replace(_ order: SimulatedOrder) -> Bool {
        guard let index = working.firstIndex(where: { $0.order.id == order.id }) else { return false }
        working[index].order = order
        return true
    }

    /// A new bar: the working orders meet it (in the order they were placed), then it becomes
    /// the bar being handled. Returns the fills it made.
    public mutating func open(_ bar: StoredBar) -> [SimulatedFill] {
        var fills: [SimulatedFill] = []
        var still: [(order: SimulatedOrder, triggered: Bool)] = []
        for var entry in working {
            if let price = price(for: &entry, on: bar) {
                fills.append(fill(entry.order, at: price, time: bar.time))
            } else {
                still.append(entry)
            }
        }
        working = still
        current = bar
        return fills
    }

    private func price(for entry: inout (order: SimulatedOrder, triggered: Bool), on bar: StoredBar) -> Double? {
        let buy = entry.order.buy
        switch entry.order.kind {
        case .market:
            return slipped(bar.open, buy: buy)
        case let .limit(limit):
            return limitPrice(limit, buy: buy, on: bar)
        case let .stop(stop):
            guard reaches(stop, buy: buy, on: bar) else { return nil }
            return slipped(buy ? max(bar.open, stop) : min(bar.open, stop), buy: buy)
        case let .stopLimit(stop, limit):
            if !entry.triggered {
                guard reaches(stop, buy: buy, on: bar) else { return nil }
                entry.triggered = true
                // Triggered in this bar: the limit can fill in it only from the stop on.
                let from = buy ? max(bar.open, stop) : min(bar.open, stop)
                let marketable = buy ? from <= limit : from >= limit
                return marketable ? from : nil
            }
            return limitPrice(limit, buy: buy, on: bar)
        }
    }

    private func limitPrice(_ limit: Double, buy: Bool, on bar: StoredBar) -> Double? {
        if buy {
            guard bar.low <= limit else { return nil }
            return min(bar.open, limit)
        }
        guard bar.high >= limit else { return nil }
        return max(bar.open, limit)
    }

    private func reaches(_ stop: Double, buy: Bool, on bar: StoredBar) -> Bool { buy ? bar.high >= stop : bar.low <= stop }

    private func slipped(_ price: Double, buy: Bool) -> Double {
        let slip = Double(rules.slippageTicks) * rules.tickSize
        let slipped = buy ? price + slip : price - slip
        // On the tick grid, divided rather than multiplied (100.6, not 100.60000000000001)
        // when the tick divides one.
        let perUnit = (1 / rules.tickSize).rounded()
        if abs(perUnit * rules.tickSize - 1) < 1e-12 { return (slipped * perUnit).rounded() / perUnit }
        return (slipped / rules.tickSize).rounded() * rules.tickSize
    }

    private func fill(_ order: SimulatedOrder, at price: Double, time: Int64) -> SimulatedFill {
        SimulatedFill(orderId: order.id, time: time, buy: order.buy, quantity: order.quantity, price: price,
                      commission: rules.commission.commission(quantity: order.quantity, price: price))
    }
}
