import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

@Suite("Order lifecycle from Lua: inactive is not terminal, on_fill first and with its commission", .serialized)
struct LuaOrderLifecycleTests {
    @Test("Inactive → Submitted → Cancelled, the cancel asked for from Lua while inactive")
    func inactiveThenCancelled() async throws {
        let rig = try await Rig.start("""
            \(Rig.restOneOrder)
            function on_order(o)
              print("status " .. o.status)
              if o.status == "inactive" then
                local ok, err = orders.cancel(o.id)
                print(ok and "cancel asked" or ("cancel refused " .. err.code))
              end
            end
            """)
        try await eventually("resting") { await rig.lines().contains("status submitted") }
        let order = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" })
        for name in ["Inactive", "Submitted"] {
            var report = OrderStatus()
            report.orderId = order.orderId
            report.status = name
            report.filled = 0
            report.remaining = 1
            let message = report
            try await rig.client.eventLoop.submit { rig.state.handle(.orderStatus(message)) }.get()
        }
        try await eventually("cancelled") { await rig.lines().contains("status cancelled") }
        let lines = await rig.lines()
        #expect(lines.contains("cancel asked"), "\(lines)")
        #expect(lines.firstIndex(of: "status inactive")! < lines.lastIndex(of: "status submitted")!)
        await rig.stop()
    }

    @Test("on_fill arrives before the on_order(filled) it completes, and carries its commission")
    func fillFirstWithCommission() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q) if not bought and q.ask then bought = orders.buy("AAPL", 100) end end
            function on_fill(f) print("fill " .. tostring(f.commission)) end
            function on_order(o) if o.status == "filled" then print("order filled") end end
            """)
        try await eventually("filled") { await rig.lines().contains("order filled") }
        let lines = await rig.lines()
        let fill = try #require(lines.firstIndex { $0.hasPrefix("fill ") })
        #expect(fill < lines.firstIndex(of: "order filled")!, "\(lines)")
        #expect(lines[fill] != "fill nil", "the commission came with the fill: \(lines[fill])")
        await rig.stop()
    }
}
