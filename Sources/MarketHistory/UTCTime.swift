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
        if let text = Layout(date: UInt8(ascii: "-"), between: UInt8(ascii: " "), seconds: seconds).text(c) { return text }
        let time = "\(two(c.hour)):\(two(c.minute))" + (seconds ? ":\(two(c.second))" : "")
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(time)"
    }

    /// `2024-01-02`.
    public static func day(_ epoch: Int64) -> String {
        let c = components(epoch)
        if let text = Layout(date: UInt8(ascii: "-"), between: nil).text(c) { return text }
        return "\(c.year)-\(two(c.month))-\(two(c.day))"
    }

    /// `20240102 14:30:00` as TWS writes execution times, and with ` UTC` its bar dates
    /// (`20240102` alone for daily bars); `separator: "-"` gives `20240102-14:30:00`, an end
    /// time TWS reads as UTC.
    public static func tws(_ epoch: Int64, zone: Bool = false, dateOnly: Bool = false, separator: String = " ") -> String {
        let c = components(epoch)
        if dateOnly || separator.utf8.count == 1, let text = Layout(date: nil, between: dateOnly ? nil : separator.utf8.first, zone: zone).text(c) {
            return text
        }
        let date = "\(c.year)\(two(c.month))\(two(c.day))"
        if dateOnly { return date }
        return "\(date)\(separator)\(two(c.hour)):\(two(c.minute)):\(two(c.second))" + (zone ? " UTC" : "")
    }

    /// A date and time written digit by digit into one string: made by interpolation, each
    /// took six strings (a backtest writes one per fill, `market.history` one per bar). Years of
    /// four digits only; the others are written as before.
    private struct Layout {
        /// Between year, month and day (`-`), or nothing.
        var date: UInt8?
        /// Between the date and the time; nil: the date alone.
        var between: UInt8?
        var seconds = true
        /// ` UTC` at the end.
        var zone = false

        func text(_ c: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)) -> String? {
            guard (1_000...9_999).contains(c.year) else { return nil }
            return String(unsafeUninitializedCapacity: 24) { buffer in
                var at = 0
                func put(_ value: Int, _ width: Int) {
                    var rest = value
                    for place in stride(from: width - 1, through: 0, by: -1) {
                        buffer[at + place] = UInt8(ascii: "0") + UInt8(rest % 10)
                        rest /= 10
                    }
                    at += width
                }
                func put(_ byte: UInt8) {
                    buffer[at] = byte
                    at += 1
                }
                put(c.year, 4)
                if let date { put(date) }
                put(c.month, 2)
                if let date { put(date) }
                put(c.day, 2)
                guard let between else { return at }
                put(between)
                put(c.hour, 2)
                put(UInt8(ascii: ":"))
                put(c.minute, 2)
                if seconds {
                    put(UInt8(ascii: ":"))
                    put(c.second, 2)
                }
                if zone { for byte in " UTC".utf8 { put(byte) } }
                return at
            }
        }
    }
}
