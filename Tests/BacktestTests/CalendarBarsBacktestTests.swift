import Foundation
import MarketHistory
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// Day and week bars in a backtest: a strategy asks for `1 day` over daily data (the most
/// common backtest) and gets the data's own bars; over minutes it gets days built from them,
/// finished with each day's last minute; over days it gets weeks.
@Suite("Backtest: day and week bars")
struct CalendarBarsBacktestTests {
    // Weekdays from Tuesday 2 January 2024; bar k (from 1) opens at 100 + 10k.
    static let dates = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10",
                        "2024-01-11", "2024-01-12"]
    static let dailyCSV = "time,open,high,low,close,volume\n" + dates.enumerated().map { index, date in
        let open = 100 + 10 * Double(index + 1)
        return "\(date)T00:00:00Z,\(open),\(open + 5),\(open - 5),\(open + 1),1000"
    }.joined(separator: "\n")

    static func fixture(csv: String, barSize: String) async throws -> BacktestRunTests.Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-bt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteBarStore(path: folder.appendingPathComponent("bars.sqlite").path)
        let bars = try BarCSV.read(csv)
        let seconds = Int64(HistoricalSpan.barSeconds(barSize)!)
        try await store.write(bars, of: BarSeries(instrument: "AAPL", barSize: barSize), covering: TimeSpan(bars.first!.time, bars.last!.time + seconds))
        let spec = try InstrumentSpec.parse("AAPL")
        return BacktestRunTests.Fixture(folder: folder, store: store,
                                        instrument: ResolvedInstrument(key: spec.key, contract: spec.contract, details: ContractDetails()))
    }

    static func run(_ lua: String, _ fixture: BacktestRunTests.Fixture, span: TimeSpan, barSize: String = "1 day") async throws -> BacktestResult {
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: span)
        setup.barSize = barSize
        setup.rules.commission = .none
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        return try await Backtester.run(data, loop: BacktestRunTests.loop)
    }

    static let start = UTCTime.epoch(year: 2024, month: 1, day: 2)

    @Test("`bars = \"1 day\"` over daily bars: buy on the 3rd bar, sell on the 7th, filled at the opens of the 4th and 8th")
    func handMadeDaily() async throws {
        let fixture = try await Self.fixture(csv: Self.dailyCSV, barSize: "1 day")
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 day" }) end
            function on_bar(b)
              store.n = (store.n or 0) + 1
              store.sizes = store.sizes or {}
              store.sizes[#store.sizes + 1] = b.size
              if store.n == 3 then orders.buy("AAPL", 10) end
              if store.n == 7 then orders.sell("AAPL", 10) end
            end
            """
        let result = try await Self.run(lua, fixture, span: TimeSpan(Self.start, Self.start + 11 * 86400))
        let store = try BacktestRunTests.store(result)
        #expect(store["n"] as? Int == 9)
        #expect((store["sizes"] as? [String])?.allSatisfy { $0 == "1 day" } == true)
        let prices: [Double] = result.fills.map { $0.price }
        let times: [Int64] = result.fills.map { $0.time }
        #expect(prices == [140, 180], "the opens of bars 4 and 8")
        #expect(times == [Self.start + 3 * 86400, UTCTime.epoch(year: 2024, month: 1, day: 11)])
        #expect(result.notices.isEmpty, "\(result.notices)")
    }

    @Test("`bars = \"1 week\"` over daily bars: Monday-dated weeks, each finished with its Friday")
    func weeksFromDays() async throws {
        let fixture = try await Self.fixture(csv: Self.dailyCSV, barSize: "1 day")
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 week" }) end
            function on_bar(b)
              store.bars = store.bars or {}
              store.bars[#store.bars + 1] = { b.time, b.open, b.high, b.low, b.close, b.volume, now() }
            end
            """
        let result = try await Self.run(lua, fixture, span: TimeSpan(Self.start, Self.start + 11 * 86400))
        let bars = try BacktestRunTests.store(result)["bars"] as? [[Double]]
        let monday = Double(UTCTime.epoch(year: 2024, month: 1, day: 1))
        let fridayEnd = Double(UTCTime.epoch(year: 2024, month: 1, day: 6))
        // Week 1: Tuesday to Friday (bars 1-4), told at Friday's end. Week 2 (bars 5-9) ends
        // with the data: nothing says the data would not go on, so it is not finished.
        #expect(bars == [[monday, 110, 145, 105, 141, 4000, fridayEnd]], "\(bars ?? [])")
    }

    @Test("`bars = \"1 day\"` over minutes: each day from its minutes, told at its last minute's end")
    func daysFromMinutes() async throws {
        let csv = """
            time,open,high,low,close,volume
            2024-01-02T14:30:00Z,100,101,99,100.5,10
            2024-01-02T14:31:00Z,100.5,103,100,102,10
            2024-01-02T20:59:00Z,102,102.5,98,99,10
            2024-01-03T14:30:00Z,99,99.5,97,98,10
            2024-01-03T14:31:00Z,98,98,96,97,10
            2024-01-04T14:30:00Z,97,97,97,97,10
            """
        let fixture = try await Self.fixture(csv: csv, barSize: "1 min")
        let lua = """
            function on_start() market.subscribe("AAPL", { bars = "1 day" }) end
            function on_bar(b)
              store.bars = store.bars or {}
              store.bars[#store.bars + 1] = { b.time, b.open, b.high, b.low, b.close, b.volume, now() }
            end
            """
        let result = try await Self.run(lua, fixture, span: TimeSpan(Self.start, Self.start + 3 * 86400), barSize: "1 min")
        let bars = try BacktestRunTests.store(result)["bars"] as? [[Double]]
        let day = Double(Self.start)
        #expect(bars == [[day, 100, 103, 98, 99, 30, day + 21 * 3600],
                         [day + 86400, 99, 99.5, 96, 97, 20, day + 86400 + 14 * 3600 + 32 * 60]], "\(bars ?? [])")
    }
}
