import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// Helpers of the strategy-host tests that drive the paper gateway through a `Rig`.
extension Rig {
    /// Lua: subscribes to AAPL and, on the first quote, rests one buy far below the market
    /// (`resting` holds its id).
    static let restOneOrder = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if resting or not q.bid then return end
          resting = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
        end
        """

    /// Sets the paper market's price of `symbol` to `factor` times its last trade.
    func movePrice(_ symbol: String, by factor: Double) async throws {
        let price = try await server.withEngine { engine in engine.market.quote(symbol: symbol)?.last ?? 0 }
        try await control("price \(symbol) \(String(format: "%.2f", price * factor))")
    }

    /// A control-port command to the rig's paper gateway (`price AAPL 100`, `notice 1102 10`).
    @discardableResult
    func control(_ command: String) async throws -> String {
        try await server.withEngine { engine in engine.control(command) }
    }

    /// Returns once the paper market has moved `steps` more times and what it sent meanwhile
    /// has reached the strategy: a round trip through TWS (its answer comes after the ticks on
    /// the one socket), then one through the strategy's loop. For "nothing came of them" checks.
    func quotesPassed(_ steps: Int) async throws {
        let start = try await server.withEngine { engine in engine.steps }
        try await eventually("the market moved \(steps) times") { try await server.withEngine { engine in engine.steps } >= start + steps }
        _ = try await client.currentTime()
        _ = try await strategy.loop.submit {}.get()
    }

    /// A second strategy on the rig's runner, from `source`, started.
    func launch(_ source: String, named name: String, config: HostConfig = HostConfig()) async throws -> Strategy {
        let file = folder.appendingPathComponent(name + ".lua")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let strategy = try await runner.launch(path: file.path, config: config)
        strategy.start(positions: [:])
        return strategy
    }
}

extension Strategy {
    /// Its log lines (log.info / print). A loop that does not answer in 10 s fails the test
    /// (a hung loop must not read as "nothing was printed").
    func lines() async -> [String] {
        guard let lines = await loop.submit({ self.logLines }).value(within: 10) else {
            Issue.record("the strategy's loop did not answer within 10 s: its log lines are unknown")
            return []
        }
        return lines
    }
}
