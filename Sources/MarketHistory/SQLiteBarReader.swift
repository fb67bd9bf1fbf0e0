import GRDB
import GRDBSQLite
import TWSProtocol

/// Bars read from the SQLite store by column index through SQLite's C API (GRDB's rows,
/// decoded by column name, cost several times SQLite's own stepping), with a prepared
/// statement per shape of query.
///
/// Lenient as before: a file another tool wrote may hold text or a blob where a number
/// belongs. An unreadable price is NaN (the bar checks refuse the bar, saying why); an
/// unreadable volume, wap or count is nil; a bar without a readable time cannot be placed and
/// is left out. A real number where an integer belongs is taken rounded toward zero, as GRDB did.
enum SQLiteBarReader {
    /// Up to `limit` bars (nil: all) of `span` from its start, and the rest of the span.
    /// `capacity`: room to make for them (nil: counted first when all are read).
    static func read(_ db: Database, _ series: BarSeries, in span: TimeSpan, limit: Int?, capacity: Int? = nil) throws -> BarChunk {
        guard !span.isEmpty else { return BarChunk(bars: [], rest: nil) }
        let statement = try db.cachedStatement(sql: """
            SELECT time, open, high, low, close, volume, wap, count FROM bars
            WHERE instrument = ? AND bar_size = ? AND what = ? AND time >= ? AND time < ? ORDER BY time LIMIT ?
            """)
        try statement.setArguments([series.instrument, series.barSize, series.what, span.start, span.end, limit ?? -1])
        let sqlite = statement.sqliteStatement
        var bars: [StoredBar] = []
        if let capacity {
            bars.reserveCapacity(capacity)
        } else if let limit {
            bars.reserveCapacity(min(limit, 1 << 20))
        } else {
            // All of a span at once: sized first (a count over the index), so a million bars
            // are one array of 64 MB, not a doubling that holds the old one beside the new.
            bars.reserveCapacity(try count(db, series, in: span))
        }
        var rows = 0
        // Where the next chunk starts: just past the last row's time, however it was stored.
        var next = span.start
        defer { sqlite3_reset(sqlite) }
        while true {
            let code = sqlite3_step(sqlite)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            rows += 1
            // One call a column: its value, then its type and number read from it.
            let stamp = sqlite3_column_value(sqlite, 0)
            let time: Int64
            switch sqlite3_value_type(stamp) {
            case SQLITE_INTEGER:
                time = sqlite3_value_int64(stamp)
                next = time &+ 1
            case SQLITE_FLOAT:
                let real = sqlite3_value_double(stamp)
                // Stored times are within the span's (integer) bounds: these conversions hold.
                next = Int64(real.rounded(.down)) + 1
                guard let whole = Self.integer(real) else { continue }
                time = whole
            default:
                continue  // text or a blob compares after every number: never within the span
            }
            bars.append(StoredBar(time: time, open: Self.real(sqlite, 1) ?? .nan, high: Self.real(sqlite, 2) ?? .nan,
                                  low: Self.real(sqlite, 3) ?? .nan, close: Self.real(sqlite, 4) ?? .nan, volume: Self.real(sqlite, 5),
                                  wap: Self.real(sqlite, 6), count: Self.count(sqlite, 7)))
        }
        let more = limit.map { rows >= $0 } ?? false
        return BarChunk(bars: bars, rest: more && next < span.end ? TimeSpan(next, span.end) : nil)
    }

    /// Every bar of `span`, in one array sized from the stored times and the bar size (a count
    /// would read every row once more: in this table the rows are the index), so a million bars
    /// are one array, not a doubling that holds the old one beside the new. Denser data than
    /// that (times closer than a bar) grows it; room made for sparser data is never touched,
    /// so never resident. Past a million bars by that reckoning (a long span, or a few bars far
    /// apart) they are counted instead: room for a guess that large could be far more than is there.
    static func readAll(_ db: Database, _ series: BarSeries, in span: TimeSpan) throws -> [StoredBar] {
        guard let bounds = try bounds(db, series, in: span) else { return [] }
        return try readAll(db, series, in: span, between: bounds)
    }

