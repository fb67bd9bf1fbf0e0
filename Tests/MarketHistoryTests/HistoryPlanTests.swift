import Foundation
import Testing
@testable import MarketHistory

@Suite("History planning")
struct HistoryPlanTests {
    @Test("missing spans are what the covered ones leave; windows respect IB's step sizes, newest first")
    func planning() {
        let day: Int64 = 86_400
        let wanted = TimeSpan(0, 10 * day)
        #expect(TimeSpan.missing(wanted, covered: []) == [wanted])
        #expect(TimeSpan.missing(wanted, covered: [TimeSpan(2 * day, 4 * day), TimeSpan(3 * day, 5 * day), TimeSpan(9 * day, 12 * day)])
                == [TimeSpan(0, 2 * day), TimeSpan(5 * day, 9 * day)])
        #expect(TimeSpan.missing(wanted, covered: [TimeSpan(-day, 11 * day)]).isEmpty)
        let windows = HistoryPlan.windows(for: [TimeSpan(0, 2 * day + 3600)], barSize: "1 min")
        #expect(windows == [TimeSpan(day + 3600, 2 * day + 3600), TimeSpan(3600, day + 3600), TimeSpan(0, 3600)])
        #expect(HistoryPlan.windows(for: [TimeSpan(0, 3 * 3600)], barSize: "5 secs").count == 3)
        #expect(HistoryPlan.windows(for: [TimeSpan(0, 400 * day)], barSize: "1 day").count == 2)
        #expect(HistoryPlan.maxSpan(barSize: "7 mins") == nil)
        #expect(HistoryPlan.duration(of: TimeSpan(0, 3600)) == "3600 S")
        #expect(HistoryPlan.duration(of: TimeSpan(0, day + 1)) == "2 D")
        #expect(HistoryPlan.endText(1_704_067_200) == "20240101-00:00:00")
    }

    @Test("IB's bar dates in UTC: with a zone, a day alone, epoch seconds")
    func barDates() {
        #expect(HistoryPlan.epoch(ofBarDate: "20240102 09:30:00 US/Eastern") == 1_704_205_800)
        #expect(HistoryPlan.epoch(ofBarDate: "20240102") == 1_704_153_600)
        #expect(HistoryPlan.epoch(ofBarDate: "1704205800") == 1_704_205_800)
        #expect(HistoryPlan.epoch(ofBarDate: "not a date") == nil)
        #expect(HistoryPlan.parseDay("2024-01-02") == 1_704_153_600)
        #expect(HistoryPlan.parseDay("2024-01-02 09:30") == 1_704_187_800)
        #expect(HistoryPlan.parseDay("2024-01-02T09:30") == 1_704_187_800)
        #expect(HistoryPlan.parseDay("2024-01-02T09:30:15") == 1_704_187_815)
        #expect(HistoryPlan.parseDay("2024-02-29") == 1_709_164_800)
        #expect(HistoryPlan.parseDay("1850-06-01") == -3_773_779_200)  // out of range is the caller's to say, with the range
        for bad in ["2023-02-29", "2024-13-01", "2024-01-32", "2024-01-02 24:00", "2024-01-02T09:30Z", "1704205800", "2024-1-2",
                    "2024-01-02 09", "", "yesterday", "2024-01-02 09:30:60", "٢٠٢٤-٠١-٠٢"] {
            #expect(HistoryPlan.parseDay(bad) == nil, "\(bad)")
        }
    }

    @Test("UTC times as text agree with Foundation's calendar: leap days, century rules, before 1970")
    func utcText() {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for epoch: Int64 in [0, 951_782_400, 951_868_799, 1_704_205_800, 4_107_542_400, -1, -86_401, -2_208_988_800, 1_709_164_799] {
            #expect(UTCTime.iso(epoch) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch))), "\(epoch)")
        }
        #expect(UTCTime.tws(1_704_205_800) == "20240102 14:30:00")
        #expect(UTCTime.tws(1_704_205_800, zone: true) == "20240102 14:30:00 UTC")
        #expect(UTCTime.tws(1_704_205_800, dateOnly: true) == "20240102")
        #expect(HistoryPlan.endText(1_704_205_800) == "20240102-14:30:00")
        #expect(TimeSpan(1_704_205_800, 1_704_206_100).description == "2024-01-02 14:30 to 2024-01-02 14:35")
    }
}
