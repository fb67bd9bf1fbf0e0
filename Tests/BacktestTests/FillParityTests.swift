import MarketHistory
import Money
@testable import PaperGateway
import Testing
import TWSProtocol
@testable import Backtest

/// One set of fill rules: the same orders on the same prices fill the same way in the paper
/// gateway (quote by quote, `PaperOrder.match`) and in the backtest (a bar at a time,
/// `SimulatedBroker`). A bar is walked as quotes every cent along open → low → high → close
/// and open → high → low → close. Where the two walks agree the bar must give their answer;
/// where they differ (the bar cannot tell which came first) it must give one of them, and for
/// a bracket the one that reaches the stop first.
@Suite("Fill rules: the gateway's quotes and the backtest's bars agree")
struct FillParityTests {
    /// A bar in cents (whole cents: every price an order names lies on the walk).
    struct Bar: CustomStringConvertible {
        var open, high, low, close: Int
        var stored: StoredBar {
            StoredBar(time: 60, open: Double(open) / 100, high: Double(high) / 100, low: Double(low) / 100, close: Double(close) / 100, volume: 1000)
        }
        var description: String { "O \(open) H \(high) L \(low) C \(close)" }

        /// Every cent from the open to one extreme, to the other, to the close.
        func walk(lowFirst: Bool) -> [Double] {
            var cents = [open]
            for target in lowFirst ? [low, high, close] : [high, low, close] {
                let from = cents.last!
                let step = target >= from ? 1 : -1
                cents += stride(from: from + step, through: target, by: step).map { $0 }
            }
            return cents.map { Double($0) / 100 }
        }
    }

    /// The gateway's way with a walk of prices (GatewayEngine.matchOrders): each working,
    /// released order meets every quote in the order placed (`PaperOrder.match`); a fill
    /// settles its group (`GroupSettlement`, as settleGroup) and releases its children.
    static func quotes(_ orders: [SimulatedOrder], _ walk: [Double]) -> [Int: Double] {
        var papers = orders.map { simulated -> PaperOrder in
            var order = Order(action: simulated.buy ? "BUY" : "SELL", quantity: TWSDecimal(approximating: simulated.quantity), type: "MKT")
            switch simulated.kind {
            case .market: break
            case let .limit(limit): (order.orderType, order.lmtPrice) = ("LMT", limit)
            case let .stop(stop): (order.orderType, order.auxPrice) = ("STP", stop)
            case let .stopLimit(stop, limit): (order.orderType, order.auxPrice, order.lmtPrice) = ("STP LMT", stop, limit)
            case let .trailing(.amount(amount)): (order.orderType, order.auxPrice) = ("TRAIL", amount)
            case let .trailing(.percent(percent)): (order.orderType, order.trailingPercent) = ("TRAIL", percent)
            }
            order.ocaGroup = simulated.family.ocaGroup
            order.ocaType = simulated.family.ocaType
            order.parentId = simulated.family.parentId
            order.transmit = true  // the family's last order transmitted it (releaseStaged)
            var paper = PaperOrder(orderId: simulated.id, clientId: 1, permId: Int64(simulated.id), contract: Contract(symbol: "X"), order: order)
            paper.status = "Submitted"
            return paper
        }
        var fills: [Int: Double] = [:]
        for price in walk {
            let quote = Quote(bid: price, ask: price, bidSize: 100, askSize: 100, last: price, lastSize: 100, volume: 0, high: price,
                              low: price, open: price, close: price, lastTradeTime: 0)
            for index in papers.indices {
                let parentId = papers[index].order.parentId
                let parentFilled = parentId != 0 && papers.contains { $0.orderId == parentId && $0.status == "Filled" }
                guard papers[index].isWorking,
                      OrderFamily.isReleased(transmitted: papers[index].order.transmit, parentId: parentId, parentFilled: parentFilled),
                      let fill = papers[index].match(quote: quote, maxShares: nil)
                else { continue }
                papers[index].recordFill(shares: fill.shares, price: fill.price, commission: 0)
                fills[papers[index].orderId] = fill.price
                let members = papers.filter(\.isWorking).map { GroupMember(id: $0.orderId, family: $0.family, remaining: $0.remaining) }
                for settlement in GroupSettlement.settle(filled: fill.shares, by: papers[index].orderId, family: papers[index].family, others: members) {
                    let other = papers.firstIndex { $0.orderId == settlement.id }!
                    switch settlement {
                    case .cancel: papers[other].status = "Cancelled"
                    case let .reduce(_, by): papers[other].order.totalQuantity = TWSDecimal(approximating: papers[other].quantity - by)
                    }
                }
            }
        }
        return fills
    }

