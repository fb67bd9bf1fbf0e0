import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// `risk.max_open_orders`, `risk.max_orders_per_minute`, `account_risk.max_open_orders` and
/// the checks on `orders.modify`, end to end: a Lua strategy on the paper gateway, the refusal
/// as the strategy gets it (`nil, err` with the `risk:` code and a message naming the limit),
/// and the gateway's side: what was refused never reached it, what passed did.
///
/// The per-minute window (an order leaving the count a minute on) is held on the simulated
/// clock: BacktestOrderRateTests. Here every order of a test is placed within one handler or
/// two, well inside one minute of the wall clock.
@Suite("Order count limits and modify checks through a strategy on the paper gateway", .serialized, .timeLimit(.minutes(2)))
struct OrderCountLimitTests {
    /// Lua: `say(label, id_or_ok, err)` prints `label ok <value>` or `label refused <code> | <message>`.
    static let say = """
        local function say(label, ok, err)
          print(label .. " " .. (ok and ("ok " .. tostring(ok)) or ("refused " .. err.code .. " | " .. err.message)))
        end

        """

    static func with(_ source: String, host: (inout HostConfig) -> Void, _ body: (Rig) async throws -> Void) async throws {
        let rig = try await Rig.start(source, gateway: { $0.fills.partialFills = false }, host: host)
        do { try await body(rig) } catch {
            _ = await rig.runner.stopAll()
            await rig.stop()
            throw error
        }
        _ = await rig.runner.stopAll()
        await rig.stop()
    }

    /// The orders of the rig's client (id 1) at the paper gateway, by id.
    static func gatewayOrders(_ rig: Rig) async throws -> [PaperOrder] {
        try await rig.server.withEngine { engine in engine.orders.values.filter { $0.clientId == 1 }.sorted { $0.orderId < $1.orderId } }
    }

    /// The id in a line `label ok <id>`.
    static func id(in lines: [String], _ label: String) throws -> Int {
        let line = try #require(lines.first { $0.hasPrefix(label + " ok ") }, "\(label): \(lines)")
        return try #require(Int(line.dropFirst(label.count + 4)), "\(line)")
    }

    @Test("risk.max_open_orders 3: the fourth resting order is refused naming the limit and never sent; a cancel frees a place")
    func maxOpenOrders() async throws {
        let source = Self.say + """
            function on_start() market.subscribe("AAPL") end
            local placed = {}
            function on_quote(q)
              if limit or not q.bid then return end
              limit = math.floor(q.bid * 50) / 100
              for i = 1, 4 do
                local id, err = orders.buy("AAPL", 1, { limit = limit })
                if id then placed[#placed + 1] = id end
                say("order " .. i, id, err)
              end
              orders.cancel(placed[1])
            end
            function on_error(e) if e.code:sub(1, 5) == "risk:" then print("on_error " .. e.code) end end
            function on_order(o)
              if o.id == placed[1] and o.status == "cancelled" and not again then
                again = true
                say("after the cancel", orders.buy("AAPL", 1, { limit = limit }))
              end
            end
            """
        try await Self.with(source, host: { $0.risk.maxOpenOrders = 3 }) { rig in
            try await eventually("the order after the cancel") { await rig.strategy.lines().contains { $0.hasPrefix("after the cancel") } }
            let lines = await rig.strategy.lines()
            #expect(lines.contains("order 4 refused risk:max_open_orders | risk: 3 orders are open, risk.max_open_orders is 3"), "\(lines)")
            #expect(lines.contains("on_error risk:max_open_orders"), "the refusal reaches on_error: \(lines)")
            let placed = try (1...3).map { try Self.id(in: lines, "order \($0)") }
            let again = try Self.id(in: lines, "after the cancel")
            // Orders are sent in the order placed: once the last is at the gateway, the refused
            // one would be there before it had it been sent.
            try await eventually("the order after the cancel at the gateway") { try await Self.gatewayOrders(rig).contains { $0.orderId == again } }
            let atGateway = try await Self.gatewayOrders(rig)
            #expect(atGateway.map(\.orderId) == placed + [again], "four orders reached the gateway, the refused one never: \(atGateway.map(\.orderId))")
            #expect(atGateway.filter(\.isWorking).map(\.orderId) == Array(placed.dropFirst()) + [again], "three work: \(atGateway.map { ($0.orderId, $0.status) })")
        }
    }

