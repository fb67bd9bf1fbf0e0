import Foundation
import Logging
import MarketHistory
import NIOCore
import PostgresNIO

/// The bar store in PostgreSQL: the same schema as the SQLite store (tables `bars` and
/// `coverage`), bars loaded with COPY into a temporary table and merged with
/// `INSERT ... ON CONFLICT DO UPDATE`, so writes stay idempotent at any size.
///
/// `postgres://user:password@host:port/database` (`postgresql://` too). Call `shutdown()` when done.
public final class PostgresBarStore: BarStore, @unchecked Sendable {
    public let url: String
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    public struct URLError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Connects (checking at once that the server answers and the schema is there).
    public static func open(_ url: String, logger: Logger = Logger(label: "bar-store")) async throws -> PostgresBarStore {
        let store = try PostgresBarStore(url: url, logger: logger)
        do {
            try await store.migrate()
        } catch {
            await store.shutdown()
            throw URLError(message: "\(store.displayURL): \(Self.describe(error))")
        }
        return store
    }

    /// Where to connect, from the URL.
    private struct Endpoint {
        var host: String
        var port: Int
        var user: String
        var password: String?
        var database: String?
    }

    private static func endpoint(_ url: String) throws -> Endpoint {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty
        else {
            throw URLError(message: "'\(StoreLocation.redacted(url))' is not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw URLError(message: "'\(StoreLocation.redacted(url))': port \(port) is not 1 to 65535")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return Endpoint(host: host, port: port, user: components.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres",
                        password: components.password, database: database.isEmpty ? nil : database)
    }

    private let endpoint: Endpoint

    private init(url: String, logger: Logger) throws {
        self.url = url
        self.logger = logger
        let endpoint = try Self.endpoint(url)
        self.endpoint = endpoint
        var configuration = PostgresClient.Configuration(host: endpoint.host, port: endpoint.port, username: endpoint.user,
                                                         password: endpoint.password, database: endpoint.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 4
        var quiet = logger
        quiet.logLevel = .critical
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        self.client = client
        runner = Task { await client.run() }
    }

    /// The URL without its password, for messages.
    public var displayURL: String { StoreLocation.redacted(url) }

    public func shutdown() async {
        runner.cancel()
        _ = await runner.value
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError, let inner = error.closureError ?? error.beginError ?? error.commitError {
            return describe(inner)
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Creates the tables on a connection of its own: a server that is not there fails here
    /// at once, with the reason (the pool would keep trying). Two stores opening at the same
    /// time take turns (an advisory lock): CREATE TABLE IF NOT EXISTS alone races.
    private func migrate() async throws {
        var configuration = PostgresConnection.Configuration(host: endpoint.host, port: endpoint.port, username: endpoint.user,
                                                             password: endpoint.password, database: endpoint.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        var quiet = logger
        quiet.logLevel = .critical
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
        do {
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(7461233001)", logger: logger)
                try await Self.createTables(connection, logger: logger)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private static func createTables(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
                CREATE TABLE IF NOT EXISTS bars (
                  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, time BIGINT NOT NULL,
                  open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,
                  close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION, wap DOUBLE PRECISION, count BIGINT,
                  PRIMARY KEY (instrument, bar_size, what, time))
                """, logger: logger)
        try await connection.query("""
                CREATE TABLE IF NOT EXISTS coverage (
                  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, start BIGINT NOT NULL, "end" BIGINT NOT NULL,
                  bars BIGINT NOT NULL, fetched_at DOUBLE PRECISION NOT NULL,
                  PRIMARY KEY (instrument, bar_size, what, start, "end"))
                """, logger: logger)
        // Instrument details beside the bars (see StoredInstrument); a store made before they
        // were kept gains the table on its next open, its bars untouched.
        try await connection.query("""
                CREATE TABLE IF NOT EXISTS instruments (
                  instrument TEXT NOT NULL PRIMARY KEY, sec_type TEXT NOT NULL, currency TEXT NOT NULL, exchange TEXT NOT NULL,
                  multiplier DOUBLE PRECISION NOT NULL, tick DOUBLE PRECISION NOT NULL, trading_hours TEXT NOT NULL, pair_base TEXT,
                  saved_at DOUBLE PRECISION NOT NULL)
                """, logger: logger)
        // The time zone and regular session (day bars from smaller ones); rows from before have none.
        try await connection.query("ALTER TABLE instruments ADD COLUMN IF NOT EXISTS liquid_hours TEXT NOT NULL DEFAULT ''", logger: logger)
        try await connection.query("ALTER TABLE instruments ADD COLUMN IF NOT EXISTS time_zone TEXT NOT NULL DEFAULT ''", logger: logger)
    }

    /// COPY's text format: tab-separated, `\N` for nothing, backslashes and control characters escaped.
    static func field(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(character)
            }
        }
        return out
    }

    static func field(_ value: Double?) -> String { value.map { "\($0)" } ?? "\\N" }

    public func write(_ bars: [StoredBar], of series: BarSeries, covering span: TimeSpan) async throws {
        let prefix = "\(Self.field(series.instrument))\t\(Self.field(series.barSize))\t\(Self.field(series.what))\t"
        let fetchedAt = Date().timeIntervalSince1970
        try await client.withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("CREATE TEMP TABLE IF NOT EXISTS bars_in (LIKE bars) ON COMMIT DELETE ROWS", logger: logger)
                if !bars.isEmpty {
                    try await connection.copyFrom(table: "bars_in", columns: ["instrument", "bar_size", "what", "time", "open", "high", "low",
                                                                              "close", "volume", "wap", "count"], logger: logger) { writer in
                        var buffer = ByteBuffer()
                        for bar in bars {
                            buffer.writeString(prefix)
                            buffer.writeString("\(bar.time)\t\(bar.open)\t\(bar.high)\t\(bar.low)\t\(bar.close)\t\(Self.field(bar.volume))\t")
                            buffer.writeString("\(Self.field(bar.wap))\t\(bar.count.map(String.init) ?? "\\N")\n")
                            if buffer.readableBytes > 1 << 20 {
                                try await writer.write(buffer)
                                buffer.clear()
                            }
                        }
                        if buffer.readableBytes > 0 { try await writer.write(buffer) }
                    }
                    try await connection.query("""
                        INSERT INTO bars SELECT * FROM bars_in ON CONFLICT (instrument, bar_size, what, time) DO UPDATE SET
                          open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                          volume = EXCLUDED.volume, wap = EXCLUDED.wap, count = EXCLUDED.count
                        """, logger: logger)
                }
                if !span.isEmpty {
                    let count = Int64(bars.count)
                    try await connection.query("""
                        INSERT INTO coverage VALUES (\(series.instrument), \(series.barSize), \(series.what), \(span.start), \(span.end), \(count), \(fetchedAt))
                        ON CONFLICT (instrument, bar_size, what, start, "end") DO UPDATE SET bars = EXCLUDED.bars, fetched_at = EXCLUDED.fetched_at
                        """, logger: logger)
                }
            }
        }
    }

    public func covered(_ series: BarSeries) async throws -> [TimeSpan] {
        let rows = try await client.query("""
            SELECT start, "end" FROM coverage WHERE instrument = \(series.instrument) AND bar_size = \(series.barSize) AND what = \(series.what)
            ORDER BY start, "end"
            """, logger: logger)
        var spans: [TimeSpan] = []
        for try await (start, end) in rows.decode((Int64, Int64).self) { spans.append(TimeSpan(start, end)) }
        return spans
    }

    public func bars(_ series: BarSeries, in span: TimeSpan) async throws -> [StoredBar] {
        let rows = try await client.query("""
            SELECT time, open, high, low, close, volume, wap, count FROM bars
            WHERE instrument = \(series.instrument) AND bar_size = \(series.barSize) AND what = \(series.what)
              AND time >= \(span.start) AND time < \(span.end) ORDER BY time
            """, logger: logger)
        var bars: [StoredBar] = []
        for try await (time, open, high, low, close, volume, wap, count) in rows.decode(
            (Int64, Double, Double, Double, Double, Double?, Double?, Int64?).self)
        {
            bars.append(StoredBar(time: time, open: open, high: high, low: low, close: close, volume: volume, wap: wap, count: count.map(Int.init)))
        }
        return bars
    }

    public func count(_ series: BarSeries) async throws -> Int {
        let rows = try await client.query("""
            SELECT COUNT(*) FROM bars WHERE instrument = \(series.instrument) AND bar_size = \(series.barSize) AND what = \(series.what)
            """, logger: logger)
        for try await (count,) in rows.decode((Int64,).self) { return Int(count) }
        return 0
    }

    public func saveInstrument(_ details: StoredInstrument) async throws {
        try details.validate()
        let savedAt = Date().timeIntervalSince1970
        try await client.query("""
            INSERT INTO instruments
              (instrument, sec_type, currency, exchange, multiplier, tick, trading_hours, pair_base, saved_at, liquid_hours, time_zone)
            VALUES (\(details.key), \(details.secType), \(details.currency), \(details.exchange), \(details.multiplier),
              \(details.tick), \(details.tradingHours), \(details.pairBase), \(savedAt), \(details.liquidHours), \(details.timeZone))
            ON CONFLICT (instrument) DO UPDATE SET sec_type = EXCLUDED.sec_type, currency = EXCLUDED.currency, exchange = EXCLUDED.exchange,
              multiplier = EXCLUDED.multiplier, tick = EXCLUDED.tick, trading_hours = EXCLUDED.trading_hours, pair_base = EXCLUDED.pair_base,
              saved_at = EXCLUDED.saved_at, liquid_hours = EXCLUDED.liquid_hours, time_zone = EXCLUDED.time_zone
            """, logger: logger)
    }

    public func instrument(_ key: String) async throws -> StoredInstrument? {
        let rows = try await client.query("""
            SELECT sec_type, currency, exchange, multiplier, tick, trading_hours, pair_base, liquid_hours, time_zone
            FROM instruments WHERE instrument = \(key)
            """, logger: logger)
        for try await (secType, currency, exchange, multiplier, tick, hours, pairBase, liquidHours, zone) in rows.decode(
            (String, String, String, Double, Double, String, String?, String, String).self)
        {
            return StoredInstrument(key: key, secType: secType, currency: currency, exchange: exchange, multiplier: multiplier, tick: tick,
                                    tradingHours: hours, liquidHours: liquidHours, timeZone: zone, pairBase: pairBase)
        }
        return nil
    }

    public func series() async throws -> [BarSeries] {
        let rows = try await client.query("SELECT DISTINCT instrument, bar_size, what FROM bars ORDER BY instrument, bar_size, what", logger: logger)
        var all: [BarSeries] = []
        for try await (instrument, size, what) in rows.decode((String, String, String).self) {
            all.append(BarSeries(instrument: instrument, barSize: size, what: what))
        }
        return all
    }
}
