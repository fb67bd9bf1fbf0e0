import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// The risk gate without holes: every order is valued, exposure counts what is open, the
/// daily loss is watched live, trading closes at every reconciliation that leaves a
/// position unexplained, and outsideRth is only set when asked.
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
        _ = try await server.withEngine { engine in engine.control("price \(symbol) \(String(format: "%.2f", price * factor))") }
    }
}

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
            """)
        try await eventually("all answered") { await rig.lines().contains { $0.hasPrefix("in comparator") } }
        try await eventually("the small market order fills") { await rig.lines().contains("filled AAPL 10.0") }
        let lines = await rig.lines()
        // (other events, like the first order's fill, are handled while on_start waits)
        #expect(Array(lines.filter { !$0.hasPrefix("filled") }.prefix(5)) == ["market placed", "limit refused risk:max_order_notional", "big market refused risk:max_order_notional",
                                           "unknown refused risk:no_price", "in comparator refused risk:no_price"])
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
        _ = try await rig.server.withEngine { engine in engine.control("position MSFT 25 400") }
        _ = await rig.state.reconcile()  // as after a reconnect
        try await eventually("told and refused") { await rig.lines().contains("refused reconcile") }
        #expect(await rig.lines().contains("on_error reconcile"))
        await rig.stop()
    }
}

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
        _ = try await rig.server.withEngine { engine in engine.control("slow-cancels 5") }
        try await eventually("the cancel is asked") { await rig.lines().contains("cancel asked") }
        let other = rig.folder.appendingPathComponent("other.lua")
        try """
            function on_start() market.subscribe("MSFT") end
            function on_quote(q) if not bought and q.ask then bought = orders.buy("MSFT", 1) end end
            function on_fill(f) print("other filled") end
            """.write(to: other, atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let second = try await rig.runner.launch(path: other.path, config: HostConfig())
        second.start(positions: [:])
        try await eventually("the other strategy's order fills") {
            (await second.loop.submit { second.logLines }.value(within: 1) ?? []).contains("other filled")
        }
        #expect(ContinuousClock.now - started < .seconds(3), "the other order did not wait for the 5 s cancel")
        let resting = await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" }
        #expect(resting?.status != .cancelled, "the cancel itself is still waiting for the exchange")
        _ = await rig.runner.stopAll()
        await rig.stop()
    }
}

@Suite("Journal first, strictly", .serialized)
struct JournalFirstTests {
    func readOnly(_ rig: Rig, _ on: Bool) throws {
        try rig.journal.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = \(on ? "ON" : "OFF")") }
    }

    @Test("a journal that cannot be written: the order is not sent and the strategy is told; trading closes; a fill waits, undelivered, until the journal takes it")
    func journalFailure() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if not resting and q.bid then
                resting = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 90) / 100 })
                print("resting " .. resting)
              end
            end
            function on_order(o) print("order " .. o.id .. " " .. o.status) end
            function on_fill(f) print("fill " .. f.order_id) end
            function on_error(e)
              print("on_error " .. e.code)
              if e.code == "journal" and not tried then
                tried = true
                local id, err = orders.buy("AAPL", 1, { limit = 1 })
                print(id and "still trading" or ("refused " .. err.code))
              end
            end
            """)
        try await eventually("the order rests") { await rig.lines().contains { $0.hasPrefix("order ") && $0.hasSuffix(" submitted") } }
        let resting = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" })
        try readOnly(rig, true)
        // The price falls through the limit: TWS fills it, but the journal cannot take the fill.
        try await rig.movePrice("AAPL", by: 0.8)
        try await eventually("trading closes, the strategy is told") { await rig.lines().contains("refused journal") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(await !rig.lines().contains("fill \(resting.orderId)"), "a fill the journal does not hold is not delivered")
        #expect(rig.state.journalFailure != nil)
        try readOnly(rig, false)
        try await eventually("the fill is journaled, then delivered") { await rig.lines().contains("fill \(resting.orderId)") }
        #expect(try rig.journal.count("executions") == 1)
        try await eventually("trading reopens") { rig.runner.orderFlowClosed == nil }
        await rig.stop()
    }

    @Test("an order the journal cannot hold is not sent: refused at the call, or, when the id was already given, rejected with on_error")
    func orderNotJournaled() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if not tried and q.bid then
                tried = true
                local id, err = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
                print(id and ("placed " .. id) or ("refused " .. err.code))
              end
            end
            function on_order(o) print("order " .. o.id .. " " .. o.status .. " " .. o.reason) end
            function on_error(e) print("on_error " .. e.code .. " " .. tostring(e.order_id)) end
            """)
        try readOnly(rig, true)
        // Which comes first is a race: a background write (an account value) may find the
        // journal read-only before the order does. Either way the order never reaches TWS
        // and the strategy knows.
        try await eventually("refused, or placed and rejected") {
            let lines = await rig.lines()
            return lines.contains("refused journal")
                || (lines.contains { $0.hasPrefix("order ") && $0.contains(" rejected not sent: ") }
                    && lines.contains { $0.hasPrefix("on_error journal ") && !$0.hasSuffix(" nil") })
        }
        #expect(try await rig.server.withEngine { engine in engine.orders.count } == 0, "TWS never saw it")
        try readOnly(rig, false)
        await rig.stop()
    }
}

extension JournalFirstTests {
    @Test("a journaled store that cannot be decoded stops the strategy from loading, with how to recover; --reset-store starts it empty")
    func undecodableStore() async throws {
        func damage(_ folder: URL) throws {
            let journal = try Journal(path: folder.appendingPathComponent("journal.sqlite").path)
            journal.saveStore(strategy: "test_strategy", data: Data("{not json".utf8))
        }
        do {
            let rig = try await Rig.start("function on_start() print(store.x) end", prepare: damage)
            await rig.stop()
            Issue.record("the strategy loaded with a store it could not read")
        } catch {
            #expect("\(error)".contains("the journaled store of test_strategy cannot be read"), "\(error)")
            #expect("\(error)".contains("--reset-store test_strategy"))
        }
        let rig = try await Rig.start("function on_start() print('empty store ' .. tostring(store.x)) end",
                                      host: { $0.strategy.resetStore = ["test_strategy"] }, prepare: damage)
        try await eventually("started with an empty store") { await rig.lines().contains("empty store nil") }
        await rig.stop()
    }
}

@Suite("Notice storms", .serialized)
struct NoticeStormTests {
    @Test("10,000 copies of notice 2110: a few reach on_error, the rest are counted and said once; order errors are never folded")
    func storm() async throws {
        let rig = try await Rig.start("""
            function on_error(e) print("on_error " .. e.code .. " " .. e.message) end
            """)
        try await rig.client.eventLoop.submit {
            for _ in 0..<10_000 {
                rig.state.handle(.error(id: -1, code: 2110, message: "Connectivity between Trader Workstation and server is broken.",
                                        category: .connectivity))
            }
        }.get()
        try await Task.sleep(for: .milliseconds(500))
        let told = await rig.lines().filter { $0.hasPrefix("on_error 2110") }
        #expect(told.count == StrategyRunner.noticesPerWindow, "\(told.count) delivered")
        try await eventually("the folded count, once the window ends", timeout: 15) {
            await rig.lines().contains { $0.contains("9995 more '2110' notices") }
        }
        await rig.stop()
    }
}

extension NoticeStormTests {
    @Test("a hostile gateway: nextValidId 2^63-1 and 10,000 copies of 1102 after a 1100; the strategy still trades, with sane ids, one resubscription")
    func hostileGateway() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q) quotes = (quotes or 0) + 1 end
            function on_fill(f) print("filled " .. f.order_id) end
            function on_error(e) if e.code == "go" then local id = orders.buy("AAPL", 1) print("placed " .. tostring(id)) end end
            """)
        try await eventually("quotes") { await rig.statistics().quotesDelivered > 3 }
        _ = try await rig.server.withEngine { engine in engine.control("next-valid-id 9223372036854775807") }
        _ = try await rig.server.withEngine { engine in engine.control("notice 1100 1") }
        _ = try await rig.server.withEngine { engine in engine.control("notice 1102 10000") }
        try await Task.sleep(for: .milliseconds(300))
        rig.strategy.post(.error(code: "go", message: "place now", orderId: nil))
        try await eventually("the order fills") { await rig.lines().contains { $0.hasPrefix("filled ") } }
        let placed = await rig.lines().first { $0.hasPrefix("placed ") }
        let id = Int(placed?.dropFirst("placed ".count) ?? "") ?? -1
        #expect(id > 0 && id < Int(Int32.max), "a sane order id: \(placed ?? "none")")
        let connections = try await rig.journal.queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connection_events WHERE kind LIKE 'connectivity%'") ?? 0
        }
        #expect(connections <= 2, "the storm is journaled once: \(connections) rows")
        let before = await rig.statistics().quotesDelivered
        try await eventually("quotes keep coming") { await rig.statistics().quotesDelivered > before + 3 }
        await rig.stop()
    }
}
