import ArgumentParser
import TWSProtocol

/// `--bar`, checked where a command starts: a size nobody can mean is a usage error (exit 64)
/// that lists the sizes there are, not a run that finds no bars (or a backtest of nothing).
enum BarSizeOption {
    /// IB's bar sizes, shortest first: `1 secs, 5 secs, ..., 1 week, 1 month`.
    static let ibSizes: String = HistoricalSpan.barSizes
        .sorted { (HistoricalSpan.barSeconds($0) ?? 0) < (HistoricalSpan.barSeconds($1) ?? 0) }
        .joined(separator: ", ")

    /// Seconds in `text`, or a `ValidationError` naming the option, the value and IB's sizes.
    /// `strict`: only IB's sizes (what TWS serves and `history import` stores); otherwise
    /// also any "N secs/mins/hours/days/weeks/months" (a store may hold bars made elsewhere).
    @discardableResult
    static func check(_ text: String, _ option: String = "--bar", strict: Bool = true) throws -> Int {
        guard let seconds = HistoricalSpan.barSeconds(text, strict: strict) else {
            throw ValidationError(message(text, option, strict: strict))
        }
        return seconds
    }

    /// `--bar 'x' is not one of IB's bar sizes (1 secs, ..., 1 month)`.
    static func message(_ text: String, _ option: String = "--bar", strict: Bool = true) -> String {
        "\(option) '\(ShownText.shown(text))' is not " + (strict ? "one of IB's bar sizes (\(ibSizes))"
            : "a bar size: one of IB's (\(ibSizes)) or N secs, mins, hours, days or weeks")
    }
}
