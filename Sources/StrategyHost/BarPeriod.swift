import TWSProtocol

/// What one bar of a subscribed size spans: a fixed number of seconds (a multiple of 5 below
/// a day: "5 secs" to "8 hours"), or a trading calendar's day, week or month. Days, weeks and
/// months follow the instrument's sessions (`TradingCalendar`), not 86,400-second slices of UTC:
/// a futures day that opens at 17:00 the evening before is one bar, and a week is Monday's
/// session to Friday's, whatever the clock changes did.
public enum BarPeriod: Sendable, Hashable {
    case seconds(Int64)
    case day
    case week
    case month

    /// The period of an IB bar size, nil for a size no bar can be built at: below 5 seconds
    /// or not a multiple of 5 (real-time bars come every 5 s), between a day and a week, or
    /// several days, weeks or months (IB has none).
    public init?(size: String) {
        guard let seconds = HistoricalSpan.barSeconds(size, strict: false) else { return nil }
        let unit = size.lowercased().split(separator: " ").last.map(String.init) ?? ""
        switch unit {
        case "day", "days": guard seconds == 86400 else { return nil }; self = .day
        case "week", "weeks": guard seconds == 7 * 86400 else { return nil }; self = .week
        case "month", "months": guard seconds == 30 * 86400 else { return nil }; self = .month
        default:
            guard seconds % 5 == 0, seconds < 86400 else { return nil }
            self = .seconds(Int64(seconds))
        }
    }

    /// What `market.subscribe` says when a size is none of these.
    public static let accepted = "a multiple of 5 seconds below a day (\"5 secs\", \"1 min\", \"4 hours\"), \"1 day\", \"1 week\" or \"1 month\""

    /// Whether bars of `seconds` fit whole in this period's bars (a day of 1-minute bars, a
    /// week of days; not a month of weeks, which straddle months).
    public func canBeBuilt(fromBarsOf seconds: Int) -> Bool {
        guard seconds > 0 else { return false }
        switch self {
        case let .seconds(length): return Int64(seconds) < length && length % Int64(seconds) == 0
        case .day: return seconds < 86400 && 86400 % seconds == 0
        case .week, .month: return seconds <= 86400 && 86400 % seconds == 0
        }
    }

    /// Whether a bar of this period is cut by the trading calendar.
    public var isCalendar: Bool {
        if case .seconds = self { return false }
        return true
    }
}
