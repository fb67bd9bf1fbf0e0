import Foundation
import GRDB
import GRDBSQLite

/// Bulk writes into the SQLite bar store: one transaction, one prepared statement, values
/// bound through SQLite's C API (GRDB's `StatementArguments` box every value, which costs
/// more than SQLite's own insert), the series' three text keys bound once.
extension SQLiteBarStore {
    public typealias ImportSummary = BarImportSummary

    /// Streams the CSV file at `path` (`BarCSV`'s format) into the store as `series`, bars of
    /// `barSeconds`, in one transaction: all of the file or nothing. A bad line refuses the
    /// whole file (`BarCSV.Failure`, naming the bad lines; nothing stored); a file without
    /// bars stores nothing. The file's span counts as covered. Memory stays flat in the file's
    /// size (a batch of bars and SQLite's page cache). Times without a zone are read in
    /// `zone`'s clock (nil: UTC).
    public func importCSV(fileAt path: String, as series: BarSeries, barSeconds: Int64, naiveTimesIn zone: TimeZone?) async throws -> ImportSummary {
        try await queue.write { db in
            let inserter = try BulkInserter(db, series: series)
            // The file parsed on a thread of its own while this one inserts (two cores: the
            // parse costs about a third of SQLite's insert); a few batches in between.
            let pipe = BatchPipe<ParsedFile>(capacity: 4)
            let parsing = Thread {
                do {
                    let parser = try BarCSVParser.parseFile(at: path, naiveTimesIn: zone) { batch in try pipe.put(batch) }
                    pipe.finish(.success(ParsedFile(count: parser.count, first: parser.first, last: parser.last, clock: parser.clockReadings)))
                } catch {
                    pipe.finish(.failure(error))
                }
            }
            parsing.stackSize = 1 << 20
            parsing.start()
            do {
                while let batch = pipe.take() { try inserter.insert(batch) }
            } catch {
                pipe.cancel()
                throw error
            }
            // A bad line throws here (after the whole file was read): the transaction rolls back.
            let parsed = try pipe.result()
            guard let first = parsed.first, let last = parsed.last else { return ImportSummary(bars: 0, clock: parsed.clock) }
            let span = TimeSpan(first.time, last.time + barSeconds)
            try Self.recordCoverage(db, series: series, span: span, bars: parsed.count)
            return ImportSummary(bars: parsed.count, first: first, last: last, covered: span, clock: parsed.clock)
        }
    }

    /// What the parsing thread found: how many bars, the first and the last.
    struct ParsedFile: Sendable {
        var count: Int
        var first: StoredBar?
        var last: StoredBar?
        var clock: ClockReadings
    }

    /// Writes `bars` through the bulk path (see `write(_:of:covering:)`, which uses it).
    static func insert(_ db: Database, _ bars: [StoredBar], of series: BarSeries) throws {
        try BulkInserter(db, series: series).insert(bars)
    }

    static func recordCoverage(_ db: Database, series: BarSeries, span: TimeSpan, bars: Int) throws {
        guard !span.isEmpty else { return }
        try db.execute(sql: "INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [series.instrument, series.barSize, series.what, span.start, span.end, bars, Date().timeIntervalSince1970])
    }
}

/// Prepared INSERT OR REPLACEs of bars of one series, inside the caller's transaction: one
/// of `rowsPerStatement` rows for the bulk (a statement's step, reset and program start paid
/// once for them all), one of a single row for the rest. The series' keys are ?1, ?2, ?3 in
/// every row, bound once; bindings stay across resets.
private struct BulkInserter {
    static let rowsPerStatement = 64
    let db: Database
    let many: Statement
    let one: Statement

    init(_ db: Database, series: BarSeries) throws {
        self.db = db
        func sql(rows: Int) -> String {
            let values = (0..<rows).map { row in
                "(?1, ?2, ?3, " + (0..<8).map { "?\(4 + row * 8 + $0)" }.joined(separator: ", ") + ")"
            }
            return "INSERT OR REPLACE INTO bars (instrument, bar_size, what, time, open, high, low, close, volume, wap, count) VALUES "
                + values.joined(separator: ", ")
        }
        many = try db.cachedStatement(sql: sql(rows: Self.rowsPerStatement))
        one = try db.cachedStatement(sql: sql(rows: 1))
        for statement in [many, one] {
            let sqlite = statement.sqliteStatement
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
            try check(sqlite3_bind_text(sqlite, 1, series.instrument, -1, sqliteTransient))
            try check(sqlite3_bind_text(sqlite, 2, series.barSize, -1, sqliteTransient))
            try check(sqlite3_bind_text(sqlite, 3, series.what, -1, sqliteTransient))
        }
    }

    func insert(_ bars: [StoredBar]) throws {
        try bars.withUnsafeBufferPointer { bars in
            var at = 0
            let bulk = many.sqliteStatement
            // Rows go in file order within a statement, so a time twice keeps the later bar.
            while bars.count - at >= Self.rowsPerStatement {
                for row in 0..<Self.rowsPerStatement { bind(bars[at + row], to: bulk, from: CInt(4 + row * 8)) }
                try step(bulk)
                at += Self.rowsPerStatement
            }
            let single = one.sqliteStatement
            while at < bars.count {
                bind(bars[at], to: single, from: 4)
                try step(single)
                at += 1
            }
        }
    }

    @inline(__always)
    private func bind(_ bar: StoredBar, to sqlite: OpaquePointer, from first: CInt) {
        sqlite3_bind_int64(sqlite, first, bar.time)
        sqlite3_bind_double(sqlite, first + 1, bar.open)
        sqlite3_bind_double(sqlite, first + 2, bar.high)
        sqlite3_bind_double(sqlite, first + 3, bar.low)
        sqlite3_bind_double(sqlite, first + 4, bar.close)
        if let volume = bar.volume { sqlite3_bind_double(sqlite, first + 5, volume) } else { sqlite3_bind_null(sqlite, first + 5) }
        if let wap = bar.wap { sqlite3_bind_double(sqlite, first + 6, wap) } else { sqlite3_bind_null(sqlite, first + 6) }
        if let count = bar.count { sqlite3_bind_int64(sqlite, first + 7, Int64(count)) } else { sqlite3_bind_null(sqlite, first + 7) }
    }

    private func step(_ sqlite: OpaquePointer) throws {
        let code = sqlite3_step(sqlite)
        sqlite3_reset(sqlite)
        if code != SQLITE_DONE { try check(code) }
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK || code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

/// SQLite's SQLITE_TRANSIENT: it copies a value bound with this destructor before the call returns.
private var sqliteTransient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
