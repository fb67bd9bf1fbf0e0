import Money
import Testing
import TWSProtocol
@testable import PaperGateway

/// The gateway's orders on Money's fill rules (the backtest's too): what a client may send
/// that the gateway's own copy of the rules got wrong.
@Suite("Paper gateway: matching on the shared fill rules")
struct MatchingRuleTests {
    static func quote(bid: Double, ask: Double, last: Double) -> Quote {
        Quote(bid: bid, ask: ask, bidSize: 100, askSize: 100, last: last, lastSize: 100, volume: 0, high: last, low: last, open: last,
              close: last, lastTradeTime: 0)
    }

    static func working(_ order: Order) -> PaperOrder {
        var paper = PaperOrder(orderId: 1, clientId: 1, permId: 1, contract: Contract(symbol: "X"), order: order)
        paper.status = "PreSubmitted"
        return paper
    }

    @Test("a TRAIL with a trailing amount and a trailing percent of 0 (a client's unset field) trails by the amount")
    func trailAmountWithZeroPercent() {
        var order = Order(action: "SELL", quantity: 100, type: "TRAIL", stop: 1)
        order.trailingPercent = 0
        var paper = Self.working(order)
        // Bid 99.99, last 100: the stop goes to 99, one below; 99.50 does not reach it.
        #expect(paper.match(quote: Self.quote(bid: 99.99, ask: 100.01, last: 100), maxShares: nil) == nil)
        #expect(paper.order.trailStopPrice == 99 && !paper.triggered)
        #expect(paper.match(quote: Self.quote(bid: 99.49, ask: 99.51, last: 99.5), maxShares: nil) == nil)
        let fill = paper.match(quote: Self.quote(bid: 98.99, ask: 99.01, last: 99), maxShares: nil)
        #expect(fill?.price == 98.99 && paper.triggered)
    }

    @Test("a stop is reached by a quote equal to it up to the last binary digit (0.1 + 0.2 reaches a sell stop at 0.3)")
    func stopAtFloatingEquality() {
        var paper = Self.working(Order(action: "SELL", quantity: 100, type: "STP", stop: 0.3))
        let price = 0.1 + 0.2  // 0.30000000000000004
        let fill = paper.match(quote: Self.quote(bid: price, ask: price + 0.01, last: price), maxShares: nil)
        #expect(fill?.price == price && paper.triggered)
    }
}
