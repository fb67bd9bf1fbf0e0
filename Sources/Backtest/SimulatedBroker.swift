import MarketHistory
import Money

/// How simulated orders fill on bars. The default never looks ahead: an order placed while
/// a bar is handled (its close already known) fills on a later bar.
///
/// The order-type rules are Money's (`FillOrder`, `FillRule`), the paper gateway's too. A bar
/// is read as its open first, then its range:
/// * At the open every working order marketable there fills there, in the order placed: a
///   market order; a limit the bar opens beyond (the better price); a stop the bar gaps
///   through (the worse price, as a real stop gets), before any take-profit of its group.
/// * In the range: a limit at its limit, a stop at its stop, a stop-limit triggered by then
///   at its limit (also one gapped past its limit at the open that trades back through it).
///   Two orders of one group both inside the range: the stop first (counted, `ambiguousExits`).
/// * `sameBarClose`: a market order fills at the close of the bar it was placed on.
/// * Slippage: `slippageTicks` ticks against the order on fills at the market (market, stop,
///   trailing stop).
public struct FillRules: Sendable, Equatable {
    public enum Timing: String, Sendable { case nextBarOpen = "next-open", sameBarClose = "same-close" }
    public var timing = Timing.nextBarOpen
    public var slippageTicks = 0
    public var tickSize = 0.01
    /// The one commission schedule (Money), as the paper gateway charges it.
    public var commission = CommissionSchedule.ibFixed
    public init() {}
}

public struct SimulatedOrder: Sendable, Equatable {
    public typealias Kind = FillOrder.Kind
    public var id: Int
    public var buy: Bool
    public var quantity: Double
    public var kind: Kind
    /// Its one-cancels-all group and bracket parent.
    public var family: OrderFamily
    /// False: staged until a child of its bracket transmits (IB's `transmit`).
    public var transmit: Bool
    /// Where a trailing stop starts, when given (IB's `trailStopPrice`).
    public var trailStop: Double?

    public init(id: Int, buy: Bool, quantity: Double, kind: Kind, family: OrderFamily = OrderFamily(), transmit: Bool = true,
                trailStop: Double? = nil)
    {
        self.id = id
        self.buy = buy
        self.quantity = quantity
        self.kind = kind
        self.family = family
        self.transmit = transmit
        self.trailStop = trailStop
    }
}

public struct SimulatedFill: Sendable, Equatable {
    public var orderId: Int
    public var time: Int64
    public var buy: Bool
    public var quantity: Double
    public var price: Double
    public var commission: Double
    public var commissionCurrency = ""
}

/// What the broker did, in the order it did it.
public enum BrokerEvent: Sendable, Equatable {
    case filled(SimulatedFill)
    /// Cancelled by its group (a sibling filled), with its parent, or by `cancel`.
    case cancelled(id: Int, reason: String)
    /// A reducing group's member, its quantity now `quantity`.
    case reduced(id: Int, quantity: Double)
}

extension Array where Element == BrokerEvent {
    public var fills: [SimulatedFill] { compactMap { if case let .filled(fill) = $0 { fill } else { nil } } }
}

/// The orders of one instrument, filled bar by bar under `FillRules`. Deterministic: the same
/// bars and orders give the same fills.
public struct SimulatedBroker: Sendable {
    public let rules: FillRules
    /// What the instrument's units are worth (the commission schedule needs its type).
    public let terms: InstrumentTerms
    /// The rates of the simulated now (IB's dollar amounts charged on an instrument quoted in
    /// another currency); set by the backtest as the rates move.
    public var rates: CurrencyRates?
    private struct Entry: Sendable {
        var order: SimulatedOrder
        var state: FillOrder
        /// Transmitted and, for a bracket's child, its parent filled.
        var released: Bool
        /// Its place in the order placed.
        var sequence: Int
    }
    /// Working and held orders, in the order placed.
    private var entries: [Entry] = []
    private var placed = 0
    /// Orders that filled (a bracket's child placed later works at once).
    private var filled: Set<Int> = []
    /// The bar being handled (orders placed now see its close, never fill on it by default).
    private var current: StoredBar?
    /// Bars in which both a stop and another order of one group were inside the range (the
    /// stop was taken first).
    public private(set) var ambiguousExits = 0

