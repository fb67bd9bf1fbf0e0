import Testing
@testable import Backtest
import MarketHistory

/// The fill rules on a tiny series whose fills are worked out by hand.
@Suite("Simulated broker: fill rules")
struct SimulatedBrokerTests {
    //                      time  open   high   low    close
    static let bars = [bar(0, 100.0, 101.0, 99.0, 100.5),
                       bar(60, 100.6, 102.0, 100.2, 101.8),   // up
                       bar(120, 99.0, 99.5, 97.0, 98.0),      // gaps down through 100 and 99.5
                       bar(180, 98.2, 103.0, 98.1, 102.5)]    // rallies through 101 and 102

    static func bar(_ time: Int64, _ open: Double, _ high: Double, _ low: Double, _ close: Double) -> StoredBar {
        StoredBar(time: time, open: open, high: high, low: low, close: close, volume: 1000)
    }

    /// Runs the orders placed while each bar is handled (keyed by bar index).
    func run(_ rules: FillRules, _ orders: [Int: [SimulatedOrder]]) -> [SimulatedFill] {
        var broker = SimulatedBroker(rules: rules)
        var fills: [SimulatedFill] = []
        for (index, bar) in Self.bars.enumerated() {
            fills += broker.open(bar)
            for order in orders[index] ?? [] { if let fill = broker.place(order) { fills.append(fill) } }
        }
        return fills
    }

    @Test("a market order placed on a bar's close fills at the next bar's open, never at that close")
    func marketNextOpen() {
        var rules = FillRules()
        rules.commission = .none
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 100, kind: .market)]])
        #expect(fills == [SimulatedFill(orderId: 1, time: 60, buy: true, quantity: 100, price: 100.6, commission: 0)])
    }

    @Test("same-close fills at the close of the bar the order was placed on; slippage goes against the order")
    func sameCloseAndSlippage() {
        var rules = FillRules()
        rules.timing = .sameBarClose
        rules.slippageTicks = 2
        rules.commission = .none
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 10, kind: .market)],
                                1: [SimulatedOrder(id: 2, buy: false, quantity: 10, kind: .market)]])
        #expect(fills.map(\.price) == [100.52, 101.78])
        #expect(fills.map(\.time) == [0, 60])
    }

    @Test("limits fill at the limit, or at a better open after a gap; stops at the stop, or at a worse open after a gap")
    func limitsAndStops() {
        var rules = FillRules()
        rules.commission = .none
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .limit(100.0)),   // bar 1 low 100.2: no; bar 2 opens 99.0 < 100: fills at 99.0
                                    SimulatedOrder(id: 2, buy: false, quantity: 1, kind: .stop(99.5)),    // bar 2 gaps to 99.0: fills at the open 99.0
                                    SimulatedOrder(id: 3, buy: false, quantity: 1, kind: .limit(101.5)),  // bar 1 high 102: fills at 101.5
                                    SimulatedOrder(id: 4, buy: true, quantity: 1, kind: .stop(102.5))]])  // bar 3 high 103 from 98.2: fills at 102.5
        #expect(fills.map { "\($0.orderId)@\($0.price)@\($0.time)" } == ["3@101.5@60", "1@99.0@120", "2@99.0@120", "4@102.5@180"])
    }

    @Test("a stop-limit triggers, then fills only where its limit allows")
    func stopLimit() {
        var rules = FillRules()
        rules.commission = .none
        // Buy stop 101 limit 101.2: bar 1 reaches 101 (opening at 100.6), and 101 <= 101.2: fills at 101.
        // Sell stop 99.5 limit 99.4: bar 2 opens at 99.0, below the limit: triggered, not filled.
        // Bar 3 trades up to 103: the sell limit fills at max(open 98.2, limit 99.4) = 99.4.
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .stopLimit(stop: 101, limit: 101.2)),
                                    SimulatedOrder(id: 2, buy: false, quantity: 1, kind: .stopLimit(stop: 99.5, limit: 99.4))]])
        #expect(fills.map { "\($0.orderId)@\($0.price)@\($0.time)" } == ["1@101.0@60", "2@99.4@180"])
    }

    @Test("commissions: IB fixed and tiered with their minimums and the 1 % cap")
    func commissions() {
        #expect(CommissionModel.ibFixed.commission(quantity: 100, price: 100) == 1.0)      // 0.50 → the 1.00 minimum
        #expect(CommissionModel.ibFixed.commission(quantity: 1000, price: 100) == 5.0)
        #expect(CommissionModel.ibFixed.commission(quantity: 10, price: 1) == 0.1)         // capped at 1 % of 10.00
        #expect(CommissionModel.ibTiered.commission(quantity: 100, price: 100) == 0.35)
        #expect(CommissionModel.ibTiered.commission(quantity: 1000, price: 100) == 3.5)
        #expect(CommissionModel.none.commission(quantity: 1000, price: 100) == 0)
    }

    @Test("the same bars and orders give the same fills, bit for bit; a cancelled order never fills")
    func deterministic() {
        let orders: [Int: [SimulatedOrder]] = [0: [SimulatedOrder(id: 1, buy: true, quantity: 5, kind: .limit(99.8))],
                                               1: [SimulatedOrder(id: 2, buy: false, quantity: 5, kind: .stop(99.1))]]
        // Worked by hand: bar 1 (low 100.2) leaves the 99.8 buy resting; bar 2 gaps down to
        // 99.0: the limit buy fills at that better open, the 99.1 sell stop placed on bar 1 at
        // that worse open. Checked against these numbers, not against another run of itself.
        let fills = run(FillRules(), orders)
        #expect(fills.map(\.orderId).sorted() == [1, 2])
        #expect(fills.allSatisfy { $0.time == 120 && $0.price == 99.0 && $0.quantity == 5 })
        #expect(fills.first { $0.orderId == 1 }?.buy == true && fills.first { $0.orderId == 2 }?.buy == false)
        #expect(fills == run(FillRules(), orders), "and again, the same fills bit for bit")
        var broker = SimulatedBroker()
        _ = broker.open(Self.bars[0])
        _ = broker.place(SimulatedOrder(id: 9, buy: true, quantity: 1, kind: .market))
        let cancelled = broker.cancel(9)
        let next = broker.open(Self.bars[1])
        let again = broker.cancel(9)
        #expect(cancelled && next.isEmpty && !again)
    }
}
