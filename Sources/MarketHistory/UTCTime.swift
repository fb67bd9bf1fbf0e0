import TWSProtocol

/// UTC epoch seconds as text, without a formatter (they are not Sendable, and a backtest
/// writes one per fill and per equity row).
public enum UTCTime {
    /// Year, month, day, hour, minute, second (`CivilDate`).
    public static func components(_ epoch: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = CivilDate.floorDivide(epoch, 86_400)
        let seconds = Int(epoch - days * 86_400)
        let date = CivilDate.civil(days)
        return (Int(date.year), Int(date.month), Int(date.day), seconds / 3_600, seconds % 3_600 / 60, seconds % 60)
    }

    /// Epoch seconds of a UTC date and time (the inverse of `components`). The caller keeps
    /// the fields in their ranges (a 4-digit year): no overflow.
    public static func epoch(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400 + Int64(hour) * 3_600 + Int64(minute) * 60
            + Int64(second)
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
