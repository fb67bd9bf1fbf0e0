import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// TWS reports a cancel twice (orderStatus Cancelled, then error 202 with the reason): the
/// strategy hears each state of its order once, and the later report's reason still reaches
/// `orders.get`.
@Suite("on_order: each state of an order told once")
struct OrderStateOnceTests {
    @Test("a cancelled order: on_order(cancelled) once, although TWS reports it twice; orders.get has the 202 reason")
    func cancelToldOnce() async throws {
        let rig = try await Rig.start("""
            \(Rig.restOneOrder)
            function on_order(o)
              print("status " .. o.status)
              if o.status == "submitted" and not asked then asked = true; orders.cancel(o.id) end
            end
            """)
        try await eventually("cancelled") { await rig.lines().contains("status cancelled") }
        let order = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" })
        // The second report (error 202) reached the strategy's own view of the order: every
        // event before it has been handled by then.
        try await eventually("the 202 report handled by the strategy") {
            try await rig.strategy.loop.submit { rig.strategy.orders[order.orderId]?.reason ?? "" }.get().contains("202")
        }
        let lines = await rig.lines()
        #expect(lines.filter { $0 == "status cancelled" }.count == 1, "\(lines)")
        #expect(lines.filter { $0 == "status submitted" }.count == 1, "\(lines)")
        await rig.stop()
    }
}
