import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost
@testable import TWSClient
@testable import TradingState

/// Issue 23, item 2: an error TWS sends for a modify or a cancel of a working order refuses
/// that request; the order works on (status, exposure, cancel, kill switch, later fills).
@Suite("Refused requests leave working orders working", .serialized)
struct RefusedRequestTests {
    func with(_ source: String, _ body: (Rig) async throws -> Void) async throws {
        let rig = try await Rig.start(source, host: { $0.risk.maxOrderQuantity = 5000; $0.risk.maxPosition = 5000; $0.risk.maxOrderNotional = 5_000_000 })
        do { try await body(rig) } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("a modify answered 110 (off tick) leaves the order working: in exposure, cancellable, and its later fill is booked")
    func offTickModify() async throws {
        try await with("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if a or not q.bid then return end
              local p = math.floor(q.bid * 50) / 100
              a = orders.buy("AAPL", 10, { limit = p })
              b = orders.buy("AAPL", 10, { limit = p })
            end
            local modified = {}
            local function name(id) return id == a and "a" or "b" end
            function on_order(o)
              print("order", name(o.id), o.status)
              if o.status == "submitted" and not modified[o.id] then
                modified[o.id] = true
                orders.modify(o.id, { limit = o.limit + 0.005 })
              end
            end
            function on_error(e)
              local o = orders.get(e.order_id)
              print("error", name(e.order_id), e.code, o.status, #orders.open(), o.reason and "reason" or "no reason")
              if e.order_id == b then print("cancel b", tostring(orders.cancel(b))) end
            end
            function on_fill(f) print("fill", name(f.order_id), f.qty) end
            """) { rig in
            try await eventually("both modifies refused") {
                let lines = await rig.lines()
                return lines.contains { $0.hasPrefix("error a 110") } && lines.contains { $0.hasPrefix("error b 110") }
            }
            let lines = await rig.lines()
            // Before b's cancel: both orders still open, still submitted, and why is on the order.
            #expect(lines.contains("error a 110 submitted 2 reason") || lines.contains("error a 110 submitted 1 reason"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("error b 110 submitted") && $0.hasSuffix("reason") }, "\(lines)")
            #expect(lines.contains("cancel b true"), "a refused modify leaves the order cancellable: \(lines)")
            #expect(!lines.contains { $0.contains("rejected") }, "\(lines)")
            try await eventually("b cancelled") { await rig.lines().contains("order b cancelled") }
            // The market comes down to a's limit: its fill is booked as any other.
            try await rig.movePrice("AAPL", by: 0.4)
            try await eventually("a filled") { await rig.lines().contains("order a filled") }
            #expect(await rig.lines().contains("fill a 10"))
            let orders = await rig.state.snapshot().orders
            #expect(orders.map(\.status.rawValue).sorted() == ["cancelled", "filled"])
        }
    }

    @Test("the kill switch cancels an order whose modify TWS refused (110), and counts it cancelled")
    func haltAfterRefusedModify() async throws {
        try await with(Rig.restOneOrder + """

            function on_order(o)
              if o.status == "submitted" and not modified then
                modified = true
                orders.modify(o.id, { limit = o.limit + 0.005 })
              end
            end
            function on_error(e) print("error", e.code, orders.get(e.order_id).status) end
            """) { rig in
            try await eventually("the modify refused") { await rig.lines().contains { $0.hasPrefix("error 110") } }
            #expect(await rig.lines().contains("error 110 submitted"))
            let id = try #require(await rig.state.snapshot().orders.first?.orderId)
            let report = await rig.runner.halt(reason: "test", within: 5)
            #expect(report.cancelled == [id], "\(report.text)")
            #expect(report.complete, "\(report.text)")
            #expect(await rig.state.snapshot().orders.first?.status == .cancelled)
        }
    }

    @Test("a cancel answered 10148 is no rejection: the order's fate is TWS's status, and the kill switch counts it done")
    func cancelRefusedAsDone() async throws {
        try await with(Rig.restOneOrder + """

            function on_order(o) print("order " .. o.status) end
            function on_error(e) print("error " .. e.code) end
            """) { rig in
            try await eventually("the order rests") { await rig.state.snapshot().orders.first?.status == .submitted }
            let id = try #require(await rig.state.snapshot().orders.first?.orderId)
            // The halt's cancel reaches the gateway late; meanwhile TWS answers a cancel of the
            // order 10148 (as when two cancels cross), then the order is cancelled.
            try await rig.control("slow-cancels 0.5")
            let halt = Task { await rig.runner.halt(reason: "test", within: 5) }
            try await eventually("the halt's cancel is on its way") {
                try await rig.client.eventLoop.submit { rig.client.pending[id]?.contains { $0.name == "cancelOrder" } == true }.get()
            }
            try await rig.server.withEngine { engine in
                for session in engine.clients {
                    session.sendError(id, 10148, "OrderId \(id) that needs to be cancelled cannot be cancelled, state: PendingCancel.")
                }
                engine.flushAll()
            }
            let report = await halt.value
            let record = try #require(await rig.state.snapshot().orders.first)
            #expect(record.status == .cancelled, "TWS's status decides, not the 10148: \(record.status.rawValue) \(record.reason)")
            #expect(report.cancelled == [id], "\(report.text)")
            #expect(report.complete, "\(report.text)")
            #expect(!report.text.contains("rejected"))
            // The strategy was told the cancel (its last state); it was never told a rejection.
            try await eventually("the strategy told of the cancel") { await rig.lines().contains("order cancelled") }
            #expect(!(await rig.lines()).contains("order rejected"))
        }
    }
}
