import Foundation
import MarketHistory
import Money
import NIOPosix
import LuaRuntime
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// The whole backtest: a real strategy file through the host's Strategy, a real SQLite store,
/// bars small enough to work out every fill by hand.
@Suite("Backtest runs")
struct BacktestRunTests {
    // 2024-01-02 14:30 UTC, one-minute bars.
    static let start: Int64 = 1_704_205_800
    //   #  time     open   high   low    close
    static let csv = """
        time,open,high,low,close,volume
        2024-01-02T14:30:00Z,100.00,100.50,99.50,100.20,1000
        2024-01-02T14:31:00Z,100.30,101.00,100.10,100.90,1000
        2024-01-02T14:32:00Z,101.00,101.40,100.60,101.20,1000
        2024-01-02T14:33:00Z,101.10,101.30,98.80,99.00,1000
        2024-01-02T14:34:00Z,98.50,99.20,98.00,99.10,1000
        2024-01-02T14:35:00Z,99.20,102.50,99.10,102.00,1000
        """

    static let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    struct Fixture {
        let folder: URL
        let store: SQLiteBarStore
        let instrument: ResolvedInstrument
    }

    static func fixture(csv: String = csv, symbol: String = "AAPL") async throws -> Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-bt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let bars = try BarCSV.read(csv)
        try await store.write(bars, of: BarSeries(instrument: symbol, barSize: "1 min"),
                              covering: TimeSpan(bars.first!.time, bars.last!.time + 60))
        let spec = try InstrumentSpec.parse(symbol)
        return Fixture(folder: folder, store: store, instrument: ResolvedInstrument(key: spec.key, contract: spec.contract, details: ContractDetails()))
    }

    static func run(_ lua: String, _ fixture: Fixture, rules: FillRules = FillRules(), span: TimeSpan? = nil,
                    params: [String: String] = [:]) async throws -> BacktestResult
    {
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: span ?? TimeSpan(start, start + 6 * 60))
        setup.rules = rules
        setup.params = params
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        return try await Backtester.run(data, loop: loop)
    }

    /// The strategy's `store` at the end, as plain values (arrays for 1..n tables; numbers as
    /// Int when whole integers, else Double).
    static func store(_ result: BacktestResult) throws -> [String: Any] {
        guard let data = result.finalStore else { return [:] }
        return plain(try JSONDecoder().decode(LuaValue.self, from: data)) as? [String: Any] ?? [:]
    }

    static func plain(_ value: LuaValue) -> Any? {
        switch value {
        case .nil: return nil
        case let .bool(flag): return flag
        case let .integer(number): return Int(number)
        case let .number(number): return number
        case let .string(text): return text
        case let .table(table):
            let indices = table.keys.compactMap { key -> Int? in if case let .integer(i) = key { return Int(i) } else { return nil } }
            if indices.count == table.count, Set(indices) == Set(1...max(indices.count, 1)) || table.isEmpty {
                return (1...max(indices.count, 1)).prefix(table.count).map { plainNumber(table[.integer(Int64($0))]!) }
            }
            var out: [String: Any] = [:]
            for (key, item) in table { if case let .string(name) = key { out[name] = plain(item) } }
            return out
        }
    }

    /// Inside arrays numbers are compared as Double (Lua keeps 120.0 and 120 apart, tests need not).
    static func plainNumber(_ value: LuaValue) -> Any {
        switch value {
        case let .integer(number): return Double(number)
        default: return plain(value) ?? NSNull()
        }
    }

    /// Buys 100 on bar 2 (14:31), sells them on bar 4 (14:33): market orders.
    static let roundTrip = """
        local n = 0
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          n = n + 1
          if n == 2 then orders.buy("AAPL", 100) end
          if n == 4 then orders.sell("AAPL", 100) end
        end
        """

    @Test("next-bar open (the default): bought at 14:32's open 101.00, sold at 14:34's open 98.50; IB fixed commission 1.00 a side")
    func nextOpenByHand() async throws {
        let fixture = try await Self.fixture()
        let result = try await Self.run(Self.roundTrip, fixture)
        #expect(result.fills.map(\.price) == [101.00, 98.50])
        #expect(result.fills.map(\.time) == [Self.start + 120, Self.start + 240])
        #expect(result.fills.map(\.commission) == [1.00, 1.00])
        // (98.50 - 101.00) * 100 - 2.00
        #expect(abs(result.metrics.netPnL - -252.0) < 1e-9)
        #expect(result.trades.count == 1)
        #expect(abs(result.trades[0].pnl - -252.0) < 1e-9)
        #expect(result.metrics.trades == 1 && result.metrics.winRate == 0)
        #expect(result.metrics.commissions == 2.0)
        #expect(result.metrics.barsProcessed == 6)
        #expect(result.statistics.fills == 2)
    }

    @Test("same-bar close: bought at 14:31's close 100.90, sold at 14:33's close 99.00, two ticks of slippage against each")
    func sameCloseByHand() async throws {
        let fixture = try await Self.fixture()
        var rules = FillRules()
        rules.timing = .sameBarClose
        rules.slippageTicks = 2
        rules.commission = .ibTiered
        let result = try await Self.run(Self.roundTrip, fixture, rules: rules)
        #expect(result.fills.map(\.price) == [100.92, 98.98])
        // Tiered: max(0.0035 * 100, 0.35) = 0.35 a side; (98.98 - 100.92) * 100 - 0.70
        #expect(result.fills.map(\.commission) == [0.35, 0.35])
        #expect(abs(result.metrics.netPnL - -194.70) < 1e-9)
    }

    @Test("a limit buys only when a later bar trades through it; a stop sells at the open it gaps through")
    func limitAndStopByHand() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            local n = 0
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              n = n + 1
              if n == 1 then orders.buy("AAPL", 50, { limit = 100.20 }) end   -- 14:31 low 100.10 reaches it
              if n == 3 then orders.sell("AAPL", 50, { stop = 99.50 }) end    -- 14:33 falls through 99.50
            end
            """
        var rules = FillRules()
        rules.commission = .perUnit(0.01)
        let result = try await Self.run(lua, fixture, rules: rules)
        // The limit fills at 100.20 on 14:31; the stop, placed on 14:32's close, meets 14:33
        // (open 101.10, low 98.80): touched inside the bar, filled at the stop 99.50.
        #expect(result.fills.map(\.price) == [100.20, 99.50])
        #expect(result.fills.map(\.time) == [Self.start + 60, Self.start + 180])
        #expect(result.fills.map(\.commission) == [0.5, 0.5])
        #expect(abs(result.metrics.netPnL - ((99.50 - 100.20) * 50 - 1.0)) < 1e-9)
    }

    @Test("no look-ahead: market.history and market.quote in on_bar end with the bar being handled, now() is that bar's end")
    func noLookAhead() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              local bars = market.history("AAPL", { duration = "1 D", bar = "1 min" })
              store.checked = (store.checked or 0) + 1
              store.last_close = bars[#bars].close
              if bars[#bars].close ~= b.close then store.peeked = true end
              if now() ~= b.time + 60 then store.bad_now = now() end
              local q = market.quote("AAPL")
              if q.last ~= b.close or q.time ~= b.time + 60 then store.bad_quote = q.last end
              store.counts = store.counts or {}
              store.counts[#store.counts + 1] = #bars
            end
            """
        let result = try await Self.run(lua, fixture)
        let store = try Self.store(result)
        #expect(store["checked"] as? Int == 6)
        #expect(store["peeked"] == nil)
        #expect(store["bad_now"] == nil)
        #expect(store["bad_quote"] == nil, "market.quote is the bar just closed")
        #expect(store["counts"] as? [Double] == [1, 2, 3, 4, 5, 6])
        #expect(result.journalCount == 0)
    }

    @Test("history asked for at the start gets only what ended before the span (nothing here), never the span's bars")
    func historyAtStart() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start()
              local bars, err = market.history("AAPL", { duration = "3600 S", bar = "1 min" })
              store.count = bars and #bars or -1
            end
            """
        let result = try await Self.run(lua, fixture)
        #expect(try Self.store(result)["count"] as? Int == 0)
    }

    @Test("timers run on the simulated clock: every 120 s over six minutes fires three times, at the right now()")
    func simulatedTimers() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start()
              store.times = {}
              timer.every(120, function() store.times[#store.times + 1] = now() end)
            end
            """
        let result = try await Self.run(lua, fixture)
        let times = try Self.store(result)["times"] as? [Double]
        #expect(times == [120, 240, 360].map { Double(Self.start + $0) })
    }

    @Test("deterministic: the same inputs give the same fills and equity, bit for bit")
    func deterministic() async throws {
        let fixture = try await Self.fixture()
        let first = try await Self.run(Self.roundTrip, fixture)
        let second = try await Self.run(Self.roundTrip, fixture)
        #expect(first.fills == second.fills)
        #expect(first.equity == second.equity)
        #expect(first.metrics == second.metrics)
    }

    @Test("orders pass the same risk gate: one over risk.max_order_quantity is refused at the call")
    func riskGate() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              if not store.tried then
                store.tried = true
                local id, err = orders.buy("AAPL", 5000)
                store.code = err and err.code
              end
            end
            """
        let result = try await Self.run(lua, fixture)
        let store = try Self.store(result)
        #expect(store["code"] as? String == "risk:max_order_quantity", "\(store) \(result.journal)")
        #expect(result.fills.isEmpty)
        #expect(result.statistics.ordersRefused == 1)
    }

    @Test("bars of a larger size are built from the data's: 2-minute bars from 1-minute ones, told when each closes")
    func aggregatedBars() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "2 mins" }) end
            function on_bar(b)
              store.bars = store.bars or {}
              store.bars[#store.bars + 1] = { b.time, b.open, b.high, b.low, b.close, now() }
            end
            """
        let result = try await Self.run(lua, fixture)
        let bars = try Self.store(result)["bars"] as? [[Double]]
        let s = Double(Self.start)
        #expect(bars == [[s, 100.00, 101.00, 99.50, 100.90, s + 120],
                         [s + 120, 101.00, 101.40, 98.80, 99.00, s + 240],
                         [s + 240, 98.50, 102.50, 98.00, 102.00, s + 360]])
    }

    @Test("the daily loss limit counts per simulated day: halted on a losing day, trading again the next")
    func dailyLossPerDay() async throws {
        // Two days: the first falls 20 a share in its third minute, the second is flat.
        let csv = """
            time,open,high,low,close,volume
            2024-01-02T14:30:00Z,100,100,100,100,1000
            2024-01-02T14:31:00Z,100,100,100,100,1000
            2024-01-02T14:32:00Z,100,100,80,80,1000
            2024-01-02T14:33:00Z,80,80,80,80,1000
            2024-01-03T14:30:00Z,80,80,80,80,1000
            2024-01-03T14:31:00Z,80,80,80,80,1000
            """
        let fixture = try await Self.fixture(csv: csv)
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              local id, err = orders.buy("AAPL", 10)
              store.results = store.results or {}
              store.results[#store.results + 1] = id and "ok" or err.code
            end
            """
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(Self.start, Self.start + 86_400 + 120))
        setup.host.risk.maxDailyLoss = 150
        setup.rules.commission = .none
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        let result = try await Backtester.run(data, loop: Self.loop)
        let results = try Self.store(result)["results"] as? [String]
        // Bars 1 and 2 buy 10 each (filled at 100 at the opens of bars 2 and 3); bar 3 closes
        // at 80: 20 x 20 = 400 lost, beyond 150: halted before its on_bar, for the rest of the
        // day. The next day counts from there and trades again.
        #expect(results == ["ok", "ok", "risk:halted", "risk:halted", "ok", "ok"], "\(results ?? [])")
    }

    @Test("a bracket: the entry fills at the next open, its exits work from then on, the first to fill cancels the other")
    func bracket() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              if not store.ids then
                store.ids = orders.bracket("AAPL", 100, { take_profit = 101.30, stop_loss = 98.90 })
              end
            end
            function on_order(o)
              store.statuses = store.statuses or {}
              store.statuses[#store.statuses + 1] = o.type .. ":" .. o.status
            end
            """
        var rules = FillRules()
        rules.commission = .none
        let result = try await Self.run(lua, fixture, rules: rules)
        // Entry: 14:31's open 100.30. Take profit: 14:32 trades through 101.30 (high 101.40),
        // filled at the limit. The stop is cancelled then, never filled at 14:33's low.
        #expect(result.fills.map(\.price) == [100.30, 101.30])
        #expect(result.fills.map(\.time) == [Self.start + 60, Self.start + 120])
        let statuses = try Self.store(result)["statuses"] as? [String] ?? []
        #expect(statuses.contains("STP:cancelled") && !statuses.contains("STP:filled"), "\(statuses)")
        #expect(abs(result.metrics.netPnL - 100.0) < 1e-9)
        #expect(result.openPositions.isEmpty)
    }

    @Test("on_quote gets a quote of every bar (last = the close) when the strategy asked for quotes; a trailing stop follows the highs")
    func quotesAndTrailingStops() async throws {
        let fixture = try await Self.fixture()
        let lua = """
            function on_start() market.subscribe("AAPL", { quotes = true }) end
            function on_quote(q)
              store.lasts = store.lasts or {}
              store.lasts[#store.lasts + 1] = q.last
              if #store.lasts == 1 then orders.sell("AAPL", 10, { trail = 0.5 }) end
            end
            function on_error(e) store.error = e.message end
            """
        let result = try await Self.run(lua, fixture)
        let store = try Self.store(result)
        #expect(store["lasts"] as? [Double] == [100.20, 100.90, 101.20, 99.00, 99.10, 102.00])
        // Sell, trailing 0.50 (Money's rule, the paper gateway's): 14:31 opens 100.30 (stop
        // 99.80), its high 101.00 lifts it to 100.50; 14:32's high 101.40 to 100.90; 14:33
        // opens 101.10 and falls to 98.80: sold at the stop, 100.90.
        #expect(store["error"] == nil, "\(store)")
        #expect(result.fills.map(\.price) == [100.90] && result.fills.map(\.time) == [Self.start + 180] && result.ordersRejected == 0)
    }
}
