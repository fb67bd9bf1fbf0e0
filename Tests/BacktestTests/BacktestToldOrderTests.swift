import Foundation
import Testing
@testable import Backtest

/// What a strategy hears first in a backtest, and how a fill's time reads: as in a live run.
@Suite("Backtest: on_start first, a fill's time as TWS writes it")
struct BacktestToldOrderTests {
    @Test("on_start before the opening account values; on_fill's time in UTC with its zone")
    func startFirst() async throws {
        let fixture = try await BacktestRunTests.fixture()
        let lua = """
            local told = {}
            function on_start()
              told[#told + 1] = "start"
              market.subscribe("AAPL", { bars = "1 min" })
            end
            function on_account(a) told[#told + 1] = "account"; store.told = told end
            function on_bar(b) if not store.bought then store.bought = orders.buy("AAPL", 10) end end
            function on_fill(f) store.fill_time = f.time end
            """
        var rules = FillRules()
        rules.commission = .none
        let result = try await BacktestRunTests.run(lua, fixture, rules: rules)
        let store = try BacktestRunTests.store(result)
        let told = store["told"] as? [String] ?? []
        #expect(told.first == "start" && told.dropFirst().allSatisfy { $0 == "account" } && told.count >= 3, "\(told)")
        // Bought on the first bar, filled at 14:31's open.
        #expect(store["fill_time"] as? String == "20240102 14:31:00 UTC", "\(store)")
    }
}
