import Foundation
import MarketHistory
import PostgresBarStore
import Testing

/// What every bar store promises, held for both: the same tests run on a SQLite file and on a
/// real PostgreSQL server (`Scripts/test` starts one and sets MOONWIRE_TEST_POSTGRES).
enum BarStoreContract {
    /// A store, and one more on the same data (a second process, a second run).
    typealias Opener = @Sendable () async throws -> any BarStore

    static func bar(_ time: Int64, _ close: Double = 1.5) -> StoredBar {
        StoredBar(time: time, open: 1, high: 2, low: 0.5, close: close, volume: 10, wap: 1.2, count: 3)
    }

    static func idempotentWrites(_ open: Opener, instrument: String) async throws {
        let series = BarSeries(instrument: instrument, barSize: "1 min", what: "trades")
        let store = try await open()
        let bars = (0..<5).map { bar(Int64($0 * 60)) }
        try await store.write(bars, of: series, covering: TimeSpan(0, 300))
        try await store.write(Array(bars.prefix(2)), of: series, covering: TimeSpan(0, 300))
        try await store.write([], of: series, covering: TimeSpan(300, 600))
        let again = try await open()
        #expect(try await again.count(series) == 5)
        #expect(try await again.covered(series) == [TimeSpan(0, 300), TimeSpan(300, 600)])
        #expect(try await again.bars(series, in: TimeSpan(60, 180)).map(\.time) == [60, 120])
        #expect(try await again.series().contains(BarSeries(instrument: instrument, barSize: "1 min", what: "TRADES")))
    }

    static func exactValues(_ open: Opener, instrument: String) async throws {
        let series = BarSeries(instrument: instrument, barSize: "5 mins", what: "MIDPOINT")
        let store = try await open()
        let bars = [StoredBar(time: 1_704_205_800, open: 100.1, high: 100.30000000000001, low: 0.1 + 0.2, close: 1e-7, volume: nil, wap: nil, count: nil),
                    StoredBar(time: 1_704_206_100, open: 5450.25, high: 5451, low: 5449.75, close: 5450.5, volume: 12.5, wap: 5450.3, count: 0)]
        try await store.write(bars, of: series, covering: TimeSpan(1_704_205_800, 1_704_206_400))
        #expect(try await open().bars(series, in: TimeSpan(0, .max)) == bars)
        // A rewrite replaces the values of a bar (a corrected download), never adds one.
        var corrected = bars[1]
        corrected.close = 5452
        try await store.write([corrected], of: series, covering: TimeSpan(1_704_206_100, 1_704_206_400))
        #expect(try await store.bars(series, in: TimeSpan(0, .max)) == [bars[0], corrected])
    }

    static func seriesApart(_ open: Opener, instrument: String) async throws {
        let store = try await open()
        let minute = BarSeries(instrument: instrument, barSize: "1 min"), bid = BarSeries(instrument: instrument, barSize: "1 min", what: "BID")
        let other = BarSeries(instrument: instrument + "X", barSize: "1 min")
        try await store.write([bar(0, 1)], of: minute, covering: TimeSpan(0, 60))
        try await store.write([bar(0, 2), bar(60, 2)], of: bid, covering: TimeSpan(0, 120))
        try await store.write([bar(0, 3)], of: other, covering: TimeSpan(0, 60))
        #expect(try await store.bars(minute, in: TimeSpan(0, 600)).map(\.close) == [1])
        #expect(try await store.bars(bid, in: TimeSpan(0, 600)).map(\.close) == [2, 2])
        #expect(try await store.covered(other) == [TimeSpan(0, 60)])
    }

    /// Instrument details: kept per key beside the bars, read back exactly by another store on
    /// the same data, replaced by a second save, and refused (nothing stored) when unusable.
    static func instrumentDetails(_ open: Opener, key: String) async throws {
        let store = try await open()
        #expect(try await store.instrument(key) == nil)
        let es = StoredInstrument(key: key, secType: "FUT", currency: "USD", exchange: "CME", multiplier: 50, tick: 0.25,
                                  tradingHours: "20260105:1700-20260106:1600;20260106:1700-20260107:1600",
                                  liquidHours: "20260106:0830-20260106:1500", timeZone: "US/Central")
        try await store.saveInstrument(es)
        let forex = StoredInstrument(key: key + ".FX", secType: "CASH", currency: "JPY", exchange: "IDEALPRO", multiplier: 1, tick: 0.005,
                                     pairBase: "USD")
        try await store.saveInstrument(forex)
        let again = try await open()
        #expect(try await again.instrument(key) == es)
        #expect(try await again.instrument(key + ".FX") == forex)
        var corrected = es
        corrected.multiplier = 5
        corrected.tradingHours = ""
        corrected.timeZone = "America/Chicago"
        try await again.saveInstrument(corrected)
        #expect(try await store.instrument(key) == corrected)
        for bad in [Double.nan, .infinity, 0, -50, 1e300] {
            var wrong = es
            wrong.multiplier = bad
            await #expect(throws: InvalidInstrumentDetails.self) { try await store.saveInstrument(wrong) }
            wrong = es
            wrong.tick = bad
            await #expect(throws: InvalidInstrumentDetails.self) { try await store.saveInstrument(wrong) }
        }
        for zone in [String(repeating: "Z", count: 65), "US/Eastern\nDROP TABLE bars", "Europe/Zürich"] {
            var wrong = es
            wrong.timeZone = zone
            await #expect(throws: InvalidInstrumentDetails.self) { try await store.saveInstrument(wrong) }
        }
        #expect(try await store.instrument(key) == corrected)
    }

