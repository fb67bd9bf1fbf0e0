import Foundation
import MarketHistory
import Testing
@testable import Backtest

/// The per-minute order counts in a backtest run on the simulated clock (docs/backtest.md,
/// "Risk"): an order leaves the count a minute after it was placed in simulated time, however
/// fast the bars run on the wall clock. Timers place orders between bar closes, so the gate
/// must take the clock's time, not the last bar's.
@Suite("Backtest: orders per minute on the simulated clock")
struct BacktestOrderRateTests {
    /// Tries one resting buy (far below the market: it never fills) and logs
    /// `label@seconds-since-the-first-on_bar result` in `store.log`.
    static let tryOrder = """
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        local function try(label)
          local id, err = orders.buy("AAPL", 1, { limit = 50 })
          store.log = store.log or {}
          store.log[#store.log + 1] = label .. "@" .. math.floor(now() - first + 0.5) .. " " .. (id and "ok" or (err.code .. " | " .. err.message))
        end
        """

    static func run(_ lua: String, configure: (inout BacktestSetup) -> Void) async throws -> [String] {
        let fixture = try await BacktestRunTests.fixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let file = fixture.folder.appendingPathComponent("strategy.lua")
        try lua.write(to: file, atomically: true, encoding: .utf8)
        var setup = BacktestSetup(strategyPath: file.path, span: TimeSpan(BacktestRunTests.start, BacktestRunTests.start + 6 * 60))
        configure(&setup)
        let data = try await BacktestData.load(setup: setup, instruments: [fixture.instrument], store: fixture.store)
        let result = try await Backtester.run(data, loop: BacktestRunTests.loop)
        #expect(result.fills.isEmpty, "the orders rest far below the market")
        return try BacktestRunTests.store(result)["log"] as? [String] ?? []
    }

    @Test("risk.max_orders_per_minute 2: a third order in the same minute is refused naming the limit; 59 s on still refused, 61 s on accepted")
    func strategyLimit() async throws {
        // The first on_bar runs at 14:31 (the 14:30 bar's end): a, b, c there; d and e from
        // timers 59 s and 61 s later (14:31:59 and 14:32:01, between two bar closes). The
        // backtest runs in milliseconds of wall time: a gate on the wall clock refuses e too.
        let log = try await Self.run(Self.tryOrder + "\n" + """
            function on_bar(b)
              if first then return end
              first = now()
              try("a"); try("b"); try("c")
              timer.after(59, function() try("d") end)
              timer.after(61, function() try("e") end)
            end
            """) { $0.host.risk.maxOrdersPerMinute = 2 }
        let refused = "risk:max_orders_per_minute | risk: 2 orders in the last minute, risk.max_orders_per_minute is 2"
        #expect(log == ["a@0 ok", "b@0 ok", "c@0 " + refused, "d@59 " + refused, "e@61 ok"], "\(log)")
    }

    @Test("account_risk.max_orders_per_minute 2 counts on the simulated clock too, an order from a timer at its own time")
    func accountLimit() async throws {
        // a at 14:31:00 (on_bar), b at 14:31:30 (a timer between bar closes), then at 14:32:05
        // (65 s after a): a has left the minute, b has not. c makes two in the minute; d is the
        // third: refused. Counted at the last bar's end (14:32:00) instead of 14:31:30, b would
        // have left the minute with a, and d would pass.
        let log = try await Self.run(Self.tryOrder + "\n" + """
            function on_bar(b)
              if first then return end
              first = now()
              try("a")
              timer.after(30, function() try("b") end)
              timer.after(65, function() try("c"); try("d") end)
            end
            """) { setup in
            setup.host.risk.maxOrdersPerMinute = 100
            setup.host.accountRisk.maxOrdersPerMinute = 2
        }
        let refused = "risk:account_max_orders_per_minute | risk: 2 orders of the account in the last minute, account_risk.max_orders_per_minute is 2"
        #expect(log == ["a@0 ok", "b@30 ok", "c@65 ok", "d@65 " + refused], "\(log)")
    }
}
