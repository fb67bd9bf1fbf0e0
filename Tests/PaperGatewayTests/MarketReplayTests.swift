import Foundation
import Testing
@testable import PaperGateway

@Suite("Market replay")
struct MarketReplayTests {
    //                                    open  high   low   close
    static let rising = ReplayBar(time: 600, open: 100, high: 103, low: 97, close: 102, volume: 600)
    static let falling = ReplayBar(time: 660, open: 102, high: 104, low: 99, close: 100, volume: 60)
    static let replay = MarketReplay(bars: ["AAPL": [falling, rising]], barSeconds: 60, speed: 10)

    @Test("a rising bar goes open, low, high, close; a falling one open, high, low, close; the open held for the first fifth, a fifth each leg, the close held for the last")
    func pathThroughTheBar() {
        let r = Self.replay
        // The open holds for the first fifth: an order placed when the bar before ended and
        // arriving within it meets the open, as a backtest's next-open fill does.
        #expect(r.price("AAPL", at: 600) == 100 && r.price("AAPL", at: 610) == 100 && r.price("AAPL", at: 612) == 100)
        #expect(r.price("AAPL", at: 618) == 98.5)  // half way from the open to the low
        #expect(r.price("AAPL", at: 624) == 97)
        #expect(r.price("AAPL", at: 636) == 103)
        // The close is reached with a fifth of the bar left and holds to its end: the bar's
        // last trades print it (5-second bars built from the replay end where the stored one did).
        #expect(r.price("AAPL", at: 648) == 102)
        #expect(r.price("AAPL", at: 659.999) == 102)
        #expect(r.price("AAPL", at: 672) == 102 && r.price("AAPL", at: 684) == 104)
        #expect(r.price("AAPL", at: 696) == 99)
        #expect(r.price("AAPL", at: 708) == 100 && r.price("AAPL", at: 719.9) == 100)
        // Before the data: the first open; after it: the last close. No bar is under way then.
        #expect(r.price("AAPL", at: 0) == 100 && r.bar("AAPL", at: 0) == nil)
        #expect(r.price("AAPL", at: 10_000) == 100 && r.bar("AAPL", at: 10_000) == nil)
        #expect(r.start == 600 && r.end == 720)
    }

    @Test("the shown price: a bar's own prices exactly as stored (never moved to a tick), the ones between on the tick grid")
    func shownPrice() {
        // EUR.USD quotes to half a pip; a stored midpoint of 1.08437 is off that grid.
        let bar = ReplayBar(time: 0, open: 1.08437, high: 1.08461, low: 1.08409, close: 1.08452, volume: 0)
        let replay = MarketReplay(bars: ["EUR.USD": [bar]], barSeconds: 60, speed: 1)
        let halfPip = { (price: Double) in (price / 0.00005).rounded() * 0.00005 }
        #expect(replay.shownPrice("EUR.USD", at: 0, rounded: halfPip) == 1.08437)
        #expect(replay.shownPrice("EUR.USD", at: 24, rounded: halfPip) == 1.08409)
        #expect(replay.shownPrice("EUR.USD", at: 50, rounded: halfPip) == 1.08452)
        // Between the open and the low: on the grid.
        let between = replay.shownPrice("EUR.USD", at: 18, rounded: halfPip)!
        #expect(between == halfPip(between) && between < 1.08437 && between > 1.08409)
        // Out-of-range spreads are taken as the nearest end of the range.
        #expect(MarketReplay(bars: [:], barSeconds: 60, speed: 1, spreadTicks: -3).spreadTicks == 0)
        #expect(MarketReplay(bars: [:], barSeconds: 60, speed: 1, spreadTicks: .max).spreadTicks == 100)
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
        let trade = market.step(seconds: 1, now: 624).first { $0.symbol == "AAPL" }
        #expect(trade?.price == 97)
        #expect(trade?.size == 100)  // 600 shares over 60 s, 1 s of wall time at 10x
        let quote = market.quote(symbol: "AAPL")!
        // The default spread: bid and ask on the tick grid at least half a tick from the price
        // (a tick either side of one on the grid): a market buy pays 97.01, a sell gets 96.99.
        #expect(abs(quote.bid - 96.99) < 1e-9 && abs(quote.ask - 97.01) < 1e-9)
    }

    @Test("a spread of 0: bid, ask and last are the replayed price itself, from the start and at every move")
    func zeroSpread() {
        let replay = MarketReplay(bars: Self.replay.bars, barSeconds: 60, speed: 10, spreadTicks: 0)
        var market = MarketSimulator(instruments: Instrument.defaultUniverse, seed: 1, now: 600, replay: replay)
        var quote = market.quote(symbol: "AAPL")!
        #expect(quote.bid == 100 && quote.ask == 100 && quote.last == 100)
        for (time, price) in [(612.0, 100.0), (624, 97), (636, 103), (648, 102), (660, 102), (684, 104)] {
            _ = market.step(seconds: 1, now: time)
            quote = market.quote(symbol: "AAPL")!
            #expect(quote.bid == price && quote.ask == price && quote.last == price, "at \(time)")
        }
    }
}