    /// Two weeks of minutes at once (the bulk path), and two writers at the same time.
    static func bulkAndConcurrent(_ open: Opener, instrument: String) async throws {
        let series = BarSeries(instrument: instrument, barSize: "1 min")
        let store = try await open()
        let bars = (0..<20_000).map { bar(Int64($0) * 60, Double($0)) }
        try await store.write(bars, of: series, covering: TimeSpan(0, 20_000 * 60))
        async let first: Void = store.write(Array(bars[0..<12_000]), of: series, covering: TimeSpan(0, 12_000 * 60))
        async let second: Void = open().write(Array(bars[8_000...]), of: series, covering: TimeSpan(8_000 * 60, 20_000 * 60))
        _ = try await (first, second)
        #expect(try await store.count(series) == 20_000)
        let read = try await store.bars(series, in: TimeSpan(0, .max))
        #expect(read.count == 20_000 && read.first == bars.first && read.last == bars.last)
        #expect(zip(read, read.dropFirst()).allSatisfy { $0.time < $1.time })
    }
}

@Suite("Bar store: SQLite")
struct SQLiteBarStoreTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bars-\(UUID().uuidString)/bars.sqlite").path

    var open: BarStoreContract.Opener {
        let path = path
        return { try SQLiteBarStore(path: path) }
    }

    @Test("writes are idempotent; coverage is kept with empty spans; a second store on the file sees it all")
    func idempotent() async throws { try await BarStoreContract.idempotentWrites(open, instrument: "AAPL") }

    @Test("values come back bit for bit, missing ones as missing; a rewrite corrects a bar")
    func exact() async throws { try await BarStoreContract.exactValues(open, instrument: "ES 202612") }

    @Test("series are kept apart by instrument, bar size and what")
    func apart() async throws { try await BarStoreContract.seriesApart(open, instrument: "MSFT") }

    @Test("20,000 bars at once, and two overlapping writers at the same time")
    func bulk() async throws { try await BarStoreContract.bulkAndConcurrent(open, instrument: "SPY") }

    @Test("instrument details round trip, are replaced by a second save, and unusable ones are refused")
    func details() async throws { try await BarStoreContract.instrumentDetails(open, key: "ES 202612") }
}

/// Against the server Scripts/test starts; each test on its own instruments (the tables are shared).
@Suite("Bar store: PostgreSQL", .enabled(if: !(ProcessInfo.processInfo.environment["MOONWIRE_TEST_POSTGRES"] ?? "").isEmpty, "MOONWIRE_TEST_POSTGRES names no server"))
struct PostgresBarStoreTests {
    let url = ProcessInfo.processInfo.environment["MOONWIRE_TEST_POSTGRES"] ?? ""
    let tag = String(UUID().uuidString.prefix(8))

    /// Stores opened by a test, shut down by `closeAll` (PostgresNIO's client must be shut down).
    final class Opened: @unchecked Sendable {
        var stores: [PostgresBarStore] = []
        let lock = NSLock()
        func add(_ store: PostgresBarStore) { lock.withLock { stores.append(store) } }
        func closeAll() async { for store in lock.withLock({ stores }) { await store.shutdown() } }
    }

    func run(_ body: (BarStoreContract.Opener) async throws -> Void) async throws {
        let opened = Opened()
        let url = url
        do {
            try await body {
                let store = try await PostgresBarStore.open(url)
                opened.add(store)
                return store
            }
        } catch {
            await opened.closeAll()
            throw error
        }
        await opened.closeAll()
    }

    @Test("writes are idempotent; coverage is kept with empty spans; a second store on the file sees it all")
    func idempotent() async throws { try await run { try await BarStoreContract.idempotentWrites($0, instrument: "AAPL\(tag)") } }

    @Test("values come back bit for bit, missing ones as missing; a rewrite corrects a bar")
    func exact() async throws { try await run { try await BarStoreContract.exactValues($0, instrument: "ES \(tag)") } }

    @Test("series are kept apart by instrument, bar size and what")
    func apart() async throws { try await run { try await BarStoreContract.seriesApart($0, instrument: "MSFT\(tag)") } }

    @Test("20,000 bars at once (COPY), and two overlapping writers at the same time")
    func bulk() async throws { try await run { try await BarStoreContract.bulkAndConcurrent($0, instrument: "SPY\(tag)") } }

    @Test("instrument details round trip, are replaced by a second save, and unusable ones are refused")
    func details() async throws { try await run { try await BarStoreContract.instrumentDetails($0, key: "ES \(tag)") } }

    @Test("a wrong URL and a server that is not there are errors that name them")
    func badURLs() async throws {
        await #expect(throws: PostgresBarStore.URLError.self) { try await PostgresBarStore.open("mysql://localhost/x") }
        let error = await #expect(throws: (any Error).self) { try await PostgresBarStore.open("postgres://moonwire:secret@127.0.0.1:1/nothing") }
        #expect("\(error!)".contains("127.0.0.1:1") && !"\(error!)".contains("secret"))
    }
}