    /// The backtest's broker on the bar (orders placed with their own transmit flags).
    static func bar(_ orders: [SimulatedOrder], _ bar: Bar) -> (fills: [Int: Double], ambiguous: Int) {
        var rules = FillRules()
        rules.commission = .none
        var broker = SimulatedBroker(rules: rules)
        for order in orders { _ = broker.place(order) }
        let fills = broker.open(bar.stored).fills
        return (Dictionary(uniqueKeysWithValues: fills.map { ($0.orderId, $0.price) }), broker.ambiguousExits)
    }

    static func same(_ a: [Int: Double], _ b: [Int: Double]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { abs($0.value - b[$0.key]!) < 1e-9 }
    }

    /// A seeded generator (SplitMix64): the same cases every run.
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func bool() -> Bool { next() & 1 == 0 }
    }

    static func randomBar(_ random: inout Seeded) -> Bar {
        let open = random.int(9_900...10_100), close = random.int(9_900...10_100)
        return Bar(open: open, high: max(open, close) + random.int(0...100), low: min(open, close) - random.int(0...100), close: close)
    }

    static func randomKind(_ random: inout Seeded, around bar: Bar, trailing: Bool = true) -> SimulatedOrder.Kind {
        func price() -> Double { Double(random.int((bar.low - 30)...(bar.high + 30))) / 100 }
        switch random.int(0...(trailing ? 4 : 2)) {
        case 0: return .limit(price())
        case 1: return .stop(price())
        case 2: return random.bool() ? .market : .limit(price())
        case 3: return .stopLimit(stop: price(), limit: price())
        default: return .trailing(.amount(Double(random.int(1...150)) / 100))
        }
    }

    @Test("hand cases: a gap through a stop, a gap through a limit, a stop-limit gapped past its limit and traded back")
    func handCases() {
        let gap = Bar(open: 9_400, high: 10_600, low: 9_300, close: 10_000)
        let cases: [(SimulatedOrder, Bar, Double?)] = [
            (SimulatedOrder(id: 1, buy: false, quantity: 100, kind: .stop(95)), gap, 94),            // the worse price, the open
            (SimulatedOrder(id: 1, buy: true, quantity: 100, kind: .limit(95)), gap, 94),            // the better price, the open
            (SimulatedOrder(id: 1, buy: false, quantity: 100, kind: .limit(105)), gap, 105),         // inside the range, at the limit
            (SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .stopLimit(stop: 101, limit: 101.5)),
             Bar(open: 10_200, high: 10_300, low: 10_120, close: 10_250), 101.5),                    // gapped past, then back through
            (SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .stopLimit(stop: 101, limit: 101.5)),
             Bar(open: 10_200, high: 10_300, low: 10_160, close: 10_250), nil),                      // gapped past, never back
        ]
        for (order, bar, expected) in cases {
            let walks = [Self.quotes([order], bar.walk(lowFirst: true))[1], Self.quotes([order], bar.walk(lowFirst: false))[1]]
            let backtest = Self.bar([order], bar).fills[1]
            #expect(walks.allSatisfy { $0 == expected }, "\(order.kind) on \(bar): the gateway's walks \(walks)")
            #expect(backtest == expected, "\(order.kind) on \(bar): the backtest's bar \(String(describing: backtest))")
        }
    }

    @Test("1,000 random single orders: the bar fills as the walks do where they agree, as one of them where they do not")
    func singleOrders() {
        var random = Seeded(state: 22)
        var disagreements = 0
        for _ in 0..<1_000 {
            let bar = Self.randomBar(&random)
            let order = SimulatedOrder(id: 1, buy: random.bool(), quantity: 10, kind: Self.randomKind(&random, around: bar))
            let lowFirst = Self.quotes([order], bar.walk(lowFirst: true)), highFirst = Self.quotes([order], bar.walk(lowFirst: false))
            let backtest = Self.bar([order], bar).fills
            if Self.same(lowFirst, highFirst) {
                #expect(Self.same(backtest, lowFirst), "\(order.buy ? "buy" : "sell") \(order.kind) on \(bar): walks \(lowFirst), bar \(backtest)")
            } else {
                disagreements += 1
                #expect(Self.same(backtest, lowFirst) || Self.same(backtest, highFirst),
                        "\(order.buy ? "buy" : "sell") \(order.kind) on \(bar): walks \(lowFirst) / \(highFirst), bar \(backtest)")
            }
        }
        #expect(disagreements > 0, "the cases include bars whose order matters (trailing stops, stop-limits)")
    }

    @Test("600 random brackets (market entry, take-profit, stop-loss, staged then transmitted): the bar fills as the walk that reaches the stop first")
    func brackets() {
        var random = Seeded(state: 7)
        var ambiguous = 0
        for _ in 0..<600 {
            let bar = Self.randomBar(&random)
            let long = random.bool()
            let a = random.int((bar.low - 30)...(bar.high + 30)), b = random.int((bar.low - 30)...(bar.high + 30))
            guard a != b else { continue }
            let (stop, profit) = long ? (Double(min(a, b)) / 100, Double(max(a, b)) / 100) : (Double(max(a, b)) / 100, Double(min(a, b)) / 100)
            let family = OrderFamily(parentId: 1)
            let orders = [SimulatedOrder(id: 1, buy: long, quantity: 100, kind: .market, transmit: false),
                          SimulatedOrder(id: 2, buy: !long, quantity: 100, kind: .limit(profit), family: family, transmit: false),
                          SimulatedOrder(id: 3, buy: !long, quantity: 100, kind: .stop(stop), family: family)]
            // A long's stop is below: the walk that visits the low first reaches it first.
            let expected = Self.quotes(orders, bar.walk(lowFirst: long))
            let (backtest, count) = Self.bar(orders, bar)
            #expect(Self.same(backtest, expected), "\(long ? "long" : "short") stop \(stop) profit \(profit) on \(bar): walk \(expected), bar \(backtest)")
            ambiguous += count
        }
        #expect(ambiguous > 0, "some bars reach both exits inside their range")
    }

    @Test("600 random one-cancels-all pairs (limits and stops, cancel or reduce): the bar fills as one of the walks")
    func ocaPairs() {
        var random = Seeded(state: 99)
        for _ in 0..<600 {
            let bar = Self.randomBar(&random)
            let family = OrderFamily(ocaGroup: "g", ocaType: random.bool() ? 1 : 3)
            let orders = (1...2).map { id in
                SimulatedOrder(id: id, buy: random.bool(), quantity: Double(random.int(1...3)) * 10, kind: Self.randomKind(&random, around: bar, trailing: false),
                               family: family)
            }
            let lowFirst = Self.quotes(orders, bar.walk(lowFirst: true)), highFirst = Self.quotes(orders, bar.walk(lowFirst: false))
            let backtest = Self.bar(orders, bar).fills
            #expect(Self.same(backtest, lowFirst) || Self.same(backtest, highFirst),
                    "\(orders.map { "\($0.buy ? "buy" : "sell") \($0.quantity) \($0.kind)" }) type \(family.ocaType) on \(bar): walks \(lowFirst) / \(highFirst), bar \(backtest)")
        }
    }
}
