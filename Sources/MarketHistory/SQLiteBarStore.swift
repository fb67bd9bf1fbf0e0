import Foundation
import GRDB

/// The embedded bar store: one SQLite file (WAL), a row per bar, a row per covered span.
public final class SQLiteBarStore: BarStore, @unchecked Sendable {
    public let path: String
    private let queue: DatabaseQueue

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
        try migrator.migrate(queue)
    }

    public func write(_ bars: [StoredBar], of series: BarSeries, covering span: TimeSpan) async throws {
        try await queue.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO bars (instrument, bar_size, what, time, open, high, low, close, volume, wap, count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for bar in bars {
                try statement.execute(arguments: [series.instrument, series.barSize, series.what, bar.time, bar.open, bar.high, bar.low,
                                                  bar.close, bar.volume, bar.wap, bar.count])
            }
            if !span.isEmpty {
                try db.execute(sql: "INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [series.instrument, series.barSize, series.what, span.start, span.end, bars.count,
                                           Date().timeIntervalSince1970])
            }
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
        try await queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT time, open, high, low, close, volume, wap, count FROM bars
                WHERE instrument = ? AND bar_size = ? AND what = ? AND time >= ? AND time < ? ORDER BY time
                """, arguments: [series.instrument, series.barSize, series.what, span.start, span.end]).compactMap { row in
                // Lenient reads: a file another tool wrote may hold text or a blob where a
                // number belongs. An unreadable price is NaN (the bar checks refuse the bar,
                // saying why); a bar without a readable time cannot be placed and is left out.
                guard let time: Int64 = row.lenient("time") else { return nil }
                return StoredBar(time: time, open: row.lenient("open") ?? .nan, high: row.lenient("high") ?? .nan,
                                 low: row.lenient("low") ?? .nan, close: row.lenient("close") ?? .nan, volume: row.lenient("volume"),
                                 wap: row.lenient("wap"), count: row.lenient("count"))
            }
        }
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
            try db.execute(sql: "INSERT OR REPLACE INTO instruments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [details.key, details.secType, details.currency, details.exchange, details.multiplier, details.tick,
                                       details.tradingHours, details.pairBase, Date().timeIntervalSince1970])
        }
    }

    public func instrument(_ key: String) async throws -> StoredInstrument? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: """
                SELECT sec_type, currency, exchange, multiplier, tick, trading_hours, pair_base FROM instruments WHERE instrument = ?
                """, arguments: [key]).map { row in
                // Optional reads: a row another tool wrote with text where a number belongs
                // comes back unusable (its `problem` says so), never a trap.
                let multiplier: Double? = row.lenient("multiplier"), tick: Double? = row.lenient("tick")
                let secType: String? = row.lenient("sec_type"), currency: String? = row.lenient("currency")
                return StoredInstrument(key: key, secType: secType ?? "", currency: currency ?? "", exchange: row.lenient("exchange") ?? "",
                                        multiplier: multiplier ?? .nan, tick: tick ?? .nan, tradingHours: row.lenient("trading_hours") ?? "",
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
