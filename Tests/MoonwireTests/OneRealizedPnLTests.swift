import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// The strategy's realized PnL and the account's (the paper gateway's, as TWS would report it)
/// come from the one ledger: the same fills give the same number in the run's summary. Before,
/// the strategy counted the open position's commission as realized (-8.00 against -7.00).
@Suite("One realized PnL", .timeLimit(.minutes(1)))
struct OneRealizedPnLTests {
    /// Buys 200, sells 100 and keeps 100 open: three fills, three commissions of 1.00 (IB's
    /// minimum); realized = the sale's (price - average cost incl. 1.00 of the buy's commission
    /// per 200) × 100 less its own 1.00; the buy's other half and its commission stay in the cost.
    static let partialClose = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if step == nil then step = 1; orders.buy("AAPL", 200) end
        end
        function on_fill(f)
          local held = account.position("AAPL")
          if f.side == "BUY" and step == 1 and held and held.qty == 200 then step = 2; orders.sell("AAPL", 100) end
          if f.side == "SELL" then log.info("sold") end
        end
        """

    @Test("the strategy's realized PnL is the account's, to the cent, with a position left open")
    func sameRealized() async throws {
        let embedded = try await Embedded.start()
        let file = try embedded.write("partial.lua", Self.partialClose)
        _ = try await embedded.runtime.addStrategy(file: file)
        try await embedded.waitForLines("partial") { $0.contains("sold") }
        let summary = await embedded.runtime.stop()
        let strategy = try #require(summary.strategies.first)
        let account = try #require(summary.pnl?.realizedPnL)
        // Both sides paid commissions; the realized figure holds the sale's 1.00 and half the buy's.
        #expect(strategy.fills.count >= 2)
        #expect(abs(strategy.commissions - 2) < 1e-9)
        #expect(abs(strategy.statistics.realizedPnL - account) < 0.005, "strategy \(strategy.statistics.realizedPnL), account \(account)")
        let held = try #require(strategy.positions.first)
        #expect(held.quantity == 100)
        // The average cost per unit of price includes the half of the buy's commission left: 0.005.
        let buys = strategy.fills.filter { $0.side == "BOT" }
        let paid = buys.reduce(0.0) { $0 + $1.price * $1.shares } + 1.00
        #expect(abs(held.averageCost - paid / 200) < 1e-9)
        try? FileManager.default.removeItem(at: embedded.folder)
    }
}
