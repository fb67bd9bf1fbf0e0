import Foundation
import GRDB
import MarketHistory
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// A run that reads its bars as it goes (`BacktestData.load(streaming:)`, what `moonwire
/// backtest` does for a single run) comes to the same figures, bit for bit, as one over bars
/// read whole: chunks of one bar, of a few, and one that holds them all; with market, limit
/// and bracket orders, 5-minute bars built across the chunks' seams, history asked for at
/// every tenth bar, timers, and two stored bars the checks refuse (one in the first part,
/// one later).
@Suite("Backtest: bars read as the run goes")
struct StreamedBacktestTests {
    static let start: Int64 = 1_704_205_800  // 2024-01-02 14:30 UTC
    static let count = 600

    /// A seeded random walk of one-minute bars with gaps (every 37th minute, and minutes 200
    /// to 206: a 5-minute bar then ends at its last bar, known by the next one's time), two of
    /// them made unusable after they are stored (a high below the low: what another tool
    /// could have written).
    static func fixture() async throws -> BacktestRunTests.Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("bars.sqlite").path
        let store = try SQLiteBarStore(path: path)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var price = 100.0
        let bars = (0..<count).filter { $0 % 37 != 36 && !(200..<207).contains($0) }.map { index -> StoredBar in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let step = (Double(state >> 33) / Double(1 << 31) - 0.5) * 0.8
            let open = price, close = max(1, price + step)
            price = close
            return StoredBar(time: start + Int64(index) * 60, open: open, high: max(open, close) + 0.3, low: min(open, close) - 0.3,
                             close: close, volume: 1000, wap: nil, count: nil)
        }
        try await store.write(bars, of: BarSeries(instrument: "AAPL", barSize: "1 min"), covering: TimeSpan(start, start + Int64(count) * 60))
        let raw = try DatabaseQueue(path: path)
        try await raw.write { db in
            try db.execute(sql: "UPDATE bars SET high = low - 1 WHERE time IN (?, ?)", arguments: [start + 3 * 60, start + 400 * 60])
        }
        try raw.close()
        let spec = try InstrumentSpec.parse("AAPL")
        return BacktestRunTests.Fixture(folder: folder, store: store,
                                        instrument: ResolvedInstrument(key: spec.key, contract: spec.contract, details: ContractDetails()))
    }

    static let strategy = """
        local closes, n = {}, 0
        function on_start()
          market.subscribe("AAPL", { bars = "1 min" })
          market.subscribe("AAPL", { bars = "5 mins" })
          timer.every(420, function() store.ticks = (store.ticks or 0) + 1 end)
        end
        function on_bar(b)
          if b.size == "5 mins" then
            -- when each was given, among the minutes: a 5-minute bar finished late shows here
            store.seen = (store.seen or "") .. n .. ","
            store.fives = (store.fives or 0) + 1
            store.five_sum = (store.five_sum or 0) + b.close
            return
          end
          n = n + 1
          closes[n] = b.close
          store.minutes = n
          if n % 10 == 0 then
            local bars = market.history("AAPL", { duration = "1200 S", bar = "1 min" })
            store.history = (store.history or 0) + #bars
            store.history_last = bars[#bars] and bars[#bars].close
          end
          if n < 20 then return end
          local fast, slow = 0, 0
          for i = n - 4, n do fast = fast + closes[i] end
          for i = n - 19, n do slow = slow + closes[i] end
          local held = (account.position("AAPL") or {}).qty or 0
          if fast / 5 > slow / 20 and held == 0 then
            if n % 3 == 0 then
              orders.bracket("AAPL", 10, { take_profit = b.close + 0.6, stop_loss = b.close - 0.5 })
            else
              orders.buy("AAPL", 10, { limit = b.close - 0.05 })
            end
          elseif fast / 5 < slow / 20 and held > 0 then
            orders.cancel_all()
            orders.sell("AAPL", held)
          end
        end
        """

    static func run(_ fixture: BacktestRunTests.Fixture, streaming: BarFeed.Chunks?) async throws -> (BacktestResult, BacktestData) {
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try strategy.write(to: file, atomically: true, encoding: .utf8)
        let setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(start, start + Int64(count) * 60))
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store, streaming: streaming)
        let result = try await Backtester.run(data, loop: BacktestRunTests.loop)
        return (result, result.streamedData ?? data)
    }

    @Test("the same fills, equity, figures, strategy store and notices as a run over bars read whole",
          arguments: [BarFeed.Chunks(first: 1, chunk: 1), BarFeed.Chunks(first: 7, chunk: 13), BarFeed.Chunks(first: 2, chunk: 256),
                      BarFeed.Chunks.standard])
    func sameAsWhole(chunks: BarFeed.Chunks) async throws {
        let fixture = try await Self.fixture()
        let (whole, wholeData) = try await Self.run(fixture, streaming: nil)
        let (streamed, streamedData) = try await Self.run(fixture, streaming: chunks)
        // The run did something worth comparing: orders of each kind filled, 5-minute bars
        // built, history read, timers fired, the two bad bars left out.
        #expect(whole.fills.count > 20)
        let store = try BacktestRunTests.store(whole)
        #expect(store["minutes"] as? Int == Self.count - Self.count / 37 - 7 - 2)
        #expect((store["fives"] as? Int ?? 0) >= 100 && (store["history"] as? Int ?? 0) > 1000 && (store["ticks"] as? Int ?? 0) > 50)
        let refusal = "AAPL: 2 stored bars left out as unusable"
        #expect(wholeData.notices.contains { $0.hasPrefix(refusal) })

        #expect(streamed.fills.map { [$0.time, Int64($0.price.bitPattern), Int64($0.quantity.bitPattern)] }
                    == whole.fills.map { [$0.time, Int64($0.price.bitPattern), Int64($0.quantity.bitPattern)] })
        #expect(streamed.equity.map { [$0.time, Int64($0.equity.bitPattern)] } == whole.equity.map { [$0.time, Int64($0.equity.bitPattern)] })
        #expect(streamed.metrics.netPnL.bitPattern == whole.metrics.netPnL.bitPattern)
        #expect(streamed.metrics.barsProcessed == whole.metrics.barsProcessed)
        #expect(streamed.trades.count == whole.trades.count)
        #expect(streamed.finalStore == whole.finalStore)
        #expect(streamed.journalCount == whole.journalCount)
        // Every bar read is in the data the report is written from; the refusal is said once,
        // counting both bad bars (the first part's and the later one).
        #expect(streamedData.series[0].bars.map(\.time) == wholeData.series[0].bars.map(\.time))
        #expect(streamedData.series[0].feed == nil)
        let said = (streamedData.notices + streamed.notices).filter { $0.contains("left out as unusable") }
        #expect(said == wholeData.notices.filter { $0.contains("left out as unusable") }, "\(said)")
        #expect(Set(streamed.notices.filter { !$0.contains("unusable") }) == Set(whole.notices))
    }

    @Test("a store that fails in the middle of the run ends it with the store's error (no partial result)")
    func storeFailsMidRun() async throws {
        let fixture = try await Self.fixture()
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try "function on_start() market.subscribe('AAPL', { bars = '1 min' }) end\nfunction on_bar(b) end".write(to: file, atomically: true, encoding: .utf8)
        let setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(Self.start, Self.start + Int64(Self.count) * 60))
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store,
                                               streaming: BarFeed.Chunks(first: 10, chunk: 50))
        #expect(data.streams && data.barCount == 9)  // the 4th bar is one of the two refused
        // The file goes away under the run: the feed's next read finds no table.
        let raw = try DatabaseQueue(path: fixture.folder.appendingPathComponent("bars.sqlite").path)
        try await raw.write { db in try db.execute(sql: "DROP TABLE bars") }
        try raw.close()
        await #expect(throws: (any Error).self) { try await Backtester.run(data, loop: BacktestRunTests.loop) }
    }
}
