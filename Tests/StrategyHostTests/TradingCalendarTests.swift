import Foundation
import Testing
@testable import StrategyHost

/// TWS's trading hours read into sessions and trading days: both of its spellings, sessions
/// that begin the evening before, closed days, clock changes beyond the listing, and text that
/// is not trading hours at all.
@Suite("Trading calendar")
struct TradingCalendarTests {
    static func utc(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0) -> Int64 {
        TradingCalendar.day(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60
    }

    static func day(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 { TradingCalendar.day(year: year, month: month, day: day) }

    @Test("a stock's regular sessions in New York: each day 09:30 to 16:00 local, closed days and after hours in none")
    func stockSessions() {
        // December: New York is UTC-5.
        let calendar = TradingCalendar(zoneName: "US/Eastern",
                                       hours: "20261202:0930-20261202:1600;20261203:0930-20261203:1600;20261205:CLOSED;20261207:0930-20261207:1600")
        let place = calendar.placement(of: Self.utc(2026, 12, 2, 14, 30))
        #expect(place == TradingCalendar.Placement(day: Self.day(2026, 12, 2), sessionStart: Self.utc(2026, 12, 2, 14, 30),
                                                   sessionEnd: Self.utc(2026, 12, 2, 21)))
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 14, 29)) == nil, "before the open")
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 21)) == nil, "the close is the end, not in the session")
        #expect(calendar.placement(of: Self.utc(2026, 12, 5, 15)) == nil, "a closed day")
        #expect(calendar.close(ofDay: Self.day(2026, 12, 3)) == Self.utc(2026, 12, 3, 21))
    }

    @Test("IB's older spelling (times without dates, several ranges a day) gives the same sessions")
    func olderSpelling() {
        let calendar = TradingCalendar(zoneName: "US/Eastern", hours: "20261202:0400-0930,0930-1600;20261203:CLOSED")
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 10))?.sessionEnd == Self.utc(2026, 12, 2, 14, 30))
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 15))?.sessionStart == Self.utc(2026, 12, 2, 14, 30))
        #expect(calendar.close(ofDay: Self.day(2026, 12, 2)) == Self.utc(2026, 12, 2, 21))
        let second = calendar.placement(of: Self.utc(2026, 12, 2, 15))!
        #expect(calendar.hasEarlierSession(than: second), "the 09:30 session is not the day's first")
        #expect(!calendar.hasEarlierSession(than: calendar.placement(of: Self.utc(2026, 12, 2, 10))!))
    }

    @Test("a futures session from 17:00 the evening before is the next day's, as IB dates it")
    func eveningSessions() {
        // Chicago in December: UTC-6. 17:00 on the 1st is 23:00 UTC; 16:00 on the 2nd is 22:00 UTC.
        let calendar = TradingCalendar(zoneName: "US/Central", hours: "20261201:1700-20261202:1600;20261202:1700-20261203:1600")
        #expect(calendar.placement(of: Self.utc(2026, 12, 1, 23, 30))?.day == Self.day(2026, 12, 2))
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 21, 59))?.day == Self.day(2026, 12, 2))
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 22, 30)) == nil, "the daily hour's break")
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 23))?.day == Self.day(2026, 12, 3))
        // Beyond the listing the pattern goes on: the evening of the 9th is the 10th's session.
        #expect(calendar.placement(of: Self.utc(2026, 12, 9, 23, 30))?.day == Self.day(2026, 12, 10))
        #expect(calendar.close(ofDay: Self.day(2026, 12, 10)) == Self.utc(2026, 12, 10, 22))
    }

    @Test("beyond the listing, sessions keep their local hours across a clock change")
    func clockChangeBeyondTheListing() {
        // Listed in March before New York's change (UTC-5); the 9th is after it (UTC-4).
        let calendar = TradingCalendar(zoneName: "America/New_York", hours: "20260305:0930-20260305:1600")
        let place = calendar.placement(of: Self.utc(2026, 3, 9, 13, 30))
        #expect(place?.sessionStart == Self.utc(2026, 3, 9, 13, 30), "09:30 local is 13:30 UTC after the change")
        #expect(place?.sessionEnd == Self.utc(2026, 3, 9, 20))
        #expect(calendar.placement(of: Self.utc(2026, 3, 9, 20, 30)) == nil)
    }

    @Test("no hours: trading days are the zone's calendar days; UTC when the zone is unknown")
    func noHours() {
        let tokyo = TradingCalendar(zoneName: "JST", hours: "")
        // 16:00 UTC on the 2nd is 01:00 on the 3rd in Tokyo.
        #expect(tokyo.placement(of: Self.utc(2026, 12, 2, 16))?.day == Self.day(2026, 12, 3))
        let unknown = TradingCalendar(zoneName: "Nowhere/Atlantis", hours: "")
        #expect(unknown.zone.secondsFromGMT() == 0, "UTC (Foundation may name it GMT)")
        #expect(unknown.placement(of: Self.utc(2026, 12, 2, 23, 59))?.day == Self.day(2026, 12, 2))
        #expect(TradingCalendar.zone(named: "EST (Eastern Standard Time)")?.identifier == "America/New_York")
        // The bare abbreviations name the same places: the time-zone database's own EST and MST
        // are fixed offsets (New York an hour late all summer).
        #expect(TradingCalendar.zone(named: "EST")?.identifier == "America/New_York")
        #expect(TradingCalendar.zone(named: "MST")?.identifier == "America/Denver")
        #expect(TradingCalendar.zone(named: "est")?.identifier == "America/New_York")
        #expect(TradingCalendar.zone(named: "Europe/Zurich")?.identifier == "Europe/Zurich")
        #expect(TradingCalendar.zone(named: "Etc/GMT+5")?.secondsFromGMT() == -5 * 3600)
    }

    @Test("text that is not trading hours: nothing parsed, nothing trapped", arguments: [
        "garbage", "20261302:0930-20261302:1600", "20261202:2500-20261202:2600", "20261202:1600-20261202:0930",
        "99999999999999999999:0930-1600", "20261202:0930-", ";;;:", "20261231:0930-20270101:9999", String(repeating: "2026", count: 40_000),
    ])
    func malformed(hours: String) {
        let calendar = TradingCalendar(zoneName: "UTC", hours: hours)
        #expect(calendar.sessions.isEmpty, "\(hours.prefix(60))")
        #expect(calendar.placement(of: Self.utc(2026, 12, 2, 12))?.day == Self.day(2026, 12, 2))
    }

    @Test("civil dates and day numbers agree both ways, across leap years and before 1970")
    func civilDates() {
        for day in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let date = TradingCalendar.civil(day)
            #expect(TradingCalendar.day(year: date.year, month: date.month, day: date.day) == day)
        }
        let leap = TradingCalendar.civil(Self.day(2024, 2, 29)), epoch = TradingCalendar.civil(0)
        #expect([leap.year, leap.month, leap.day] == [2024, 2, 29])
        #expect([epoch.year, epoch.month, epoch.day] == [1970, 1, 1])
    }
}
