import Foundation
import Testing
@testable import StrategyHost

/// Live day bars where TWS's 5-second bars are uneven: a window without a trade is a bar of
/// volume 0 at the last price (yesterday's close, the pre-market's), and a fast replay or a
/// quiet open leaves the session's first window without a bar at all.
@Suite("Bar aggregation: quiet windows and a late first bar")
struct BarAggregatorQuietTests {
    typealias T = BarAggregatorTests

    static func quiet(_ start: Int64, _ end: Int64, price: Double) -> [BuiltBar] {
        stride(from: start, to: end, by: 5).map { BuiltBar(time: $0, open: price, high: price, low: price, close: price, volume: 0, wap: price, count: 0) }
    }

    @Test("subscribed before the open, the session's first 5-second bar late: the day is whole, not dropped")
    func lateFirstBar() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: T.newYork, dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        // One pre-market bar at 13:00 UTC (08:00 New York), then nothing until 14:30:05.
        finished += days.add(BuiltBar(time: T.utc(2026, 12, 3, 13), open: 9, high: 9, low: 9, close: 9, volume: 5), seconds: 5)
        for bar in T.fiveSecondBars(T.utc(2026, 12, 3, 14, 30) + 5, T.utc(2026, 12, 3, 21), base: 100) { finished += days.add(bar, seconds: 5) }
        #expect(finished.count == 1, "the day was seen from before its open")
        #expect(finished.first?.time == T.day(2026, 12, 3) * 86400)
        #expect(finished.first?.open == 100)
    }

    @Test("the first bar ever inside the session after its open: that day is left out (its open is unknown)")
    func joinedLate() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: T.newYork, dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        for bar in T.fiveSecondBars(T.utc(2026, 12, 3, 14, 30) + 5, T.utc(2026, 12, 3, 21), base: 100) { finished += days.add(bar, seconds: 5) }
        #expect(finished.isEmpty)
    }

    @Test("windows without a trade give no price: the day opens at its first trade, not at the pre-market's repeated price")
    func quietWindows() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: T.newYork, dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        // Pre-market trades at 500 (outside the session), then 15 quiet minutes at 500, then trades from 100.
        finished += days.add(BuiltBar(time: T.utc(2026, 12, 3, 13), open: 500, high: 500, low: 500, close: 500, volume: 5), seconds: 5)
        for bar in Self.quiet(T.utc(2026, 12, 3, 14, 30), T.utc(2026, 12, 3, 14, 45), price: 500) { finished += days.add(bar, seconds: 5) }
        let traded = T.fiveSecondBars(T.utc(2026, 12, 3, 14, 45), T.utc(2026, 12, 3, 21), base: 100)
        for bar in traded { finished += days.add(bar, seconds: 5) }
        #expect(finished.count == 1)
        let bar = finished.first
        #expect(bar?.open == 100, "the first trade's price")
        #expect(bar?.high == traded.last!.high, "500 never traded in the session")
        #expect(bar?.volume == Double(traded.count * 10))
    }

    @Test("an instrument whose bars never carry volume (an index): its day is made of them")
    func alwaysQuiet() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: T.newYork, dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        finished += days.add(BuiltBar(time: T.utc(2026, 12, 3, 13), open: 1, high: 1, low: 1, close: 1, volume: 0), seconds: 5)
        var price = 4000.0
        for time in stride(from: T.utc(2026, 12, 3, 14, 30), to: T.utc(2026, 12, 3, 21), by: 5) {
            finished += days.add(BuiltBar(time: time, open: price, high: price + 1, low: price - 1, close: price + 0.5, volume: 0), seconds: 5)
            price += 0.5
        }
        #expect(finished.count == 1)
        #expect(finished.first?.open == 4000)
        #expect(finished.first?.close == price)
        #expect(finished.first?.volume == 0)
    }
}
