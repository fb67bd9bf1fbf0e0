import Foundation
import MarketHistory
import Money
import StrategyHost
import TWSProtocol
import Testing
@testable import Backtest

/// IB's one-cancels-all groups are named per account, not per instrument: "buy AAPL or MSFT,
/// whichever comes first". The backtest keeps one broker per instrument; a fill in one settles
/// the group's members in the others, as the paper gateway does.
@Suite("Backtest: one-cancels-all across instruments")
struct BacktestCrossOCATests {
    @Test("a group over AAPL and MSFT: AAPL fills first (the instruments' order at a tie), MSFT's member is cancelled, never filled")
    func acrossInstruments() async throws {
        let fixture = try await BacktestRunTests.fixture()
        let bars = try BarCSV.read(BacktestRunTests.csv)
        try await fixture.store.write(bars, of: BarSeries(instrument: "MSFT", barSize: "1 min"),
                                      covering: TimeSpan(bars.first!.time, bars.last!.time + 60))
        let msft = ResolvedInstrument(key: "MSFT", contract: try InstrumentSpec.parse("MSFT").contract, details: ContractDetails())
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try """
            function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
            function on_bar(b)
              if store.placed then return end
              store.placed = true
              store.aapl = orders.buy("AAPL", 10, { oca = "either" })
              store.msft = orders.buy("MSFT", 10, { oca = "either" })
            end
            function on_order(o)
              if o.status == "cancelled" then store.cancelled = o.id end
            end
            """.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 6 * 60))
        setup.rules.commission = .none
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument, msft], store: fixture.store)
        let result = try await Backtester.run(data, loop: BacktestRunTests.loop)
        let store = try BacktestRunTests.store(result)
        #expect(result.fills.map(\.instrument) == ["AAPL"], "\(result.fills)")
        #expect((store["cancelled"] as? Int) == (store["msft"] as? Int), "\(store)")
        #expect(result.openPositions == ["AAPL": 10])
    }
}
