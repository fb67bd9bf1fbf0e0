import Money
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
            fills += broker.open(bar).fills
            for order in orders[index] ?? [] { fills += broker.place(order).fills }
        }
        return fills
    }

    @Test("a market order placed on a bar's close fills at the next bar's open, never at that close")
    func marketNextOpen() {
        var rules = FillRules()
        rules.commission = .none
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 100, kind: .market)]])
        #expect(fills == [SimulatedFill(orderId: 1, time: 60, buy: true, quantity: 100, price: 100.6, commission: 0, commissionCurrency: "USD")])
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
        // Sell stop 99.5 limit 99.4: bar 2 opens at 99.0, below the limit: triggered at the
        // open, not filled there; its high 99.5 trades back through the limit: sold at 99.4.
        let fills = run(rules, [0: [SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .stopLimit(stop: 101, limit: 101.2)),
                                    SimulatedOrder(id: 2, buy: false, quantity: 1, kind: .stopLimit(stop: 99.5, limit: 99.4))]])
        #expect(fills.map { "\($0.orderId)@\($0.price)@\($0.time)" } == ["1@101.0@60", "2@99.4@120"])
    }

    @Test("a stop-limit gapped past its limit is triggered at the open and fills at the limit when the bar trades back through it")
    func stopLimitGappedThenBack() {
        var rules = FillRules()
        rules.commission = .none
        var broker = SimulatedBroker(rules: rules)
        _ = broker.open(Self.bar(0, 100.0, 100.5, 99.5, 100.0))
        // Buy stop 101 limit 101.5: the next bar opens at 102, past both (triggered, 102 is
        // over the limit), then trades down to 101.2: back through the limit, bought at 101.5.
        _ = broker.place(SimulatedOrder(id: 1, buy: true, quantity: 1, kind: .stopLimit(stop: 101, limit: 101.5)))
        // Sell stop 99 limit 98.5 on another broker's bar that opens at 98 and trades up to 99.
        var seller = SimulatedBroker(rules: rules)
        _ = seller.open(Self.bar(0, 100.0, 100.5, 99.5, 100.0))
        _ = seller.place(SimulatedOrder(id: 2, buy: false, quantity: 1, kind: .stopLimit(stop: 99, limit: 98.5)))
        let bought = broker.open(Self.bar(60, 102.0, 103.0, 101.2, 102.5))
        let sold = seller.open(Self.bar(60, 98.0, 99.0, 97.0, 97.5))
        #expect(bought.fills.map { "\($0.orderId)@\($0.price)@\($0.time)" } == ["1@101.5@60"])
        #expect(sold.fills.map { "\($0.orderId)@\($0.price)@\($0.time)" } == ["2@98.5@60"])
    }

    @Test("commissions: IB fixed and tiered with their minimums and the 1 % cap")
    func commissions() {
        #expect(CommissionSchedule.ibFixed.charge(InstrumentTerms(), quantity: 100, price: 100).amount == 1.0)      // 0.50 → the 1.00 minimum
        #expect(CommissionSchedule.ibFixed.charge(InstrumentTerms(), quantity: 1000, price: 100).amount == 5.0)
        #expect(CommissionSchedule.ibFixed.charge(InstrumentTerms(), quantity: 10, price: 1).amount == 0.1)         // capped at 1 % of 10.00
        #expect(CommissionSchedule.ibTiered.charge(InstrumentTerms(), quantity: 100, price: 100).amount == 0.35)
        #expect(CommissionSchedule.ibTiered.charge(InstrumentTerms(), quantity: 1000, price: 100).amount == 3.5)
        #expect(CommissionSchedule.none.charge(InstrumentTerms(), quantity: 1000, price: 100).amount == 0)
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
        #expect(cancelled == [.cancelled(id: 9, reason: "")] && next.isEmpty && again.isEmpty)
    }
}
