import Testing
import TWSProtocol
@testable import TWSClient

/// The quote book without a socket: what one read's ticks turn into.
@Suite("Quote book")
struct QuoteBookTests {
    /// Handlers run synchronously inside `flush`, on the test's thread.
    final class Received: @unchecked Sendable {
        var events: [(Int, QuoteEvent)] = []
        func handler(_ stream: Int) -> @Sendable (QuoteEvent) -> Void {
            { event in self.events.append((stream, event)) }
        }
        var quotes: [(Int, MarketQuote)] {
            events.compactMap { if case let .quote(q) = $0.1 { return ($0.0, q) } else { return nil } }
        }
    }

    func price(_ reqId: Int, _ type: Int, _ price: Double, size: Int? = nil) -> MarketTick {
        .price(TickPrice(reqId: reqId, tickType: type, price: price, size: size.map { TWSDecimal($0) }, attrMask: 0))
    }

    func size(_ reqId: Int, _ type: Int, _ size: Int) -> MarketTick {
        .size(TickSize(reqId: reqId, tickType: type, size: TWSDecimal(size)))
    }

    @Test("one update per stream per read, in the order streams first changed, with every tick counted")
    func coalescesPerRead() {
        let received = Received()
        var book = QuoteBook()
        book.add(subscription: 1, reqId: 101, symbol: "AAPL", handler: received.handler(1))
        book.add(subscription: 2, reqId: 102, symbol: "MSFT", handler: received.handler(2))
        let applied1 = book.apply(price(102, 1, 410.5, size: 300), readAt: 77)
        #expect(applied1)
        let applied2 = book.apply(size(102, 0, 300), readAt: 77)
        #expect(applied2)  // TWS repeats the size: changes nothing, still a tick
        let applied3 = book.apply(price(101, 2, 187.26, size: 100), readAt: 77)
        #expect(applied3)
        let applied4 = book.apply(price(102, 2, 410.6, size: 200), readAt: 77)
        #expect(applied4)
        let applied5 = book.apply(price(999, 1, 1), readAt: 77)
        #expect(!applied5)  // nobody's request id
        book.flush()
        let quotes = received.quotes
        #expect(quotes.map(\.0) == [2, 1])
        #expect(quotes[0].1.bid == 410.5 && quotes[0].1.bidSize == 300 && quotes[0].1.ask == 410.6 && quotes[0].1.askSize == 200)
        #expect(quotes[0].1.ticks == 3 && quotes[0].1.receivedAt == 77)
        #expect(quotes[1].1.ask == 187.26 && quotes[1].1.ticks == 1 && quotes[1].1.symbol == "AAPL")
        book.flush()
        #expect(received.quotes.count == 2)  // nothing changed since: nothing handed out
        // The next read starts counting afresh.
        let applied6 = book.apply(price(101, 1, 187.25, size: 100), readAt: 99)
        #expect(applied6)
        book.flush()
        #expect(received.quotes.last!.1.ticks == 1 && received.quotes.last!.1.receivedAt == 99)
    }

    @Test("a tick that changes nothing is not handed out; bid −1 is no bid")
    func unchangedAndNoQuote() {
        let received = Received()
        var book = QuoteBook()
        book.add(subscription: 1, reqId: 5, symbol: "SPY", handler: received.handler(1))
        _ = book.apply(price(5, 1, 500, size: 10), readAt: 1)
        book.flush()
        _ = book.apply(price(5, 1, 500, size: 10), readAt: 2)
        book.flush()
        #expect(received.quotes.count == 1)
        _ = book.apply(price(5, 1, -1, size: 0), readAt: 3)
        book.flush()
        #expect(received.quotes.last!.1.bid == nil && received.quotes.last!.1.bidSize == 0)
    }

    @Test("removed streams deliver nothing, slots are reused, rebinding moves the request id")
    func removeAndRebind() {
        let received = Received()
        var book = QuoteBook()
        book.add(subscription: 1, reqId: 10, symbol: "A", handler: received.handler(1))
        book.add(subscription: 2, reqId: 11, symbol: "B", handler: received.handler(2))
        _ = book.apply(price(10, 1, 1), readAt: 1)
        book.remove(subscription: 1)
        book.flush()
        #expect(received.quotes.isEmpty)
        #expect(book.subscription(reqId: 10) == nil)
        book.add(subscription: 3, reqId: 12, symbol: "C", handler: received.handler(3))
        #expect(book.subscription(reqId: 12) == 3)
        book.rebind(subscription: 2, to: 21)
        let applied7 = book.apply(price(11, 1, 2), readAt: 1)
        #expect(!applied7)
        let applied8 = book.apply(price(21, 1, 2), readAt: 1)
        #expect(applied8)
        book.flush()
        #expect(received.quotes.map(\.0) == [2] && received.quotes[0].1.symbol == "B")
        book.forgetRequestIds()
        let applied9 = book.apply(price(21, 1, 3), readAt: 1)
        #expect(!applied9)
    }

    @Test("stale marks every stream and hands each out once; the next tick clears it")
    func stale() {
        let received = Received()
        var book = QuoteBook()
        book.add(subscription: 1, reqId: 10, symbol: "A", handler: received.handler(1))
        book.add(subscription: 2, reqId: 11, symbol: "B", handler: received.handler(2))
        book.markAllStale()
        book.flush()
        #expect(received.quotes.count == 2 && received.quotes.allSatisfy { $0.1.stale })
        _ = book.apply(price(10, 1, 5), readAt: 1)
        book.flush()
        #expect(received.quotes.last!.1.stale == false)
    }

    @Test("a failed stream gets its error and is gone")
    func fail() {
        let received = Received()
        var book = QuoteBook()
        book.add(subscription: 1, reqId: 10, symbol: "ZZZZ", handler: received.handler(1))
        book.fail(subscription: 1, .ib(code: 200, message: "No security definition has been found for the request",
                                       advancedOrderRejectJson: ""))
        let events = received.events
        #expect(events.count == 1)
        if case .failed = events[0].1 {} else { Issue.record("expected the failure") }
        #expect(book.subscription(reqId: 10) == nil && book.isEmpty)
    }
}
