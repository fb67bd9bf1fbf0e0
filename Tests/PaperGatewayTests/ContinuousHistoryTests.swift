import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway

/// The paper gateway's history is one seeded path backwards from now: requests for
/// consecutive days (as `moonwire history` asks for them, a day per request) meet at
/// midnight. Before, each request walked back from the current price on its own, so every
/// day closed near that price and the next day opened elsewhere (gaps of 4 to 10 against a
/// median of 0).
@Suite("Paper history: one continuous path")
struct ContinuousHistoryTests {
    static let aapl = Instrument.defaultUniverse[0]
    static let utc = TimeZone(identifier: "UTC")!
    /// 2026-01-05 00:00 UTC, a Monday; "now" is noon four days later.
    static let day0 = 1_767_571_200
    static let now = day0 + 4 * 86_400 + 43_200

    static func minutes(ending end: Int, days: Int = 1, seed: UInt64 = 7, price: Double = 190.12, now: Int = now) throws -> [Bar] {
        try BarHistory.bars(instrument: aapl, seed: seed, barSeconds: 60, durationSeconds: days * 86_400, end: end, price: price, now: now,
                            whatToShow: "TRADES", formatDate: 2, zone: utc)
    }

    /// Three days, one request each, oldest first.
    static func dayByDay(seed: UInt64 = 7) throws -> [Bar] {
        try (1...3).flatMap { try minutes(ending: day0 + $0 * 86_400, seed: seed) }
    }

    @Test("a day's first open is the previous day's last close: no gap at midnight beyond one tick (0.01)")
    func midnightsMeet() throws {
        let bars = try Self.dayByDay()
        #expect(bars.count == 3 * 1_440)
        #expect(bars.map(\.date) == (0..<(3 * 1_440)).map { String(Self.day0 + $0 * 60) }, "one bar a minute, in order, none missing")
        for midnight in [1_440, 2_880] {
            let gap = abs(bars[midnight].open - bars[midnight - 1].close)
            #expect(gap <= 0.01 + 1e-9, "gap of \(gap) at bar \(midnight) (\(bars[midnight - 1].close) -> \(bars[midnight].open))")
        }
        // And so within each day: the path has no jumps anywhere, every bar opens at the last close.
        let largest = zip(bars, bars.dropFirst()).map { abs($1.open - $0.close) }.max() ?? 0
        #expect(largest <= 0.01 + 1e-9, "largest gap between bars \(largest)")
        // The path still moves: not a flat line that would meet trivially.
        let closes = Set(bars.map(\.close))
        #expect(closes.count > 100, "\(closes.count) distinct closes")
    }

    @Test("the same bars whichever way they are asked for: three days at once or a day at a time")
    func spansAgree() throws {
        let atOnce = try Self.minutes(ending: Self.day0 + 3 * 86_400, days: 3)
        #expect(atOnce == (try Self.dayByDay()))
        // A daily bar closes where the day's last minute closes.
        let daily = try BarHistory.bars(instrument: Self.aapl, seed: 7, barSeconds: 86_400, durationSeconds: 3 * 86_400,
                                        end: Self.day0 + 3 * 86_400, price: 190.12, now: Self.now, whatToShow: "TRADES", formatDate: 2,
                                        zone: Self.utc)
        #expect(daily.count == 3)
        #expect(daily.map(\.close) == [1_439, 2_879, 4_319].map { atOnce[$0].close })
        #expect(daily.map(\.open) == [0, 1_440, 2_880].map { atOnce[$0].open })
    }

    @Test("repeatable for a seed; another seed is another path")
    func repeatable() throws {
        #expect(try Self.dayByDay(seed: 7) == (try Self.dayByDay(seed: 7)))
        #expect(try Self.dayByDay(seed: 7).map(\.close) != (try Self.dayByDay(seed: 8)).map(\.close))
    }

    @Test("the path passes through the current price now: the last bar of a request ending now closes there")
    func endsAtTheCurrentPrice() throws {
        let bars = try Self.minutes(ending: Self.now, price: 190.12, now: Self.now)
        #expect(bars.last?.close == 190.12)
        // Asked a little later at a moved price, the days before keep their shape: scaled by the
        // move, never re-drawn.
        let before = try Self.minutes(ending: Self.day0 + 86_400)
        let moved = try Self.minutes(ending: Self.day0 + 86_400, price: 190.12 * 1.001)
        for (a, b) in zip(before, moved) { #expect(abs(b.close / a.close - 1.001) < 0.0001, "\(a.close) -> \(b.close)") }
    }

    @Test("prices are the doubles nearest their decimals: 187.64, never 187.64000000000001")
    func shortestDecimals() throws {
        let bars = try Self.dayByDay()
        for bar in bars {
            for price in [bar.open, bar.high, bar.low, bar.close] {
                let text = "\(price)"
                let decimals = text.split(separator: ".").dropFirst().first?.count ?? 0
                #expect(decimals <= 2, "\(text)")
            }
        }
        let es = Instrument(symbol: "ESZ6", conId: 1, primaryExchange: "CME", longName: "E-mini S&P 500", startPrice: 5450, volatility: 0.16,
                            tickSize: 0.25)
        #expect(BarHistory.onTick(5450.3, es) == 5450.25)
        #expect(BarHistory.onTick(187.6412, Self.aapl) == 187.64 && "\(BarHistory.onTick(187.6412, Self.aapl))" == "187.64")
    }
}