    public init(rules: FillRules = FillRules(), terms: InstrumentTerms = InstrumentTerms()) {
        self.rules = rules
        self.terms = terms
    }

    public var openOrders: [SimulatedOrder] { entries.map(\.order) }

    /// Places an order while `current` is being handled. A transmitting child releases its
    /// staged bracket. With `sameBarClose` a market order fills at once at that bar's close.
    public mutating func place(_ order: SimulatedOrder) -> [BrokerEvent] {
        placed += 1
        entries.append(Entry(order: order, state: FillOrder(buy: order.buy, kind: order.kind, trailStop: order.trailStop), released: false,
                             sequence: placed))
        if order.transmit && order.family.parentId != 0 {
            for index in entries.indices where entries[index].order.id == order.family.parentId || entries[index].order.family.parentId == order.family.parentId {
                entries[index].order.transmit = true
            }
        }
        release()
        var events: [BrokerEvent] = []
        if rules.timing == .sameBarClose, let bar = current {
            // Market orders released now (and any a fill here releases) fill at the close.
            while let index = entries.firstIndex(where: { $0.released && $0.order.kind == .market }) {
                fill(at: index, FillPrice(price: bar.close, atMarket: true), time: bar.time, into: &events)
            }
        }
        return events
    }

    /// Cancels a working or held order, with the children it still holds. Nothing for an
    /// order it does not have.
    public mutating func cancel(_ id: Int) -> [BrokerEvent] {
        guard let index = entries.firstIndex(where: { $0.order.id == id }) else { return [] }
        var events: [BrokerEvent] = []
        remove(at: index, reason: "", into: &events)
        return events
    }

    /// New terms for a working order (orders.modify): it keeps its place, its group and its
    /// state (a stop-limit that was triggered stays triggered).
    @discardableResult
    public mutating func replace(_ order: SimulatedOrder) -> Bool {
        guard let index = entries.firstIndex(where: { $0.order.id == order.id }) else { return false }
        let kept = entries[index]
        entries[index].order = order
        entries[index].order.family = kept.order.family
        entries[index].order.transmit = kept.order.transmit
        entries[index].state = FillOrder(buy: order.buy, kind: order.kind, triggered: kept.state.triggered, trailStop: kept.state.trailStop)
        return true
    }

    /// A new bar: the working orders meet its open (in the order placed), then its range;
    /// then it becomes the bar being handled. Returns what happened.
    public mutating func open(_ bar: StoredBar) -> [BrokerEvent] {
        guard !entries.isEmpty else {  // most bars: nothing works
            current = bar
            return []
        }
        let prices = BarPrices(open: bar.open, high: bar.high, low: bar.low, close: bar.close)
        var events: [BrokerEvent] = []
        // The open. A bracket's child released here by its parent's fill meets it too (it
        // comes later in the order placed), as the gateway's children meet the quote their
        // parent filled on.
        var index = 0
        while index < entries.count {
            guard entries[index].released, let price = entries[index].state.meetOpen(of: prices) else {
                index += 1
                continue
            }
            // A fill may cancel orders before or after it: go on after it in the order placed.
            let sequence = entries[index].sequence
            fill(at: index, price, time: bar.time, into: &events)
            index = entries.firstIndex { $0.sequence > sequence } ?? entries.count
        }
        // The range: the orders working after the open (a child released by a fill inside
        // the range waits for the next bar: after that fill is unknown).
        var candidates: [(id: Int, price: FillPrice, family: OrderFamily, isStop: Bool)] = []
        for index in entries.indices where entries[index].released {
            if let price = entries[index].state.meetRange(of: prices) {
                candidates.append((entries[index].order.id, price, entries[index].order.family, entries[index].state.isStop))
            }
        }
        let (order, ambiguous) = GroupSettlement.rangeOrder(candidates.map { RangeCandidate(family: $0.family, isStop: $0.isStop, price: $0.price.price) },
                                                            open: bar.open)
        if ambiguous { ambiguousExits += 1 }
        for position in order {
            let candidate = candidates[position]
            guard let index = entries.firstIndex(where: { $0.order.id == candidate.id }) else { continue }  // its group's fill cancelled it
            fill(at: index, candidate.price, time: bar.time, into: &events)
        }
        current = bar
        return events
    }

