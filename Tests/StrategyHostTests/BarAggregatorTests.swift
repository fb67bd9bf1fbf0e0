import Foundation
import Testing
@testable import StrategyHost

/// Bars of any size built from shorter ones, as live runs (from 5-second bars) and backtests
/// (from stored bars) build them: finished with their last part, cut by the sessions.
@Suite("Bar aggregation")
struct BarAggregatorTests {
    static func utc(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0) -> Int64 {
        TradingCalendarTests.utc(year, month, day, hour, minute)
    }

    static func day(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 { TradingCalendarTests.day(year, month, day) }
    static let newYork = TradingCalendar(zoneName: "US/Eastern", hours: "20261202:0930-20261202:1600;20261203:0930-20261203:1600;20261204:0930-20261204:1600")

    /// 5-second bars from `start` to `end` (exclusive); the price climbs a cent a bar from `base`.
    static func fiveSecondBars(_ start: Int64, _ end: Int64, base: Double) -> [BuiltBar] {
        stride(from: start, to: end, by: 5).enumerated().map { index, time in
            let price = base + Double(index) * 0.01
            return BuiltBar(time: time, open: price, high: price + 0.05, low: price - 0.05, close: price + 0.01, volume: 10, wap: price, count: 2)
        }
    }

    @Test("a live day bar: the session's first 5-second bar to its last, finished by the last; the day the run began in left out")
    func liveDay() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: Self.newYork, dropsPartialFirst: true)
        // Subscribed at 15:00 UTC on the 2nd: half a session, then after hours.
        for bar in Self.fiveSecondBars(Self.utc(2026, 12, 2, 15), Self.utc(2026, 12, 2, 22), base: 50) {
            #expect(days.add(bar, seconds: 5).isEmpty, "a day begun before the subscription is not a day's bar")
        }
        // The 3rd: pre-market bars belong to no day; the session is one bar.
        var finished: [BuiltBar] = []
        for bar in Self.fiveSecondBars(Self.utc(2026, 12, 3, 13), Self.utc(2026, 12, 3, 14, 30), base: 10) {
            finished += days.add(bar, seconds: 5)
        }
        let session = Self.fiveSecondBars(Self.utc(2026, 12, 3, 14, 30), Self.utc(2026, 12, 3, 21), base: 100)
        for (index, bar) in session.enumerated() {
            let out = days.add(bar, seconds: 5)
            #expect(out.isEmpty == (index < session.count - 1), "finished by the session's last bar, at \(index)")
            finished += out
        }
        #expect(finished.count == 1)
        let bar = finished.first
        #expect(bar?.time == Self.day(2026, 12, 3) * 86400, "dated as IB dates a daily bar: the day at 00:00 UTC")
        #expect(bar?.open == 100)
        #expect(bar?.close == session.last!.close)
        #expect(bar?.high == session.last!.high)
        #expect(abs((bar?.low ?? 0) - 99.95) < 1e-9)
        #expect(bar?.volume == Double(session.count * 10))
        #expect(bar?.count == session.count * 2)
        let wap = session.map { $0.wap! }.reduce(0, +) / Double(session.count)
        #expect(abs((bar?.wap ?? 0) - wap) < 1e-9)
        // After the close, bars of the same date change nothing.
        for late in Self.fiveSecondBars(Self.utc(2026, 12, 3, 21), Self.utc(2026, 12, 3, 21, 5), base: 1) {
            #expect(days.add(late, seconds: 5).isEmpty)
        }
    }

    @Test("a live day that began before the subscription's first bar came is a whole day")
    func liveDayFromTheOpen() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: Self.newYork, dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        for bar in Self.fiveSecondBars(Self.utc(2026, 12, 2, 14, 30), Self.utc(2026, 12, 2, 21), base: 100) {
            finished += days.add(bar, seconds: 5)
        }
        #expect(finished.map(\.time) == [Self.day(2026, 12, 2) * 86400])
    }

    @Test("a day whose last bars never come is finished by the next day's first")
    func dayFinishedByTheNext() {
        var days = BarAggregator(size: "1 day", period: .day, calendar: Self.newYork)
        var finished: [BuiltBar] = []
        finished += Self.fiveSecondBars(Self.utc(2026, 12, 2, 14, 30), Self.utc(2026, 12, 2, 15), base: 100).flatMap { days.add($0, seconds: 5) }
        #expect(finished.isEmpty)
        finished += days.add(BuiltBar(time: Self.utc(2026, 12, 3, 14, 30), open: 1, high: 1, low: 1, close: 1), seconds: 5)
        #expect(finished.map(\.time) == [Self.day(2026, 12, 2) * 86400])
        #expect(finished.first?.close == 100 + 0.01 * 359 + 0.01)
    }

    @Test("minutes from 5-second bars: finished by the twelfth, the first one too (as before)")
    func minutes() {
        var minutes = BarAggregator(size: "1 min", period: .seconds(60))
        let bars = Self.fiveSecondBars(Self.utc(2026, 12, 2, 14, 30), Self.utc(2026, 12, 2, 14, 32), base: 100)
        let out = bars.map { minutes.add($0, seconds: 5) }
        #expect(out.enumerated().filter { !$0.element.isEmpty }.map(\.offset) == [11, 23])
        #expect(out[11].first?.open == 100)
        #expect(out[11].first?.time == Self.utc(2026, 12, 2, 14, 30))
    }

    @Test("weeks from daily bars in a backtest: Monday's date, finished by Friday's bar when the next is Monday's")
    func weeksFromDays() {
        var weeks = BarAggregator(size: "1 week", period: .week)
        // Weekdays from Monday 30 November to Friday 11 December 2026.
        let days = (0..<12).map { Self.day(2026, 11, 30) + Int64($0) }.filter { (($0 + 3) % 7) < 5 }
        let bars = days.enumerated().map { index, day in
            BuiltBar(time: day * 86400, open: Double(100 + index), high: Double(110 + index), low: Double(90 + index), close: Double(101 + index), volume: 1000)
        }
        var finishedAt: [Int] = []
        var finished: [BuiltBar] = []
        for (index, bar) in bars.enumerated() {
            let next: Int64? = index + 1 < bars.count ? bars[index + 1].time : nil
            let out = weeks.add(bar, seconds: 86400, next: .some(next))
            if !out.isEmpty { finishedAt.append(index) }
            finished += out
        }
        #expect(finishedAt == [4], "the first week with its Friday; the second waits for a bar that never comes")
        #expect(finished.first == BuiltBar(time: Self.day(2026, 11, 30) * 86400, open: 100, high: 114, low: 90, close: 105, volume: 5000))
    }

    @Test("months from daily bars: November finished by its 30th, dated the 1st")
    func monthsFromDays() {
        var months = BarAggregator(size: "1 month", period: .month)
        let bars = (0..<40).map { BuiltBar(time: (Self.day(2026, 11, 1) + Int64($0)) * 86400, open: 1, high: Double($0), low: 0, close: Double($0)) }
        var out: [(Int, BuiltBar)] = []
        for (index, bar) in bars.enumerated() {
            out += months.add(bar, seconds: 86400, next: .some(index + 1 < bars.count ? bars[index + 1].time : nil)).map { (index, $0) }
        }
        #expect(out.map(\.0) == [29])
        #expect(out.first?.1.time == Self.day(2026, 11, 1) * 86400)
        #expect(out.first?.1.close == 29)
    }

    @Test("a live week ends with Friday's close when TWS lists the days after it")
    func liveWeek() {
        let listing = (7...14).map { day -> String in
            let date = "202612\(String(format: "%02d", day))"
            return [12, 13].contains(day) ? "\(date):CLOSED" : "\(date):0930-\(date):1600"
        }.joined(separator: ";")
        var weeks = BarAggregator(size: "1 week", period: .week, calendar: TradingCalendar(zoneName: "US/Eastern", hours: listing), dropsPartialFirst: true)
        var finished: [BuiltBar] = []
        for day in 7...11 {
            for bar in Self.fiveSecondBars(Self.utc(2026, 12, Int64(day), 14, 30), Self.utc(2026, 12, Int64(day), 21), base: Double(day)) {
                finished += weeks.add(bar, seconds: 5)
            }
        }
        #expect(finished.map(\.time) == [Self.day(2026, 12, 7) * 86400], "Monday's open to Friday's close, finished at it")
        #expect(finished.first?.open == 7)
    }

    @Test("numbers from outside: times past any calendar are no bar, counts saturate")
    func outsideNumbers() {
        var minutes = BarAggregator(size: "1 min", period: .seconds(60))
        #expect(minutes.add(BuiltBar(time: .max, open: 1, high: 1, low: 1, close: 1), seconds: 5).isEmpty)
        #expect(minutes.add(BuiltBar(time: .min, open: 1, high: 1, low: 1, close: 1), seconds: 5).isEmpty)
        var days = BarAggregator(size: "1 day", period: .day)
        _ = days.add(BuiltBar(time: 0, open: 1, high: 1, low: 1, close: 1, count: .max), seconds: 60, next: .some(.max))
        let out = days.add(BuiltBar(time: 60, open: 1, high: 1, low: 1, close: 1, count: 5), seconds: 60, next: .some(86400))
        #expect(out.first?.count == .max)
    }

    @Test("IB's bar sizes and no others", arguments: [
        ("5 secs", BarPeriod.seconds(5)), ("1 min", .seconds(60)), ("4 hours", .seconds(14400)), ("8 hours", .seconds(28800)),
        ("1 day", .day), ("1 week", .week), ("1 month", .month), ("1 DAY", .day),
    ])
    func periods(size: String, period: BarPeriod) {
        #expect(BarPeriod(size: size) == period)
    }

    @Test("sizes no bar can be built at are refused", arguments: ["1 secs", "7 secs", "24 hours", "2 days", "2 weeks", "3 months", "1 year", "0 min", "-5 secs", ""])
    func refusedSizes(size: String) {
        #expect(BarPeriod(size: size) == nil)
    }
}
