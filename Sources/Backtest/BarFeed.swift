import MarketHistory

/// The rest of one instrument's bars, read from the store in chunks while the backtest runs
/// on the ones read before (a million 1-minute bars: the read no longer comes before the run,
/// it goes on beside it, on another core).
///
/// Each chunk is checked as the whole read was (`BacktestData.usable`): the bars a backtest
/// can trade on, and the others with why. A feed is read once, by the run it was loaded for.
public struct BarFeed: Sendable {
    public let store: any BarStore
    public let series: BarSeries
    /// What is left to read, from just after the bars already loaded.
    public let rest: TimeSpan
    /// The last stored time of the span (the bars' progress is counted towards it).
    public let lastTime: Int64
    /// Bars of the first part left out as unusable: said with the ones the feed leaves out.
    public let refusedBefore: [(time: Int64, reason: String)]
    /// Bars a chunk holds.
    public let chunk: Int

    /// How a streamed run reads: `first` bars before it starts (a few milliseconds' worth),
    /// then `chunk` at a time (big enough that a chunk's query costs nothing beside its rows).
    public struct Chunks: Sendable {
        public var first: Int
        public var chunk: Int

        public init(first: Int, chunk: Int) {
            self.first = max(first, 1)
            self.chunk = max(chunk, 1)
        }

        public static let standard = Chunks(first: 8_192, chunk: 65_536)
    }

    public struct Part: Sendable {
        public var bars: [StoredBar]
        public var refused: [(time: Int64, reason: String)]
        /// What is left after them (nil: they were the last).
        public var rest: TimeSpan?
    }

    /// The next chunk of `span`, checked.
    public func read(_ span: TimeSpan) async throws -> Part { try await Self.read(series, in: span, limit: chunk, from: store) }

    /// Up to `limit` bars of `span` from its start, checked as a whole read is
    /// (`BacktestData.usable`), and what is left of it.
    static func read(_ series: BarSeries, in span: TimeSpan, limit: Int, from store: any BarStore) async throws -> Part {
        let read = try await store.barChunk(series, in: span, limit: limit)
        let (bars, refused) = BacktestData.usable(read.bars)
        return Part(bars: bars, refused: refused, rest: read.rest)
    }

    /// Reads one chunk ahead of the run: the next is read while the run handles the last
    /// (never more, so the bars are held once, not again in chunks waiting to be taken).
    final class Reader {
        private let feed: BarFeed
        private var reading: Task<Part, Error>?

        init(_ feed: BarFeed) {
            self.feed = feed
            reading = Task { try await feed.read(feed.rest) }
        }

        /// The next chunk (the one read ahead), nil once every one was taken; a store's
        /// error is thrown here.
        func next() async throws -> Part? {
            guard let current = reading else { return nil }
            let part = try await current.value
            let feed = feed
            reading = part.rest.map { rest in Task { try await feed.read(rest) } }
            return part
        }

        deinit { reading?.cancel() }
    }
}
