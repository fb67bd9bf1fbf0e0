/// UTC epoch seconds as text, without a formatter (they are not Sendable, and a backtest
/// writes one per fill and per equity row).
public enum UTCTime {
    /// Year, month, day, hour, minute, second (days from the civil calendar algorithm of
    /// Howard Hinnant's `civil_from_days`).
    public static func components(_ epoch: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = epoch >= 0 ? epoch / 86_400 : (epoch - 86_399) / 86_400
        let seconds = Int(epoch - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day, seconds / 3_600, seconds % 3_600 / 60, seconds % 60)
    }

    /// Epoch seconds of a UTC date and time (Hinnant's `days_from_civil`, the inverse of
    /// `components`). The caller keeps the fields in their ranges (a 4-digit year): no overflow.
    public static func epoch(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour) * 3_600 + Int64(minute) * 60 + Int64(second)
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `2024-01-02 14:30:00`.
    public static func iso(_ epoch: Int64, seconds: Bool = true) -> String {
        let c = components(epoch)
        let time = "\(two(c.hour)):\(two(c.minute))" + (seconds ? ":\(two(c.second))" : "")
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(time)"
    }

    /// `2024-01-02`.
    public static func day(_ epoch: Int64) -> String {
        let c = components(epoch)
        return "\(c.year)-\(two(c.month))-\(two(c.day))"
    }

    /// `20240102 14:30:00` as TWS writes execution times, and with ` UTC` its bar dates
    /// (`20240102` alone for daily bars); `separator: "-"` gives `20240102-14:30:00`, an end
    /// time TWS reads as UTC.
    public static func tws(_ epoch: Int64, zone: Bool = false, dateOnly: Bool = false, separator: String = " ") -> String {
        let c = components(epoch)
        let date = "\(c.year)\(two(c.month))\(two(c.day))"
        if dateOnly { return date }
        return "\(date)\(separator)\(two(c.hour)):\(two(c.minute)):\(two(c.second))" + (zone ? " UTC" : "")
    }
}
