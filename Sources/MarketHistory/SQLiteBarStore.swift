import Foundation
import GRDB

/// The embedded bar store: one SQLite file, a row per bar, a row per covered span.
public final class SQLiteBarStore: BarStore, @unchecked Sendable {
    public let path: String
    let queue: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-bars") { db in
            try db.execute(sql: """
                CREATE TABLE bars (
                  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, time INTEGER NOT NULL,
                  open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
                  volume REAL, wap REAL, count INTEGER,
                  PRIMARY KEY (instrument, bar_size, what, time)) WITHOUT ROWID;
                CREATE TABLE coverage (
                  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                  bars INTEGER NOT NULL, fetched_at REAL NOT NULL,
                  PRIMARY KEY (instrument, bar_size, what, start, end));
                """)
        }
        // Stores written before instrument details were kept gain the table; their bars stay.
        migrator.registerMigration("v2-instruments") { db in
            try db.execute(sql: """
                CREATE TABLE instruments (
                  instrument TEXT NOT NULL PRIMARY KEY, sec_type TEXT NOT NULL, currency TEXT NOT NULL, exchange TEXT NOT NULL,
                  multiplier REAL NOT NULL, tick REAL NOT NULL, trading_hours TEXT NOT NULL, pair_base TEXT, saved_at REAL NOT NULL)
                """)
        }
        // The instrument's time zone and regular session, for day bars built from smaller ones
        // (rows saved before have none: their backtests cut days at UTC midnight, and say so).
        migrator.registerMigration("v3-instrument-calendar") { db in
            try db.execute(sql: """
                ALTER TABLE instruments ADD COLUMN liquid_hours TEXT NOT NULL DEFAULT '';
                ALTER TABLE instruments ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
                """)
        }
        do {
            try migrator.migrate(queue)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            // A store this user may read but not write (another's, shared): used as it is, from
            // whichever version made it (`instrument` reads the columns it has). Writing to it
            // still fails, naming the read-only file.
            guard try queue.read({ db in try db.tableExists("bars") }) else { throw error }
        }
    }

    public func write(_ bars: [StoredBar], of series: BarSeries, covering span: TimeSpan) async throws {
        try await queue.write { db in
            // One prepared statement, values bound by SQLite's C API (SQLiteBarImport.swift).
            try Self.insert(db, bars, of: series)
            try Self.recordCoverage(db, series: series, span: span, bars: bars.count)
        }
    }

    public func covered(_ series: BarSeries) async throws -> [TimeSpan] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT start, end FROM coverage WHERE instrument = ? AND bar_size = ? AND what = ? ORDER BY start",
                             arguments: [series.instrument, series.barSize, series.what]).compactMap { row in
                guard let start: Int64 = row.lenient("start"), let end: Int64 = row.lenient("end") else { return nil }
                return TimeSpan(start, end)
            }
        }
    }

    public func bars(_ series: BarSeries, in span: TimeSpan) async throws -> [StoredBar] {
        // Read by column index through SQLite's C API (SQLiteBarReader.swift), all at once;
        // a long span in two halves at once, the later through a second, read-only connection
        // (a million 1-minute bars: reading is most of the wait before a backtest starts).
        // The halves are two read transactions: a write between them that touched both could
        // show in one alone, as it would in two reads made one after the other.
        let (first, middle, last): (Int64, Int64, Int64)
        switch try await queue.read({ db in try SQLiteBarReader.readAllOrSplit(db, series, in: span) }) {
        case let .done(bars): return bars
        case let .halves(start, half, end): (first, middle, last) = (start, half, end)
        }
        // No second connection (no file handle left, the file gone while this one is open):
        // read it in one.
        guard let second = try? secondConnection() else {
            return try await queue.read { db in try SQLiteBarReader.readAll(db, series, in: span) }
        }
        let early = TimeSpan(span.start, middle), late = TimeSpan(middle, span.end)
        let room = SQLiteBarReader.expectedCount(series, from: first, to: last)
        async let lateBars = second.read { db in try SQLiteBarReader.readAll(db, series, in: late) }
        var bars = try await queue.read { db in try SQLiteBarReader.read(db, series, in: early, limit: nil, capacity: room).bars }
        bars.append(contentsOf: try await lateBars)
        return bars
    }

    /// A read-only connection of its own to the same file (each read of a long span in two
    /// halves opens one, closed when the read is done).
    private func secondConnection() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Up to `limit` bars of `span`, from its start, and what is left to read (nil: nothing);
    /// a read transaction of its own, so a long stream never holds the store.
    public func barChunk(_ series: BarSeries, in span: TimeSpan, limit: Int) async throws -> BarChunk {
        try await queue.read { db in try SQLiteBarReader.read(db, series, in: span, limit: max(limit, 1)) }
    }

    public func count(_ series: BarSeries) async throws -> Int {
        try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bars WHERE instrument = ? AND bar_size = ? AND what = ?",
                             arguments: [series.instrument, series.barSize, series.what]) ?? 0
        }
    }

    public func saveInstrument(_ details: StoredInstrument) async throws {
        try details.validate()
        try await queue.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO instruments
                  (instrument, sec_type, currency, exchange, multiplier, tick, trading_hours, pair_base, saved_at, liquid_hours, time_zone)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [details.key, details.secType, details.currency, details.exchange, details.multiplier, details.tick,
                                 details.tradingHours, details.pairBase, Date().timeIntervalSince1970, details.liquidHours, details.timeZone])
        }
    }

    public func instrument(_ key: String) async throws -> StoredInstrument? {
        try await queue.read { db in
            // A read-only store from before a migration lacks the table or the newest columns.
            guard try db.tableExists("instruments") else { return nil }
            let columns = Set(try db.columns(in: "instruments").map(\.name))
            let calendar = ["liquid_hours", "time_zone"].map { columns.contains($0) ? $0 : "'' AS \($0)" }.joined(separator: ", ")
            return try Row.fetchOne(db, sql: """
                SELECT sec_type, currency, exchange, multiplier, tick, trading_hours, pair_base, \(calendar)
                FROM instruments WHERE instrument = ?
                """, arguments: [key]).map { row in
                // Optional reads: a row another tool wrote with text where a number belongs
                // comes back unusable (its `problem` says so), never a trap.
                let multiplier: Double? = row.lenient("multiplier"), tick: Double? = row.lenient("tick")
                let secType: String? = row.lenient("sec_type"), currency: String? = row.lenient("currency")
                return StoredInstrument(key: key, secType: secType ?? "", currency: currency ?? "", exchange: row.lenient("exchange") ?? "",
                                        multiplier: multiplier ?? .nan, tick: tick ?? .nan, tradingHours: row.lenient("trading_hours") ?? "",
                                        liquidHours: row.lenient("liquid_hours") ?? "", timeZone: row.lenient("time_zone") ?? "",
                                        pairBase: row.lenient("pair_base"))
            }
        }
    }

    public func series() async throws -> [BarSeries] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT DISTINCT instrument, bar_size, what FROM bars ORDER BY instrument, bar_size, what").map {
                BarSeries(instrument: $0.lenient("instrument") ?? "", barSize: $0.lenient("bar_size") ?? "", what: $0.lenient("what") ?? "")
            }
        }
    }
}

extension Row {
    /// The column's value as `Value`, or nil when it is NULL or of another kind (GRDB's own
    /// subscript traps on text where a number belongs: a store is outside input).
    func lenient<Value: DatabaseValueConvertible>(_ column: String) -> Value? {
        let raw: DatabaseValue? = self[column]
        return raw.flatMap { Value.fromDatabaseValue($0) }
    }
}
