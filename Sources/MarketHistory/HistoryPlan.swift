import Foundation

/// How a span of history is asked of TWS: in windows no longer than IB serves for the bar
/// size (its step-size table), each with an explicit UTC end, newest first.
public enum HistoryPlan {
    /// The longest span IB serves in one request for `barSize` (seconds), or nil for a bar
    /// size IB does not have.
    public static func maxSpan(barSize: String) -> Int64? {
        let day: Int64 = 86_400
        switch barSize.lowercased() {
        case "1 secs": return 1_800
        case "5 secs": return 3_600
        case "10 secs", "15 secs": return 14_400
        case "30 secs": return 28_800
        case "1 min": return day
        case "2 mins": return 2 * day
        case "3 mins", "5 mins", "10 mins", "15 mins", "20 mins": return 7 * day
        case "30 mins", "1 hour", "2 hours", "3 hours", "4 hours", "8 hours": return 30 * day
        case "1 day", "1 week", "1 month": return 365 * day
        default: return nil
        }
    }

    /// The windows that cover `missing`, newest first (IB serves recent data fastest, and a
    /// download interrupted keeps the most recent part).
    public static func windows(for missing: [TimeSpan], barSize: String) -> [TimeSpan] {
        guard let step = maxSpan(barSize: barSize) else { return [] }
        var windows: [TimeSpan] = []
        for span in missing.sorted(by: { $0.end > $1.end }) {
            var end = span.end
            while end > span.start {
                let start = max(span.start, end - step)
                windows.append(TimeSpan(start, end))
                end = start
            }
        }
        return windows
    }

    /// IB's duration for a window: seconds up to a day, else whole days (the extra is trimmed).
    public static func duration(of window: TimeSpan) -> String {
        let seconds = window.end - window.start
        return seconds <= 86_400 ? "\(max(seconds, 1)) S" : "\((seconds + 86_399) / 86_400) D"
    }

    /// `yyyyMMdd-HH:mm:ss` in UTC: an end IB reads without a time zone.
    public static func endText(_ epoch: Int64) -> String { UTCTime.tws(epoch, separator: "-") }

    /// A bar's time as IB writes it (`20240102 09:30:00 US/Eastern`, `20240102`, or epoch
    /// seconds) in UTC epoch seconds; a day alone is that day at 00:00 UTC.
    public static func epoch(ofBarDate text: String) -> Int64? {
        let parts = text.split(separator: " ").map(String.init)
        if parts.count == 1, let seconds = Int64(parts[0]), parts[0].count > 8 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        if parts.count == 1 {
            formatter.dateFormat = "yyyyMMdd"
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.date(from: parts[0]).map { Int64($0.timeIntervalSince1970) }
        }
        guard parts.count >= 2 else { return nil }
        formatter.dateFormat = "yyyyMMdd HH:mm:ss"
        formatter.timeZone = parts.count >= 3 ? (TimeZone(identifier: parts[2]) ?? TimeZone(identifier: "UTC")) : TimeZone(identifier: "UTC")
        return formatter.date(from: parts[0] + " " + parts[1]).map { Int64($0.timeIntervalSince1970) }
    }

    /// Reads many bar times as IB writes them (the forms of `epoch(ofBarDate:)`, same results)
    /// without a `DateFormatter` per bar: the digits by hand, each time zone looked up once.
    /// A download of a year of 1-minute bars converts hundreds of thousands of them.
    public struct BarDateReader {
        private var zones: [Substring: TimeZone] = [:]

        public init() {}

        public mutating func epoch(_ text: String) -> Int64? {
            var text = text
            return text.withUTF8 { bytes -> Int64? in
                // `yyyyMMdd HH:mm:ss` then optionally ` ZONE`; anything else goes the slow way.
                guard bytes.count >= 17, bytes[8] == UInt8(ascii: " "), bytes[11] == UInt8(ascii: ":"), bytes[14] == UInt8(ascii: ":"),
                      let year = Self.digits(bytes, 0, 4), let month = Self.digits(bytes, 4, 2), let day = Self.digits(bytes, 6, 2),
                      let hour = Self.digits(bytes, 9, 2), let minute = Self.digits(bytes, 12, 2), let second = Self.digits(bytes, 15, 2),
                      (1...12).contains(month), day >= 1, day <= Self.days(month, year), hour <= 23, minute <= 59, second <= 59
                else { return HistoryPlan.epoch(ofBarDate: String(decoding: bytes, as: UTF8.self)) }
                let local = UTCTime.epoch(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
                if bytes.count == 17 { return local }
                guard bytes[17] == UInt8(ascii: " "), bytes.count > 18 else { return HistoryPlan.epoch(ofBarDate: String(decoding: bytes, as: UTF8.self)) }
                let name = Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[18...]), as: UTF8.self))
                if name.contains(" ") { return HistoryPlan.epoch(ofBarDate: String(decoding: bytes, as: UTF8.self)) }
                let zone: TimeZone
                if let known = zones[name] {
                    zone = known
                } else {
                    zone = TimeZone(identifier: String(name)) ?? TimeZone(identifier: "UTC")!
                    zones[name] = zone
                }
                // The offset at the local time read as UTC, then at the instant that gives:
                // right everywhere but inside a clock change's hour, which the slow way decides.
                let first = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
                let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - first))))
                if offset != first { return HistoryPlan.epoch(ofBarDate: String(decoding: bytes, as: UTF8.self)) }
                return local - offset
            }
        }

        private static func days(_ month: Int, _ year: Int) -> Int {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        }

        private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
            var value = 0
            for index in at..<at + count {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
    }

    /// `2024-01-31` (UTC midnight) or `2024-01-31T14:30` / `2024-01-31 14:30:00` (UTC).
    /// Read as the CSV reader reads these times (no date formatter: loading ICU's calendar
    /// data was a good part of a short command's start).
    public static func parseDay(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { bytes in
            bytes.last == UInt8(ascii: "Z") ? nil : BarCSVParser.calendarTime(UnsafeRawBufferPointer(bytes))
        }
    }
}
