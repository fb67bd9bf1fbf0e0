import Foundation
import Testing
@testable import MarketHistory

/// The times written digit by digit read exactly as the same fields written by formatting,
/// at every edge of the four-digit years they cover and outside them.
@Suite("UTC times as text")
struct UTCTimeTextTests {
    /// What each layout must read, from the fields, with the C formatter as the oracle.
    static func expected(_ epoch: Int64) -> (tws: String, twsZone: String, twsDash: String, twsDay: String, iso: String, isoMinute: String, day: String) {
        let c = UTCTime.components(epoch)
        let date = c.year >= 1_000 && c.year <= 9_999 ? String(format: "%04d%02d%02d", c.year, c.month, c.day)
            : "\(c.year)" + String(format: "%02d%02d", c.month, c.day)
        let dashed = c.year >= 1_000 && c.year <= 9_999 ? String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
            : "\(c.year)" + String(format: "-%02d-%02d", c.month, c.day)
        let time = String(format: "%02d:%02d:%02d", c.hour, c.minute, c.second)
        return (date + " " + time, date + " " + time + " UTC", date + "-" + time, date, dashed + " " + time, dashed + " " + time.prefix(5),
                dashed)
    }

    static func check(_ epoch: Int64) {
        let want = expected(epoch)
        #expect(UTCTime.tws(epoch) == want.tws, "epoch \(epoch)")
        #expect(UTCTime.tws(epoch, zone: true) == want.twsZone, "epoch \(epoch)")
        #expect(UTCTime.tws(epoch, separator: "-") == want.twsDash, "epoch \(epoch)")
        #expect(UTCTime.tws(epoch, zone: true, dateOnly: true) == want.twsDay, "epoch \(epoch)")
        #expect(UTCTime.iso(epoch) == want.iso, "epoch \(epoch)")
        #expect(UTCTime.iso(epoch, seconds: false) == want.isoMinute, "epoch \(epoch)")
        #expect(UTCTime.day(epoch) == want.day, "epoch \(epoch)")
    }

    @Test("edges: the epoch, the first and last second of years 1000 and 9999, the years beyond, before 1970")
    func edges() {
        let firstOf1000 = UTCTime.epoch(year: 1_000, month: 1, day: 1)
        let lastOf9999 = UTCTime.epoch(year: 9_999, month: 12, day: 31, hour: 23, minute: 59, second: 59)
        for epoch in [0, -1, 1, 59, 86_399, 86_400, 951_782_400, 1_704_205_800, firstOf1000 - 1, firstOf1000, lastOf9999, lastOf9999 + 1,
                      UTCTime.epoch(year: 1, month: 1, day: 1), UTCTime.epoch(year: 99_999, month: 6, day: 30, hour: 12)] as [Int64]
        {
            Self.check(epoch)
        }
        #expect(UTCTime.tws(1_704_205_800) == "20240102 14:30:00")
        #expect(UTCTime.tws(1_704_205_800, zone: true, dateOnly: true) == "20240102")
    }

    @Test("100,000 times spread over years 1000 to 9999, at every time of day, read as formatted")
    func spread() {
        let low = UTCTime.epoch(year: 1_000, month: 1, day: 1), high = UTCTime.epoch(year: 9_999, month: 12, day: 31)
        let step = (high - low) / 100_000
        for i in 0..<Int64(100_000) { Self.check(low + i * step + i * 7_919 % 86_400) }
    }

    @Test("a separator of more than one byte is written as given")
    func longSeparator() {
        #expect(UTCTime.tws(1_704_205_800, separator: " at ") == "20240102 at 14:30:00")
        #expect(UTCTime.tws(1_704_205_800, separator: "") == "2024010214:30:00")
    }
}
