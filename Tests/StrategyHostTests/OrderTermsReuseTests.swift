import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost

/// Orders placed with the same terms share one order value (the strategy sends the same few
/// again and again: each was built, checked and recorded anew). Sharing must never leak one
/// order's own changes into another: a bracket's staging and parent, a one-cancels-all group.
@Suite("Orders with the same terms share their fields, never their changes", .serialized)
struct OrderTermsReuseTests {
    @Test("a plain limit buy after a bracket and an OCA member with the same terms reaches the gateway plain, and working")
    func sharedTermsStayApart() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if placed or not q.bid then return end
              placed = true
              local l = math.floor(q.bid * 50) / 100   -- half the market: nothing fills
              local a = orders.buy("AAPL", 1, { limit = l })
              local b = orders.bracket("AAPL", 1, { entry = l, take_profit = l * 3, stop_loss = l / 2 })
              local c = orders.buy("AAPL", 1, { limit = l, oca = "g1" })
              local d = orders.buy("AAPL", 1, { limit = l })
              local e = orders.buy("AAPL", 1, { limit = l, tif = "gtc" })
              local f = orders.buy("AAPL", 1, { limit = l, outside_rth = true })
              print("ids", a, b.parent, c, d, e, f)
            end
            """)
        do {
            try await eventually("the orders are placed") { await rig.lines().contains { $0.hasPrefix("ids") } }
            let ids = try #require(await rig.lines().first { $0.hasPrefix("ids") }).split(separator: " ").dropFirst().compactMap { Int($0) }
            try #require(ids.count == 6)
            let (a, parent, c, d, e, f) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
            try await eventually("all eight work at the gateway") {
                try await rig.server.withEngine { engine in engine.orders.values.filter { $0.clientId == 1 && $0.isWorking }.count == 8 }
            }
            let sent = try await rig.server.withEngine { engine in
                Dictionary(engine.orders.values.filter { $0.clientId == 1 }.map { ($0.orderId, $0.order) }) { first, _ in first }
            }
            for id in [a, d] {
                let order = try #require(sent[id])
                #expect(order.parentId == 0 && order.ocaGroup.isEmpty && order.transmit && order.tif == "DAY" && !order.outsideRth,
                        "order \(id) took another's changes: parent \(order.parentId), oca '\(order.ocaGroup)', transmit \(order.transmit)")
            }
            #expect(sent[parent]?.orderType == "LMT" && sent[parent]?.lmtPrice == sent[a]?.lmtPrice)
            #expect(sent.values.filter { $0.parentId == parent }.count == 2, "the bracket's two children")
            #expect(sent[c]?.ocaGroup == "g1")
            #expect(sent[e]?.tif == "GTC")
            #expect(sent[f]?.outsideRth == true)
            // Three sets of terms were asked (the bracket's entry and the OCA member took the
            // first's, then changed their own copies): three orders were built from terms.
            let built = try await rig.strategy.loop.submit { rig.strategy.recentTerms.map(\.terms.tif) }.get()
            #expect(built == ["DAY", "GTC", "DAY"])
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }
}
