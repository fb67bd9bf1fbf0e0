import TWSProtocol

/// One stored bar to replay (the paper gateway does not read the bar store itself: the
/// command line hands it the bars).
public struct ReplayBar: Sendable, Equatable {
    public var time: Int64
    public var open, high, low, close: Double
    public var volume: Double
    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// A market taken from stored bars instead of the random walk: the replayed instruments'
/// prices walk through each bar (the open, held for the bar's first fifth, then the extreme
/// nearer the open's side, the other one, and the close, held for the last fifth) at real speed
/// or `speed` times faster. The market clock is the bars' time: quotes, trades, real-time bars and history all
/// carry it.
public struct MarketReplay: Sendable, Equatable {
    /// Bars per symbol of the gateway's universe (a stock it lacks is added), sorted by time.
    public var bars: [String: [ReplayBar]]
    public var barSeconds: Int
    /// Market seconds per wall second.
    public var speed: Double
    /// How replayed instruments are quoted around the replayed price, in ticks. 0: bid, ask
    /// and last are all that price, so a market order fills at it, as a backtest's does at a
    /// bar's price (the parity docs/backtest.md states). n: bid and ask on the tick grid, each
    /// at least n/2 ticks from the price; 1 (the default) puts them a tick either side of a
    /// price on the grid, so a market order pays half a tick to a tick.
    public var spreadTicks: Int
    /// The widest spread a replay quotes.
    public static let spreadTicksRange = 0...100
    /// Bars left out because a value is unusable (not finite, negative, absurd: `BarBounds`),
    /// each with why, for the caller to warn about. A store another tool wrote may hold them.
    public let skipped: [SkippedBar]

    /// A bar the replay left out, and why (`volume inf is not a finite number`).
    public struct SkippedBar: Sendable, Equatable, CustomStringConvertible {
        public let symbol: String
        public let bar: ReplayBar
        public let reason: String
        public var description: String { "\(symbol) bar at epoch \(bar.time): \(reason)" }
    }

    /// A trade never prints more than this (so a day's volume cannot overflow either).
    static let maxTradeSize = 1e9

    /// `bars` sorted, each series without the bars `BarBounds` refuses (listed in `skipped`).
    /// A bar size below a second, or a speed that is not a positive number, is taken as 1; a
    /// spread outside `spreadTicksRange` is taken as the nearest end of it.
    public init(bars: [String: [ReplayBar]], barSeconds: Int, speed: Double, spreadTicks: Int = 1) {
        var skipped: [SkippedBar] = []
        var kept: [String: [ReplayBar]] = [:]
        for (symbol, series) in bars {
            kept[symbol] = series.filter { bar in
                let volume = bar.volume == BarBounds.notAvailable ? nil : bar.volume
                guard let reason = BarBounds.problem(time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: volume)
                else { return true }
                skipped.append(SkippedBar(symbol: symbol, bar: bar, reason: reason))
                return false
            }.sorted { $0.time < $1.time }
        }
        self.bars = kept
        self.skipped = skipped.sorted { ($0.symbol, $0.bar.time) < ($1.symbol, $1.bar.time) }
        self.barSeconds = max(1, barSeconds)
        self.speed = speed.isFinite && speed > 0 ? speed : 1
        self.spreadTicks = min(max(spreadTicks, Self.spreadTicksRange.lowerBound), Self.spreadTicksRange.upperBound)
    }

    /// Shares one trade prints when `wallSeconds` pass during `bar`: its volume spread over the
    /// bar's time at the replay's speed, at least 1 and at most `maxTradeSize` (checked: no speed,
    /// volume or pause can overflow the conversion).
    public func tradeSize(_ bar: ReplayBar, wallSeconds: Double) -> Int {
        let size = (max(bar.volume, 0) * max(wallSeconds, 0.001) * speed / Double(barSeconds)).rounded()
        guard size.isFinite else { return size.isNaN ? 1 : Int(Self.maxTradeSize) }
        return Int(max(1, min(size, Self.maxTradeSize)))
    }

    /// When the replay starts and ends (market time).
    public var start: Int64 { bars.values.compactMap(\.first?.time).min() ?? 0 }
    public var end: Int64 { (bars.values.compactMap(\.last?.time).max() ?? 0) + Int64(barSeconds) }

    /// The bar of `symbol` under way at `time`, or nil in a gap or outside the data.
    public func bar(_ symbol: String, at time: Double) -> (bar: ReplayBar, index: Int)? {
        guard let series = bars[symbol], !series.isEmpty else { return nil }
        var low = 0, high = series.count
        while low < high {
            let middle = (low + high) / 2
            if Double(series[middle].time) <= time { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        guard index >= 0, time < Double(series[index].time + Int64(barSeconds)) else { return nil }
        return (series[index], index)
    }

    /// The price the replay shows for `symbol` at `time`, in fifths of the bar: the open for
    /// the first fifth, then to the first extreme, the second, the close (a fifth each leg),
    /// and the close for the last fifth; the last close between bars. The open held first is
    /// what a market order placed when the bar before ended meets (a backtest's next-open
    /// fill) when it reaches the gateway within that fifth; the close held last is what the
    /// bar's last trades print, so 5-second bars built from the replay end where the stored
    /// bar did.
    public func price(_ symbol: String, at time: Double) -> Double? {
        if let (bar, _) = bar(symbol, at: time) {
            let path = Self.path(of: bar)
            // Multiplied before divided: a step landing on a fifth gives a whole number exactly.
            let fifths = (time - Double(bar.time)) * 5 / Double(barSeconds)
            guard fifths > 1 else { return bar.open }
            guard fifths < 4 else { return bar.close }
            let leg = Int(fifths) - 1
            let within = fifths - Double(leg + 1)
            return within == 0 ? path[leg] : path[leg] + (path[leg + 1] - path[leg]) * within
        }
        guard let series = bars[symbol] else { return nil }
        return series.last(where: { Double($0.time) <= time })?.close ?? series.first?.open
    }

    /// The price the market shows for `symbol` at `time`: a bar's own price (its open, an
    /// extreme, its close) exactly as stored, never moved to a tick (a backtest fills at it as
    /// it is: EUR.USD stored at 1.08437 stays 1.08437); a price between two of them `rounded`
    /// to the instrument's tick.
    public func shownPrice(_ symbol: String, at time: Double, rounded: (Double) -> Double) -> Double? {
        guard let price = price(symbol, at: time) else { return nil }
        guard let (bar, _) = bar(symbol, at: time) else { return price }
        return Self.path(of: bar).contains(price) ? price : rounded(price)
    }

    /// The prices a bar visits in order: a rising bar (close at or above its open) its low
    /// first, a falling one its high.
    static func path(of bar: ReplayBar) -> [Double] {
        let down = bar.close >= bar.open
        return [bar.open, down ? bar.low : bar.high, down ? bar.high : bar.low, bar.close]
    }
}
