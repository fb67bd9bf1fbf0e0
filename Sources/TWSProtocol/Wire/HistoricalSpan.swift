/// IB's spellings of bar sizes ("5 secs", "1 min", "1 day") and durations ("3600 S", "2 D").
public enum HistoricalSpan {
    /// The bar sizes reqHistoricalData accepts.
    public static let barSizes: Set<String> = ["1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins",
                                               "5 mins", "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours",
                                               "4 hours", "8 hours", "1 day", "1 week", "1 month"]

    /// Seconds in a bar size. `strict`: only the sizes IB serves; otherwise any
    /// "N sec(s)/min(s)/hour(s)/day(s)/week(s)/month(s)".
    public static func barSeconds(_ text: String, strict: Bool = true) -> Int? {
        let lowered = text.lowercased()
        if strict && !barSizes.contains(lowered) { return nil }
        let parts = lowered.split(separator: " ")
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        switch parts[1] {
        case "sec", "secs": return count
        case "min", "mins": return count * 60
        case "hour", "hours": return count * 3600
        case "day", "days": return count * 86400
        case "week", "weeks": return count * 7 * 86400
        case "month", "months": return count * 30 * 86400
        default: return nil
        }
    }

    /// Seconds covered by a duration ("3600 S", "1 D", "2 W", "1 M", "1 Y").
    public static func durationSeconds(_ text: String) -> Int? {
        let parts = text.uppercased().split(separator: " ")
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        switch parts[1] {
        case "S": return count
        case "D": return count * 86400
        case "W": return count * 7 * 86400
        case "M": return count * 30 * 86400
        case "Y": return count * 365 * 86400
        default: return nil
        }
    }

    /// The shortest duration spelling IB accepts for `seconds`.
    public static func durationText(_ seconds: Int) -> String {
        seconds % 86400 == 0 ? "\(seconds / 86400) D" : (seconds <= 86400 ? "\(seconds) S" : "\((seconds + 86399) / 86400) D")
    }
}
