import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

@Suite("Account-wide limits across strategies", .serialized)
struct AccountLimitTests {
    @Test("two strategies each within their own limits are refused together past the account's")
    func accountPosition() async throws {
        let source = """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if done or not q.bid then return end
              done = true
              local id, err = orders.buy("AAPL", 1000, { limit = math.floor(q.bid * 50) / 100 })
              print(id and "placed" or ("refused " .. err.code))
            end
            """
        let rig = try await Rig.start(source, host: {
            $0.risk.maxOrderNotional = 1e9
            $0.accountRisk.maxPosition = 1500
        })
        try await eventually("the first strategy's order") { await rig.lines().contains("placed") }
        var config = HostConfig()
        config.risk.maxOrderNotional = 1e9
        let second = try await rig.launch(source, named: "second", config: config)
        try await eventually("the second is refused by the account's limit") { await second.lines().contains("refused risk:account_max_position") }
        _ = await rig.runner.stopAll()
        await rig.stop()
    }
}
