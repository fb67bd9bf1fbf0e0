/// What a bar's numbers may be wherever bars come in from outside Moonwire (a CSV file, a bar
/// store another tool wrote): the CSV import refuses a line past these bounds and the replaying
/// paper gateway skips such a bar, so what one accepts the other can replay. The bounds are far
/// beyond any real market and far from where a conversion or a sum could overflow.
public enum BarBounds {
    /// Bar times, UTC epoch seconds: 1900-01-01 00:00:00 to 9999-12-31 23:59:59.
    public static let earliest: Int64 = -2_208_988_800
    public static let latest: Int64 = 253_402_300_799
    /// A price (open, high, low, close, wap) above a trillion is a broken file, not a market.
    public static let maxPrice = 1e12
    /// A volume above a quadrillion in one bar likewise.
    public static let maxVolume = 1e15
    /// TWS's "not available" for volume, wap and count (MIDPOINT and BID_ASK bars carry it, and
    /// the bar store keeps it as TWS sent it): accepted where a value may be missing.
    public static let notAvailable = -1.0

    /// Why `time` cannot be a bar's time, or nil.
    public static func timeProblem(_ time: Int64) -> String? {
        if time < earliest { return "is before 1900-01-01" }
        if time > latest {
            // 13 digits are usually epoch milliseconds: say so rather than guess.
            let seconds = time / 1000
            return seconds >= earliest && seconds <= latest ? "is past 9999-12-31 (epoch milliseconds? give epoch seconds)" : "is past 9999-12-31"
        }
        return nil
    }

    /// Why `value` cannot be a price (open, high, low, close), or nil.
    public static func priceProblem(_ value: Double) -> String? {
        guard value.isFinite else { return "is not a finite number" }
        if value < 0 { return "is negative" }
        if value > maxPrice { return "is above 1e12 (not a price)" }
        return nil
    }

    /// Why `value` cannot be a bar's volume, or nil (-1: not available).
    public static func volumeProblem(_ value: Double) -> String? {
        guard value.isFinite else { return "is not a finite number" }
        if value < 0 && value != notAvailable { return "is negative" }
        if value > maxVolume { return "is above 1e15 (not a volume)" }
        return nil
    }

    /// Why `value` cannot be a bar's average price (wap), or nil (-1: not available).
    public static func wapProblem(_ value: Double) -> String? {
        value == notAvailable ? nil : priceProblem(value)
    }

    /// Why `count` cannot be a bar's trade count, or nil (-1: not available).
    public static func countProblem(_ count: Int) -> String? {
        count < -1 ? "is negative" : nil
    }

    /// Why the four prices, each fine alone, do not make a bar: the high must be the highest
    /// and the low the lowest.
    public static func rangeProblem(open: Double, high: Double, low: Double, close: Double) -> String? {
        guard high >= max(open, close, low), low <= min(open, close) else {
            return "high \(high) and low \(low) do not contain open \(open) and close \(close)"
        }
        return nil
    }

    /// The first reason a whole bar is unusable, naming the field (`volume inf is not a finite
    /// number`), or nil. `volume` nil: none given.
    public static func problem(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double?) -> String? {
        if let why = timeProblem(time) { return "time \(time) \(why)" }
        // One by one, not a loop over an array of them: a backtest checks every stored bar.
        if let why = priceProblem(open) { return "open \(open) \(why)" }
        if let why = priceProblem(high) { return "high \(high) \(why)" }
        if let why = priceProblem(low) { return "low \(low) \(why)" }
        if let why = priceProblem(close) { return "close \(close) \(why)" }
        if let volume, let why = volumeProblem(volume) { return "volume \(volume) \(why)" }
        return rangeProblem(open: open, high: high, low: low, close: close)
    }
}
