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
///
/// 64 bytes: the fields that may be missing are kept without Optional's extra byte (which,
/// padded, made a bar 88 bytes, and a million of them 24 MB more for a backtest to hold): a
/// missing volume or wap is a NaN, a missing count `Int.min`. Neither is a value a bar can have
/// (a store keeps no NaN, imports and downloads refuse them and negative counts).
public struct StoredBar: Sendable, Equatable {
    public var time: Int64
    public var open, high, low, close: Double
    private var volumeOrNaN: Double
    private var wapOrNaN: Double
    private var countOrMin: Int

    public var volume: Double? {
        get { volumeOrNaN.isNaN ? nil : volumeOrNaN }
        set { volumeOrNaN = newValue ?? .nan }
    }

    public var wap: Double? {
        get { wapOrNaN.isNaN ? nil : wapOrNaN }
        set { wapOrNaN = newValue ?? .nan }
    }

    public var count: Int? {
        get { countOrMin == .min ? nil : countOrMin }
        set { countOrMin = newValue ?? .min }
    }

    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double? = nil, wap: Double? = nil, count: Int? = nil) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        volumeOrNaN = volume ?? .nan
        wapOrNaN = wap ?? .nan
        countOrMin = count ?? .min
    }

    /// Equal as the fields read (two missing volumes are equal; NaN never is).
    public static func == (a: StoredBar, b: StoredBar) -> Bool {
        a.time == b.time && a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close
            && a.volume == b.volume && a.wap == b.wap && a.count == b.count
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
    /// Up to `limit` bars of `span` from its start, in time order, and the part of `span` left
    /// to read (nil when nothing is): bars streamed in chunks, memory flat in the span's size.
    func barChunk(_ series: BarSeries, in span: TimeSpan, limit: Int) async throws -> BarChunk
    func count(_ series: BarSeries) async throws -> Int
    func series() async throws -> [BarSeries]
    /// Stores the bars of the CSV file at `path` (`BarCSV`'s format) as `series`, bars of
    /// `barSeconds`: all of the file or nothing (a bad line refuses it whole with a
    /// `BarCSV.Failure`; a file without bars stores nothing); the file's span counts as covered.
    /// Times without a zone are read in `naiveTimesIn`'s clock (nil: UTC).
    func importCSV(fileAt path: String, as series: BarSeries, barSeconds: Int64, naiveTimesIn zone: TimeZone?) async throws -> BarImportSummary
    /// Keeps `details` for its key, replacing what was stored for it.
    func saveInstrument(_ details: StoredInstrument) async throws
    /// The details stored for an instrument key, or nil (bars imported or downloaded before
    /// the store kept them).
    func instrument(_ key: String) async throws -> StoredInstrument?
}

/// Some bars of a span, in time order, and what of the span is left to read.
public struct BarChunk: Sendable {
    public var bars: [StoredBar]
    /// The rest of the span, after these bars; nil when they were the last.
    public var rest: TimeSpan?

    public init(bars: [StoredBar], rest: TimeSpan?) {
        self.bars = bars
        self.rest = rest
    }
}

/// What a CSV import stored: how many bars, the first and last, the span recorded as covered.
public struct BarImportSummary: Sendable, Equatable {
    public var bars: Int
    public var first: StoredBar?
    public var last: StoredBar?
    /// The first bar's start to the last bar's end; nil when there were no bars.
    public var covered: TimeSpan?
    /// How its times met the clock (times without a zone; the second pass of a repeated hour).
    public var clock: ClockReadings

    public init(bars: Int, first: StoredBar? = nil, last: StoredBar? = nil, covered: TimeSpan? = nil, clock: ClockReadings = ClockReadings()) {
        self.bars = bars
        self.first = first
        self.last = last
        self.covered = covered
        self.clock = clock
    }
}

extension BarStore {
    /// A store without a streaming import of its own: the file read in chunks into one array
    /// of bars (no whole-file String), then written at once.
    public func importCSV(fileAt path: String, as series: BarSeries, barSeconds: Int64, naiveTimesIn zone: TimeZone?) async throws -> BarImportSummary {
        let (bars, clock) = try BarCSV.readCounting(fileAt: path, naiveTimesIn: zone)
        guard let first = bars.first, let last = bars.last else { return BarImportSummary(bars: 0, clock: clock) }
        let span = TimeSpan(first.time, last.time + barSeconds)
        try await write(bars, of: series, covering: span)
        return BarImportSummary(bars: bars.count, first: first, last: last, covered: span, clock: clock)
    }

    /// Times without a zone read as UTC.
    public func importCSV(fileAt path: String, as series: BarSeries, barSeconds: Int64) async throws -> BarImportSummary {
        try await importCSV(fileAt: path, as: series, barSeconds: barSeconds, naiveTimesIn: nil)
    }

    /// A store without a chunked read of its own reads the span whole and hands it over as
    /// one chunk (correct, not flat in memory).
    public func barChunk(_ series: BarSeries, in span: TimeSpan, limit: Int) async throws -> BarChunk {
        BarChunk(bars: try await bars(series, in: span), rest: nil)
    }

    /// Every bar of `span`, `chunk` at a time, to `body` in time order.
    public func forEachChunk(_ series: BarSeries, in span: TimeSpan, chunk: Int = 65_536,
                             _ body: ([StoredBar]) throws -> Void) async throws
    {
        var next: TimeSpan? = span
        while let part = next {
            let read = try await barChunk(series, in: part, limit: chunk)
            if !read.bars.isEmpty { try body(read.bars) }
            next = read.rest
        }
    }
}
