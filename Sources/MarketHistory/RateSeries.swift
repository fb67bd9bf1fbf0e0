/// What one unit of a currency was worth in the base currency over time, from stored bars of
/// the pair: BASE.CUR's close C gives 1/C, CUR.BASE's close C gives C. A point counts from its
/// bar's time, as the instrument's own bars are marked at their close in that bar.
public struct RateSeries: Sendable {
    /// The currency converted (JPY).
    public let currency: String
    /// The base it is converted to (USD).
    public let base: String
    /// The stored series the rates come from (`USD.JPY 1 min MIDPOINT`).
    public let source: BarSeries
    /// In time order: one unit of `currency` is `toBase` of `base` from `time` on.
    public let points: [(time: Int64, toBase: Double)]

    public init(currency: String, base: String, source: BarSeries, points: [(time: Int64, toBase: Double)]) {
        self.currency = currency.uppercased()
        self.base = base.uppercased()
        self.source = source
        self.points = points.sorted { $0.time < $1.time }
    }

    /// The rate of the latest point at or before `time`; nil before the first point (never a
    /// guess: the caller says so rather than count the currency 1:1).
    public func rate(at time: Int64) -> Double? {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].time <= time { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : points[low - 1].toBase
    }

    /// The first time a rate is known.
    public var start: Int64? { points.first?.time }

    /// The pair keys a rate of `currency` in `base` is looked for under: BASE.CUR, then CUR.BASE.
    public static func pairKeys(currency: String, base: String) -> [(key: String, inverted: Bool)] {
        let currency = currency.uppercased(), base = base.uppercased()
        return [("\(base).\(currency)", true), ("\(currency).\(base)", false)]
    }

    /// How far before `span` the last rate is looked for: a weekend and a holiday (forex does
    /// not trade from Friday evening to Sunday evening).
    public static let lookback: Int64 = 7 * 86_400

    /// The rates of `currency` in `base` over `span` from the stored `barSize` bars of either
    /// pair (BASE.CUR or CUR.BASE), showing `whats` in that order of preference (from a week
    /// before `span`, so its first bar has a rate); nil when none of them is stored there. Bars
    /// whose close is not a positive finite number are left out.
    public static func load(currency: String, base: String, barSize: String, whats: [String], span: TimeSpan,
                            store: any BarStore) async throws -> RateSeries?
    {
        let from = span.start > Int64.min + lookback ? span.start - lookback : span.start
        for what in whats {
            for (key, inverted) in pairKeys(currency: currency, base: base) {
                let series = BarSeries(instrument: key, barSize: barSize, what: what)
                let bars = try await store.bars(series, in: TimeSpan(from, span.end))
                let points = bars.compactMap { bar -> (time: Int64, toBase: Double)? in
                    // A pair's price outside 1e-6...1e7 is a broken file, not a market (1/1e-300 made
                    // a rate of 1e300 and an equity of -1e304).
                    guard bar.close.isFinite, (1e-6...1e7).contains(bar.close) else { return nil }
                    let rate = inverted ? 1 / bar.close : bar.close
                    return rate.isFinite && rate > 0 ? (bar.time, rate) : nil
                }
                if !points.isEmpty { return RateSeries(currency: currency, base: base, source: series, points: points) }
            }
        }
        return nil
    }
}
