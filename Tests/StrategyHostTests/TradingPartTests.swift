import Foundation
import Testing
import TWSProtocol
@testable import StrategyHost

/// Which part of a span can hold trading (`TradingCalendar.tradingPart`): what a backtest
/// reports as a gap in its data. A weekend or a night holds none; a weekday's session does.
@Suite("Trading part of a span")
struct TradingPartTests {
    static func utc(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0) -> Int64 {
        TradingCalendarTests.utc(year, month, day, hour, minute)
    }

    @Test("the days of the week: 1970-01-01 a Thursday, 2026-10-31 a Saturday, and days before 1970")
    func weekdays() {
        #expect(CivilDate.weekday(0) == 4)
        #expect(CivilDate.weekday(TradingCalendar.day(year: 2026, month: 10, day: 31)) == 6)
        #expect(CivilDate.weekday(TradingCalendar.day(year: 2026, month: 11, day: 1)) == 0)
        #expect(CivilDate.weekday(-1) == 3, "1969-12-31 was a Wednesday")
        #expect(CivilDate.weekday(-7) == 4)
        #expect(BarAggregator.week(of: TradingCalendar.day(year: 2026, month: 11, day: 1)).lowerBound
                == TradingCalendar.day(year: 2026, month: 10, day: 26), "a Sunday belongs to the week of the Monday before")
    }

    @Test("UTC days: a Saturday and Sunday hold nothing; a span reaching into Monday is Monday")
    func utcWeekend() {
        let calendar = TradingCalendar.utc
        #expect(calendar.tradingPart(from: Self.utc(2026, 10, 31), to: Self.utc(2026, 11, 2)) == nil, "Saturday and Sunday")
        let monday = calendar.tradingPart(from: Self.utc(2026, 10, 31), to: Self.utc(2026, 11, 3))
        #expect(monday?.start == Self.utc(2026, 11, 2) && monday?.end == Self.utc(2026, 11, 3))
        let friday = calendar.tradingPart(from: Self.utc(2026, 10, 30, 12), to: Self.utc(2026, 11, 2))
        #expect(friday?.start == Self.utc(2026, 10, 30, 12) && friday?.end == Self.utc(2026, 10, 31), "Friday afternoon, not the weekend")
        #expect(calendar.tradingPart(from: 5, to: 5) == nil, "an empty span")
    }

    @Test("New York's regular session: nights, weekends and a Friday evening hold nothing; a session is cut to the span")
    func newYork() {
        // 2026-11-02 onward New York is UTC-5 (summer time ended 2026-11-01).
        let calendar = TradingCalendar(zoneName: "US/Eastern", hours: "19700105:0930-19700105:1600")
        #expect(calendar.tradingPart(from: Self.utc(2026, 11, 6, 21), to: Self.utc(2026, 11, 9, 14, 30)) == nil,
                "Friday's close to Monday's open")
        #expect(calendar.tradingPart(from: Self.utc(2026, 11, 3, 21), to: Self.utc(2026, 11, 4, 14)) == nil, "a night")
        let monday = calendar.tradingPart(from: Self.utc(2026, 11, 6, 21), to: Self.utc(2026, 11, 9, 15))
        #expect(monday?.start == Self.utc(2026, 11, 9, 14, 30) && monday?.end == Self.utc(2026, 11, 9, 15), "Monday's first half hour")
        let week = calendar.tradingPart(from: Self.utc(2026, 11, 7), to: Self.utc(2026, 11, 14))
        #expect(week?.start == Self.utc(2026, 11, 9, 14, 30) && week?.end == Self.utc(2026, 11, 13, 21), "Monday's open to Friday's close")
    }

    @Test("a future's session from the evening before: Sunday evening is Monday's trading")
    func sundayEvening() {
        let calendar = TradingCalendar(zoneName: "US/Central", hours: "19700104:1700-19700105:1600")
        // Sunday 2026-11-08 17:00 Chicago is 23:00 UTC.
        let part = calendar.tradingPart(from: Self.utc(2026, 11, 7), to: Self.utc(2026, 11, 9))
        #expect(part?.start == Self.utc(2026, 11, 8, 23) && part?.end == Self.utc(2026, 11, 9))
        #expect(calendar.tradingPart(from: Self.utc(2026, 11, 7), to: Self.utc(2026, 11, 8, 22)) == nil, "Saturday and Sunday afternoon")
    }

    @Test("years of span: the first and last trading are found near the ends; edges of time do not trap")
    func longSpans() {
        let calendar = TradingCalendar(zoneName: "US/Eastern", hours: "19700105:0930-19700105:1600")
        let years = calendar.tradingPart(from: Self.utc(2020, 1, 4), to: Self.utc(2026, 1, 4))
        #expect(years?.start == Self.utc(2020, 1, 6, 14, 30), "Monday 2020-01-06's open")
        #expect(years?.end == Self.utc(2026, 1, 2, 21), "Friday 2026-01-02's close")
        let wide = TradingCalendar.utc.tradingPart(from: -(1 << 40), to: 1 << 40)
        #expect(wide != nil)
    }
}