    /// Held orders whose bracket transmitted and whose parent filled start working.
    private mutating func release() {
        for index in entries.indices where !entries[index].released {
            let order = entries[index].order
            entries[index].released = OrderFamily.isReleased(transmitted: order.transmit, parentId: order.family.parentId,
                                                             parentFilled: filled.contains(order.family.parentId))
        }
    }

    /// Fills the order at `index`, then settles its group (Money's rule, in id order) and
    /// releases its children.
    private mutating func fill(at index: Int, _ price: FillPrice, time: Int64, into events: inout [BrokerEvent]) {
        let order = entries.remove(at: index).order
        filled.insert(order.id)
        events.append(.filled(fill(order, at: price.atMarket ? slipped(price.price, buy: order.buy) : price.price, time: time)))
        events += settleMembers(filled: order.quantity, by: order.id, family: order.family)
        release()
    }

    /// A member of a named one-cancels-all group filled in ANOTHER instrument's broker: this
    /// broker's members of the group are settled by the same rule (in id order).
    public mutating func settleGroup(filled quantity: Double, by id: Int, family: OrderFamily) -> [BrokerEvent] {
        family.ocaGroup.isEmpty ? [] : settleMembers(filled: quantity, by: id, family: family)
    }

    /// The group's members here, settled by Money's rule for a fill of `quantity` by `id`.
    private mutating func settleMembers(filled quantity: Double, by id: Int, family: OrderFamily) -> [BrokerEvent] {
        var events: [BrokerEvent] = []
        let members = entries.map { GroupMember(id: $0.order.id, family: $0.order.family, remaining: $0.order.quantity) }
        for settlement in GroupSettlement.settle(filled: quantity, by: id, family: family, others: members) {
            guard let other = entries.firstIndex(where: { $0.order.id == settlement.id }) else { continue }
            switch settlement {
            case let .cancel(_, reason):
                remove(at: other, reason: reason, into: &events)
            case let .reduce(id, by):
                entries[other].order.quantity -= by
                events.append(.reduced(id: id, quantity: entries[other].order.quantity))
            }
        }
        return events
    }

    /// Removes a cancelled order and the children it holds (they go with their parent).
    private mutating func remove(at index: Int, reason: String, into events: inout [BrokerEvent]) {
        let id = entries.remove(at: index).order.id
        events.append(.cancelled(id: id, reason: reason))
        while let child = entries.firstIndex(where: { $0.order.family.parentId == id && !$0.released }) {
            remove(at: child, reason: "parent order \(id) cancelled", into: &events)
        }
    }

    private func slipped(_ price: Double, buy: Bool) -> Double {
        // Without slippage the bar's own price, as it is: a tick the instrument may not even
        // have (0.01 on EUR.USD) must never move a fill (1.08437 is not 1.08).
        guard rules.slippageTicks != 0 else { return price }
        let slip = Double(rules.slippageTicks) * rules.tickSize
        let slipped = buy ? price + slip : price - slip
        // On the tick grid, divided rather than multiplied (100.6, not 100.60000000000001)
        // when the tick divides one.
        let perUnit = (1 / rules.tickSize).rounded()
        if abs(perUnit * rules.tickSize - 1) < 1e-12 { return (slipped * perUnit).rounded() / perUnit }
        return (slipped / rules.tickSize).rounded() * rules.tickSize
    }

    private func fill(_ order: SimulatedOrder, at price: Double, time: Int64) -> SimulatedFill {
        let commission = rules.commission.charge(terms, quantity: order.quantity, price: price, rates: rates)
        return SimulatedFill(orderId: order.id, time: time, buy: order.buy, quantity: order.quantity, price: price,
                             commission: commission.amount, commissionCurrency: commission.currency)
    }
}
