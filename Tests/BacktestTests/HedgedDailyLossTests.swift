import Foundation
import MarketHistory
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// The daily loss limit marks what is held by every instrument's close at a bar time at once
/// (docs/backtest.md, step 3). Marked as each instrument's bar was delivered, a hedge was
/// valued with one leg's new close and the other's old one: it halted on a loss it never had,
/// and only with its instruments in one order.
@Suite("Backtest: the daily loss of a hedge")
struct HedgedDailyLossTests {
    // Both legs at 100 for five bars, then both at 40: long one, short the other, flat in money.
    static let csv = """
        time,open,high,low,close,volume
        2024-01-02T14:30:00Z,100,100,100,100,1000
        2024-01-02T14:31:00Z,100,100,100,100,1000
        2024-01-02T14:32:00Z,100,100,100,100,1000
        2024-01-02T14:33:00Z,100,100,100,100,1000
        2024-01-02T14:34:00Z,100,100,100,100,1000
        2024-01-02T14:35:00Z,40,40,40,40,1000
        2024-01-02T14:36:00Z,40,40,40,40,1000
        """

    static let strategy = """
        function on_start()
          market.subscribe("HEDGEA", { bars = "1 min" })
          market.subscribe("HEDGEB", { bars = "1 min" })
        end
        function on_bar(b)
          if not store.placed then
            store.placed = true
            orders.buy("HEDGEA", 100)
            orders.sell("HEDGEB", 100)
          end
          -- What market.quote says of the other leg: every close of this bar time is known.
          local other = b.symbol == "HEDGEA" and "HEDGEB" or "HEDGEA"
          store.seen = store.seen or {}
          store.seen[#store.seen + 1] = b.close == market.quote(other).last and "same" or "stale"
        end
        function on_error(e) store.errors = (store.errors or 0) + 1; store.last_error = e.message end
        """

    static func run(order keys: [String]) async throws -> BacktestResult {
        let fixture = try await BacktestRunTests.fixture(csv: csv, symbol: "HEDGEA")
        let bars = try BarCSV.read(csv)
        try await fixture.store.write(bars, of: BarSeries(instrument: "HEDGEB", barSize: "1 min"),
                                      covering: TimeSpan(bars.first!.time, bars.last!.time + 60))
        let instruments = try keys.map { ResolvedInstrument(key: $0, contract: try InstrumentSpec.parse($0).contract, details: ContractDetails()) }
        let file = fixture.folder.appendingPathComponent("hedge.lua")
        try strategy.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 7 * 60))
        setup.rules.commission = .none
        setup.host.risk.maxDailyLoss = 5_000
        let data = try await BacktestData.load(setup: setup, instruments: instruments, store: fixture.store)
        return try await Backtester.run(data, loop: BacktestRunTests.loop)
    }

    /// `lua` over HEDGEA alone, no commission, a daily loss limit of 5,000: the result and the
    /// summary's "bars processed" line.
    static func runAlone(_ lua: String) async throws -> (BacktestResult, processed: String) {
        let fixture = try await BacktestRunTests.fixture(csv: csv, symbol: "HEDGEA")
        let file = fixture.folder.appendingPathComponent("alone.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 7 * 60))
        setup.rules.commission = .none
        setup.host.risk.maxDailyLoss = 5_000
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        let result = try await Backtester.run(data, loop: BacktestRunTests.loop)
        return (result, BacktestReport.summary(result, data: data).first { $0.contains("bars processed") } ?? "")
    }

    @Test("long HEDGEA, short HEDGEB, both fall 60: no loss, no halt, in either order of the instruments")
    func hedgeNeverHalts() async throws {
        for keys in [["HEDGEA", "HEDGEB"], ["HEDGEB", "HEDGEA"]] {
            let result = try await Self.run(order: keys)
            let store = try BacktestRunTests.store(result)
            #expect(store["errors"] == nil, "\(keys): \(store["last_error"] ?? "")")
            #expect(result.fills.count == 2, "\(keys)")
            #expect(result.equity.allSatisfy { abs($0.equity - 100_000) < 1e-9 }, "\(keys): \(result.equity.map(\.equity))")
            #expect(abs(result.metrics.netPnL) < 1e-9, "\(keys)")
            let seen = store["seen"] as? [String] ?? []
            #expect(seen.count == 14 && seen.allSatisfy { $0 == "same" }, "\(keys): \(seen)")
        }
    }

    @Test("a real loss on one leg still halts: long HEDGEA alone loses 6,180 beyond 5,000")
    func unhedgedLossHalts() async throws {
        let (result, processed) = try await Self.runAlone("""
            function on_start() market.subscribe("HEDGEA", { bars = "1 min" }) end
            function on_bar(b)
              local id, err = orders.buy("HEDGEA", store.placed and 1 or 100)
              store.placed = true
              store.results = store.results or {}
              store.results[#store.results + 1] = id and "ok" or err.code
            end
            """)
        let results = try BacktestRunTests.store(result)["results"] as? [String]
        // 103 bought at 100 and 1 at 40 when the close falls to 40: 6,180 lost, beyond 5,000:
        // halted before 14:35's on_bar, with every close of that bar time known.
        #expect(results == ["ok", "ok", "ok", "ok", "ok", "risk:halted", "risk:halted"], "\(results ?? [])")
        // The halt and the two refusals were told to on_error; no handler of the strategy failed.
        #expect(processed.hasSuffix("7, 3 refusals, halts or rejections told to on_error"), "\(processed)")
    }

    @Test("a handler's failure is counted as one, not as a refusal")
    func handlerFailureApart() async throws {
        let (_, processed) = try await Self.runAlone("""
            function on_start() market.subscribe("HEDGEA", { bars = "1 min" }) end
            local n = 0
            function on_bar(b) n = n + 1; if n == 3 then error("the third bar") end end
            """)
        #expect(processed.hasSuffix("7, 1 handler failure"), "\(processed)")
    }
}
