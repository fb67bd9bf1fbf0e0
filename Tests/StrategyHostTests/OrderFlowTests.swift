import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

@Suite("Order flow that never blocks on one order", .serialized)
struct OrderFlowTests {
    @Test("a slow cancel of one strategy does not delay another strategy's order")
    func slowCancelDelaysNothing() async throws {
        let rig = try await Rig.start("""
            \(Rig.restOneOrder)
            function on_order(o)
              if o.id == resting and o.status == "submitted" and not cancelling then
                cancelling = true
                orders.cancel(o.id)
                print("cancel asked")
              end
            end
            """)
        try await rig.control("slow-cancels 8")
        try await eventually("the cancel is asked") { await rig.lines().contains("cancel asked") }
        let started = ContinuousClock.now
        let second = try await rig.launch("""
            function on_start() market.subscribe("MSFT") end
            function on_quote(q) if not bought and q.ask then bought = orders.buy("MSFT", 1) end end
            function on_fill(f) print("other filled") end
            """, named: "other")
        try await eventually("the other strategy's order fills") { await second.lines().contains("other filled") }
        // The order of events proves it (the cancel, 8 s at the exchange, is still pending below);
        // the time is a ceiling under those 8 s that a loaded machine meets.
        #expect(ContinuousClock.now - started < .seconds(7.5), "the other order did not wait for the 8 s cancel")
        let resting = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" },
                                   "the first strategy's order is known")
        #expect(resting.status != .cancelled, "the cancel itself is still waiting for the exchange")
        _ = await rig.runner.stopAll()
        await rig.stop()
    }
}