    @Test("account_risk.max_open_orders 2 across strategies: the second strategy's first order is refused naming the account's limit")
    func accountMaxOpenOrders() async throws {
        let source = Self.say + """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if done or not q.bid then return end
              done = true
              for i = 1, count do say("order " .. i, orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })) end
            end
            """
        try await Self.with(source.replacingOccurrences(of: "1, count do", with: "1, 2 do"), host: { $0.accountRisk.maxOpenOrders = 2 }) { rig in
            try await eventually("the first strategy's two orders") { await rig.strategy.lines().count >= 2 }
            #expect(await rig.strategy.lines().filter { $0.contains(" ok ") }.count == 2, "within its own limit (20)")
            let second = try await rig.launch(source.replacingOccurrences(of: "1, count do", with: "1, 1 do"), named: "second")
            try await eventually("the second strategy's answer") { await !second.lines().isEmpty }
            let lines = await second.lines()
            #expect(lines == ["order 1 refused risk:account_max_open_orders | risk: 2 orders of the account are open, account_risk.max_open_orders is 2"],
                    "\(lines)")
            try await eventually("both orders at the gateway") { try await Self.gatewayOrders(rig).count >= 2 }
            #expect(try await Self.gatewayOrders(rig).count == 2)
        }
    }

    @Test("risk.max_orders_per_minute 3: modifications do not count; the fourth order in the minute is refused naming the limit")
    func maxOrdersPerMinute() async throws {
        // Two orders, then three modifications of the first that each go through the gate (a
        // larger quantity), then a third order (passes: modifications are not orders) and a
        // fourth (refused: three in the last minute, whatever is open: the open limit is 20).
        let source = Self.say + """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if limit or not q.bid then return end
              limit = math.floor(q.bid * 50) / 100
              a = orders.buy("AAPL", 1, { limit = limit })
              b = orders.buy("AAPL", 1, { limit = limit })
            end
            local submitted = {}
            function on_order(o)
              if o.status ~= "submitted" then return end
              submitted[o.id] = true
              if done or not (submitted[a] and submitted[b]) then return end
              done = true
              for qty = 2, 4 do say("modify to " .. qty, orders.modify(a, { qty = qty })) end
              say("third", orders.buy("AAPL", 1, { limit = limit }))
              say("fourth", orders.buy("AAPL", 1, { limit = limit }))
            end
            """
        try await Self.with(source, host: { $0.risk.maxOrdersPerMinute = 3 }) { rig in
            try await eventually("the fourth order's answer") { await rig.strategy.lines().contains { $0.hasPrefix("fourth") } }
            let lines = await rig.strategy.lines()
            #expect(Array(lines.suffix(5)) == ["modify to 2 ok true", "modify to 3 ok true", "modify to 4 ok true", lines.first { $0.hasPrefix("third ok ") } ?? "third: refused",
                                               "fourth refused risk:max_orders_per_minute | risk: 3 orders in the last minute, risk.max_orders_per_minute is 3"],
                    "\(lines)")
            let third = try Self.id(in: lines, "third")
            try await eventually("the third order and the last modification at the gateway") {
                let orders = try await Self.gatewayOrders(rig)
                return orders.contains { $0.orderId == third } && orders.first?.quantity == 4
            }
            #expect(try await Self.gatewayOrders(rig).count == 3, "the fourth never reached the gateway")
        }
    }

    @Test("orders.modify is checked as the order it makes: a larger quantity or a dearer price past a limit is refused and not sent; at the open-order limit a modification passes")
    func modifyChecks() async throws {
        // Two resting buys of 1 at about half the market (some 94 USD): the open-order limit (2)
        // is reached. b to 11 shares: past max_order_quantity 10. b's limit to 6,000: a
        // notional of 6,000 USD past 5,000 (sent, it would fill at once: a buy far above the
        // market). a to 5 shares (some 470 USD): passes, though two orders are open: a
        // modification is not another open order. A new order then is refused: the limit is real.
        let source = Self.say + """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if limit or not q.bid then return end
              limit = math.floor(q.bid * 50) / 100
              a = orders.buy("AAPL", 1, { limit = limit })
              b = orders.buy("AAPL", 1, { limit = limit })
              print("limit " .. limit)
            end
            local submitted = {}
            function on_order(o)
              if o.status ~= "submitted" then return end
              submitted[o.id] = true
              if done or not (submitted[a] and submitted[b]) then return end
              done = true
              say("b to 11", orders.modify(b, { qty = 11 }))
              say("b to limit 6000", orders.modify(b, { limit = 6000 }))
              say("a to 5", orders.modify(a, { qty = 5 }))
              say("another order", orders.buy("AAPL", 1, { limit = limit }))
            end
            """
        try await Self.with(source, host: {
            $0.risk.maxOpenOrders = 2
            $0.risk.maxOrderQuantity = 10
            $0.risk.maxOrderNotional = 5_000
        }) { rig in
            try await eventually("the answers") { await rig.strategy.lines().contains { $0.hasPrefix("another order") } }
            let lines = await rig.strategy.lines()
            #expect(Array(lines.suffix(4)) == [
                "b to 11 refused risk:max_order_quantity | risk: 11 shares exceeds risk.max_order_quantity.STK 10",
                "b to limit 6000 refused risk:max_order_notional | risk: notional 6,000 USD exceeds risk.max_order_notional 5,000 USD",
                "a to 5 ok true",
                "another order refused risk:max_open_orders | risk: 2 orders are open, risk.max_open_orders is 2",
            ], "\(lines)")
            let limit = try #require(lines.first { $0.hasPrefix("limit ") }.flatMap { Double($0.dropFirst(6)) }, "\(lines)")
            // The modifications reach the gateway in the order made: once a's is there, b's
            // would have been before it had either been sent.
            try await eventually("a's modification at the gateway") { try await Self.gatewayOrders(rig).first?.quantity == 5 }
            let orders = try await Self.gatewayOrders(rig)
            #expect(orders.count == 2, "no third order: \(orders.map(\.orderId))")
            let b = try #require(orders.last)
            #expect(b.quantity == 1 && b.order.lmtPrice == limit && b.filled == 0, "b as placed: \(b.quantity) at \(String(describing: b.order.lmtPrice))")
            #expect(try await rig.server.withEngine { engine in engine.executions.count } == 0, "nothing filled")
        }
    }
}
