import Foundation

/// One series of bars: an instrument (its key: `AAPL`, `ES 202612`), a bar size (IB's
/// spelling: `1 min`, `1 day`) and what the bars show (`TRADES`, `MIDPOINT`, `BID_ASK`).
public struct BarSeries: Sendable, Hashable, CustomStringConvertible {
    public var instrument: String
    public var barSize: String
    public var what: String

    public init(instrument: String, barSize: String, what: String = "TRADES") {
        self.instrument = instrument
        self.barSize = barSize
        self.what = what.uppercased()
    }

    public var description: String { "\(instrument) \(barSize) \(what)" }
}

/// One bar, its time the start of the bar in UTC epoch seconds.
public struct StoredBar: Sendable, Equatable {
    public var time: Int64
    public var open, high, low, close: Double
    public var volume: Double?
    public var wap: Double?
    public var count: Int?

    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double? = nil, wap: Double? = nil, count: Int? = nil) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.wap = wap
        self.count = count
    }
}

/// A span of time in UTC epoch seconds, start included, end excluded.
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64
    public init(_ start: Int64, _ end: Int64) {
        self.start = start
        self.end = end
    }
    public var isEmpty: Bool { end <= start }
    public var description: String { "\(UTCTime.iso(start, seconds: false)) to \(UTCTime.iso(end, seconds: false))" }

    /// `spans` minus `covered`: what is still missing, in order.
    public static func missing(_ wanted: TimeSpan, covered: [TimeSpan]) -> [TimeSpan] {
        var gaps: [TimeSpan] = []
        var cursor = wanted.start
        for span in covered.sorted(by: { $0.start < $1.start }) where span.end > cursor && span.start < wanted.end {
            if span.start > cursor { gaps.append(TimeSpan(cursor, min(span.start, wanted.end))) }
            cursor = max(cursor, span.end)
            if cursor >= wanted.end { break }
        }
        if cursor < wanted.end { gaps.append(TimeSpan(cursor, wanted.end)) }
        return gaps
    }
}

/// Where downloaded bars are kept. Writes are idempotent (a bar is its series and time), and
/// a span asked of TWS is recorded as covered once its bars are stored, whether it had any:
/// a second download asks only for what is missing.
public protocol BarStore: Sendable {
    func write(_ bars: [StoredBar], of series: BarSeries, covering span: TimeSpan) async throws
    func covered(_ series: BarSeries) async throws -> [TimeSpan]
    func bars(_ series: BarSeries, in span: TimeSpan) async throws -> [StoredBar]
    func count(_ series: BarSeries) async throws -> Int
    func series() async throws -> [BarSeries]
    /// Keeps `details` for its key, replacing what was stored for it.
    func saveInstrument(_ details: StoredInstrument) async throws
    /// The details stored for an instrument key, or nil (bars imported or downloaded before
    /// the store kept them).
    func instrument(_ key: String) async throws -> StoredInstrument?
}
