import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// The risk gate without holes: every order is valued, exposure counts what is open, the
/// daily loss is watched live, trading closes at every reconciliation that leaves a
/// position unexplained, and outsideRth is only set when asked.
@Suite("Risk gate: valued orders, exposure with open orders, live daily loss, fail-closed", .serialized)
struct RiskGateTests {
    @Test("exposure counts resting orders: 2 x 800 rest, a third 800 would make 2400 > 2000 and is refused")
    func exposureCountsOpenOrders() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if done or not q.bid then return end
              done = true
              local limit = math.floor(q.bid * 50) / 100
              for i = 1, 3 do
                local id, err = orders.buy("AAPL", 800, { limit = limit })
                print(id and "placed" or ("refused " .. err.code .. " " .. err.message))
              end
            end
            """, host: { $0.risk.maxOrderNotional = 1e9 })
        try await eventually("three answers") { await rig.lines().count >= 3 }
        let lines = await rig.lines()
        #expect(lines.filter { $0 == "placed" }.count == 2)
        #expect(lines.contains { $0.hasPrefix("refused risk:max_position") && $0.contains("1600 in open orders") }, "\(lines)")
        await rig.stop()
    }

    @Test("every order is valued: a market order before any quote waits for a snapshot, then is checked in full")
    func everyOrderIsValued() async throws {
        let rig = try await Rig.start("""
            function on_start()
              local id, err = orders.buy("AAPL", 10)
              print(id and "market placed" or ("market refused " .. err.code))
              local id2, err2 = orders.buy("AAPL", 10, { limit = 50000 })
              print(id2 and "limit placed" or ("limit refused " .. err2.code))
              local id3, err3 = orders.buy("AAPL", 600)
              print(id3 and "big market placed" or ("big market refused " .. err3.code))
              local id4, err4 = orders.buy("NOPE", 1)
              print(id4 and "unknown placed" or ("unknown refused " .. err4.code))
              table.sort({2, 1}, function(a, b)
                local id5, err5 = orders.buy("MSFT", 1)
                print(id5 and "in comparator placed" or ("in comparator refused " .. err5.code))
                return a < b
              end)
            end
            function on_order(o) if o.status == "filled" then print("filled " .. o.symbol .. " " .. o.qty) end end
            """, host: { $0.risk.maxOrderNotional = 100_000 })  // 600 AAPL (about 112,000 USD) and 10 at 50,000 pass no more
        try await eventually("all answered") { await rig.lines().contains { $0.hasPrefix("in comparator") } }
        try await eventually("the small market order fills") { await rig.lines().contains("filled AAPL 10") }
        let lines = await rig.lines()
        // (other events, like the first order's fill, are handled while on_start waits)
        #expect(Array(lines.filter { !$0.hasPrefix("filled") }.prefix(5)) == ["market placed", "limit refused risk:max_order_notional", "big market refused risk:max_order_notional",
                                           "unknown refused unknown_instrument", "in comparator refused risk:no_price"])
        let sent = await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" }
        #expect(sent.count == 1, "only the order that passed left: \(sent.map(\.quantity))")
        await rig.stop()
    }

    @Test("outsideRth is set only when the order asks for it")
    func outsideRegularHours() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if done or not q.bid then return end
              done = true
              orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
              orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100, outside_rth = true })
            end
            """)
        try await eventually("two orders") { await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" }.count == 2 }
        let flags = await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" }.sorted { $0.orderId < $1.orderId }
            .map(\.order.outsideRth)
        #expect(flags == [false, true])
        await rig.stop()
    }

    @Test("the daily loss is watched live: the price falls, the strategy is halted, its orders cancelled, new ones refused")
    func dailyLossHaltsLive() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if bought or not q.ask then return end
              bought = orders.buy("AAPL", 100)
              resting = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 20) / 100 })
            end
            function on_error(e)
              print("on_error " .. e.code)
              if e.code == "risk:halted" then
                local id, err = orders.buy("AAPL", 1, { limit = 1 })
                print(id and "still trading" or ("refused " .. err.code))
              end
            end
            """, host: { $0.risk.maxDailyLoss = 50 })
        rig.runner.followPnL(account: "DU1234567")
        try await eventually("the position") { await rig.state.snapshot().positions.contains { $0.symbol == "AAPL" && $0.quantity == 100 } }
        try await rig.movePrice("AAPL", by: 0.5)
        try await eventually("halted by the daily loss") { await rig.lines().contains("on_error risk:halted") }
        try await eventually("a new order is refused") { await rig.lines().contains("refused risk:halted") }
        try await eventually("the resting order is cancelled") {
            await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" && $0.order.orderType == "LMT" }
                .allSatisfy { $0.status == .cancelled }
        }
        #expect(try rig.journal.count("strategy_events") >= 1)
        await rig.stop()
    }

    @Test("fail-closed at every reconciliation: a position that appears while running closes the order flow")
    func failClosedAfterReconcile() async throws {
        let rig = try await Rig.start("""
            function on_error(e)
              print("on_error " .. e.code)
              if e.code == "reconcile" then
                local id, err = orders.buy("AAPL", 1, { limit = 1 })
                print(id and "still trading" or ("refused " .. err.code))
              end
            end
            """)
        try await rig.control("position MSFT 25 400")
        _ = await rig.state.reconcile()  // as after a reconnect
        try await eventually("told and refused") { await rig.lines().contains("refused reconcile") }
        #expect(await rig.lines().contains("on_error reconcile"))
        await rig.stop()
    }
}

extension RiskGateTests {
    @Test("the daily loss holds from the strategy's own fills and quotes when TWS's PnL stream is silent")
    func dailyLossFromOwnFills() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if bought or not q.ask then return end
              bought = orders.buy("AAPL", 100)
            end
            function on_error(e) print("on_error " .. e.code .. " " .. e.message) end
            """, host: { $0.risk.maxDailyLoss = 50 })
        // No followPnL: only the strategy's own view can see the loss.
        try await eventually("the position") { await rig.state.snapshot().positions.contains { $0.symbol == "AAPL" && $0.quantity == 100 } }
        try await rig.movePrice("AAPL", by: 0.5)
        try await eventually("halted by its own PnL") {
            await rig.lines().contains { $0.hasPrefix("on_error risk:halted") && $0.contains("own fills and quotes") }
        }
        await rig.stop()
    }
}
