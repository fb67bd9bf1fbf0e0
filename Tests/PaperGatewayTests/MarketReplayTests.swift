import Foundation
import Testing
@testable import PaperGateway

@Suite("Market replay")
struct MarketReplayTests {
    //                                    open  high   low   close
    static let rising = ReplayBar(time: 600, open: 100, high: 103, low: 97, close: 102, volume: 600)
    static let falling = ReplayBar(time: 660, open: 102, high: 104, low: 99, close: 100, volume: 60)
    static let replay = MarketReplay(bars: ["AAPL": [falling, rising]], barSeconds: 60, speed: 10)

    @Test("a rising bar goes open, low, high, close; a falling one open, high, low, close; a third of the bar each leg")
    func pathThroughTheBar() {
        let r = Self.replay
        #expect(r.price("AAPL", at: 600) == 100)
        #expect(r.price("AAPL", at: 620) == 97)
        #expect(r.price("AAPL", at: 640) == 103)
        #expect(abs(r.price("AAPL", at: 659.999)! - 102) < 0.001)
        #expect(r.price("AAPL", at: 680) == 104)
        #expect(r.price("AAPL", at: 700) == 99)
        #expect(r.price("AAPL", at: 610) == 98.5)  // half way from the open to the low
        // Before the data: the first open; after it: the last close. No bar is under way then.
        #expect(r.price("AAPL", at: 0) == 100 && r.bar("AAPL", at: 0) == nil)
        #expect(r.price("AAPL", at: 10_000) == 100 && r.bar("AAPL", at: 10_000) == nil)
        #expect(r.start == 600 && r.end == 720)
    }

    @Test("history from a replay: only bars that had ended, built up to larger sizes")
    func history() {
        let utc = TimeZone(identifier: "UTC")!
        let minutes = BarHistory.replayed(Self.replay, symbol: "AAPL", barSeconds: 60, durationSeconds: 3600, end: 690, formatDate: 2, zone: utc)
        #expect(minutes.map(\.date) == ["600"] && minutes.map(\.close) == [102])
        let both = BarHistory.replayed(Self.replay, symbol: "AAPL", barSeconds: 60, durationSeconds: 3600, end: 720, formatDate: 2, zone: utc)
        #expect(both.map(\.close) == [102, 100])
        let twoMinutes = BarHistory.replayed(Self.replay, symbol: "AAPL", barSeconds: 120, durationSeconds: 3600, end: 720, formatDate: 2, zone: utc)
        #expect(twoMinutes.count == 1 && twoMinutes[0].open == 100 && twoMinutes[0].high == 104 && twoMinutes[0].low == 97 && twoMinutes[0].close == 100)
        #expect(twoMinutes[0].volume?.doubleValue == 660)
    }

    @Test("the simulator moves a replayed instrument along its bars and prints the bar's volume over its time")
    func simulator() {
        var market = MarketSimulator(instruments: Instrument.defaultUniverse, seed: 1, now: 600, replay: Self.replay)
        let trade = market.step(seconds: 1, now: 620).first { $0.symbol == "AAPL" }
        #expect(trade?.price == 97)
        #expect(trade?.size == 100)  // 600 shares over 60 s, 1 s of wall time at 10x
        let quote = market.quote(symbol: "AAPL")!
        #expect(quote.bid < 97.01 && quote.ask > 96.99)
    }
}