    /// The same with the bounds looked up already.
    private static func readAll(_ db: Database, _ series: BarSeries, in span: TimeSpan, between bounds: (first: Int64, last: Int64)) throws -> [StoredBar] {
        try read(db, series, in: span, limit: nil, capacity: expectedCount(series, from: bounds.first, to: bounds.last)).bars
    }

    /// How many bars of `series` fit from `first` to `last` (both stored times), as room to
    /// make; nil past `largestGuess` (then they are counted).
    static func expectedCount(_ series: BarSeries, from first: Int64, to last: Int64) -> Int? {
        let seconds = Double(HistoricalSpan.barSeconds(series.barSize, strict: false) ?? 1)
        let expected = (Double(last) - Double(first)) / max(seconds, 1) + 1
        return expected.isFinite && expected >= 0 && expected <= Double(largestGuess) ? Int(expected) : nil
    }

    /// Reading all of a span: done here (few bars, read in this transaction), or worth two
    /// parts read at once (two connections, two cores), split at the middle of its stored times.
    enum WholeRead {
        case done([StoredBar])
        case halves(first: Int64, middle: Int64, last: Int64)
    }

    /// All of `span` when it holds fewer than `splitAt` bars by the bar size's reckoning (a
    /// second connection would cost more than it saves), else where to halve it.
    static func readAllOrSplit(_ db: Database, _ series: BarSeries, in span: TimeSpan) throws -> WholeRead {
        guard let bounds = try bounds(db, series, in: span) else { return .done([]) }
        guard bounds.last > bounds.first, expectedCount(series, from: bounds.first, to: bounds.last).map({ $0 >= splitAt }) ?? true else {
            return .done(try readAll(db, series, in: span, between: bounds))
        }
        return .halves(first: bounds.first, middle: bounds.first + (bounds.last - bounds.first) / 2, last: bounds.last)
    }

    /// The fewest bars (by the bar size's reckoning) read in two parts.
    static let splitAt = 200_000

    /// The most bars room is made for on a guess (64 MB of address space); more are counted.
    static let largestGuess = 1 << 20

    /// How many rows `span` holds (a count over the index).
    static func count(_ db: Database, _ series: BarSeries, in span: TimeSpan) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM bars WHERE instrument = ? AND bar_size = ? AND what = ? AND time >= ? AND time < ?
            """, arguments: [series.instrument, series.barSize, series.what, span.start, span.end]) ?? 0
    }

    /// The first and last stored times of `span`, nil when it holds none: two look-ups in the
    /// index (one query with both MIN and MAX would read every row: SQLite seeks for one alone).
    static func bounds(_ db: Database, _ series: BarSeries, in span: TimeSpan) throws -> (first: Int64, last: Int64)? {
        func end(_ order: String) throws -> Int64? {
            try Int64.fetchOne(db, sql: """
                SELECT time FROM bars WHERE instrument = ? AND bar_size = ? AND what = ? AND time >= ? AND time < ?
                ORDER BY time \(order) LIMIT 1
                """, arguments: [series.instrument, series.barSize, series.what, span.start, span.end])
        }
        guard let first = try end("ASC"), let last = try end("DESC") else { return nil }
        return (first, last)
    }

    /// A number column as a double; nil for NULL, text or a blob.
    @inline(__always)
    private static func real(_ sqlite: OpaquePointer, _ column: CInt) -> Double? {
        let value = sqlite3_column_value(sqlite, column)
        switch sqlite3_value_type(value) {
        case SQLITE_FLOAT: return sqlite3_value_double(value)
        case SQLITE_INTEGER: return Double(sqlite3_value_int64(value))
        default: return nil
        }
    }

    /// An integer column as an Int; a real rounded toward zero; nil for NULL, text, a blob.
    @inline(__always)
    private static func count(_ sqlite: OpaquePointer, _ column: CInt) -> Int? {
        let value = sqlite3_column_value(sqlite, column)
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: return Int(exactly: sqlite3_value_int64(value))
        case SQLITE_FLOAT: return integer(sqlite3_value_double(value)).flatMap { Int(exactly: $0) }
        default: return nil
        }
    }

    /// GRDB's reading of a real as an Int64: rounded toward zero when within range.
    private static func integer(_ real: Double) -> Int64? {
        guard real >= Double(Int64.min), real < Double(Int64.max) else { return nil }
        return Int64(real)
    }
}
