/// IB's spellings of bar sizes ("5 secs", "1 min", "1 day") and durations ("3600 S", "2 D").
public enum HistoricalSpan {
    /// The bar sizes reqHistoricalData accepts.
    public static let barSizes: Set<String> = ["1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins",
                                               "5 mins", "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours",
                                               "4 hours", "8 hours", "1 day", "1 week", "1 month"]

    /// The longest bar size the lenient spelling accepts (a year); IB's longest is a month.
    public static let maxBarSeconds = 366 * 86400
    /// The longest duration accepted (100 years): longer is no request anyone means, and every
    /// later `end - duration` stays far from overflowing.
    public static let maxDurationSeconds = 100 * 365 * 86400

    /// Seconds in a bar size. `strict`: only the sizes IB serves; otherwise any
    /// "N sec(s)/min(s)/hour(s)/day(s)/week(s)/month(s)" up to `maxBarSeconds`.
    public static func barSeconds(_ text: String, strict: Bool = true) -> Int? {
        let lowered = text.lowercased()
        if strict && !barSizes.contains(lowered) { return nil }
        let units = ["sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400,
                     "week": 7 * 86400, "weeks": 7 * 86400, "month": 30 * 86400, "months": 30 * 86400]
        return seconds(lowered, units: units, max: maxBarSeconds)
    }

    /// Seconds covered by a duration ("3600 S", "1 D", "2 W", "1 M", "1 Y"), up to `maxDurationSeconds`.
    public static func durationSeconds(_ text: String) -> Int? {
        let units = ["S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400]
        return seconds(text.uppercased(), units: units, max: maxDurationSeconds)
    }

    /// "COUNT UNIT" in seconds: nil when it is not that form, or when it is past `max` (text and
    /// CLI options reach here: "99999999999999999 Y" must not overflow, so the product is checked).
    private static func seconds(_ text: String, units: [String: Int], max: Int) -> Int? {
        guard text.utf8.count <= 32 else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let count = Int(parts[0]), count > 0, let unit = units[String(parts[1])] else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow || seconds > max ? nil : seconds
    }

    /// The shortest duration spelling IB accepts for `seconds`.
    public static func durationText(_ seconds: Int) -> String {
        // Rounds up to whole days without `seconds + 86399`, which overflows near Int.max.
        seconds % 86400 == 0 ? "\(seconds / 86400) D" : (seconds <= 86400 ? "\(seconds) S" : "\(seconds / 86400 + 1) D")
    }
}
