import Foundation
import NIOCore
import Testing
import TWSClient
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// The order path acts only on a reconciled picture: the gate is closed from a drop until the
/// reconciliation after it, a modification keeps a bracket's legs working, and a strategy
/// starts from what the journal delivered (nothing twice, `on_start` first).
@Suite("Order path: the gate, brackets, the start", .serialized)
struct OrderPathGateTests {
    /// Shares of `symbol` the paper gateway executed for client 1, signed.
    static func executedAtGateway(_ rig: Rig, _ symbol: String) async throws -> Double {
        try await rig.server.withEngine { engine in
            engine.executions.filter { $0.contract.symbol == symbol && $0.execution.clientId == 1 }
                .reduce(0.0) { $0 + ($1.execution.side == "BOT" ? 1 : -1) * ($1.execution.shares?.doubleValue ?? 0) }
        }
    }

    @Test("a buy that filled during a drop is known before a strategy that buys when flat may buy: 100 shares, not 200")
    func fillDuringDrop() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_connection(state) if state == "lost" then dropped = true end end
            function on_error(e) if e.code == "reconciling" then print("told reconciling") end end
            function on_quote(q)
              if not q.bid then return end
              if not resting then
                resting = orders.buy("AAPL", 100, { limit = math.floor(q.bid * 90) / 100 })
                print("resting", resting, math.floor(q.bid * 90) / 100)
                return
              end
              if not dropped or bought then return end
              local p = account.position("AAPL")
              if p == nil or p.qty == 0 then
                local id, err = orders.buy("AAPL", 100)
                if id then bought = id; print("bought when flat", id) else refusals = (refusals or 0) + 1 end
              end
            end
            """)
        do {
            try await eventually("the resting buy works at the gateway") {
                try await rig.server.withEngine { engine in engine.orders.values.contains { $0.status == "Submitted" } }
            }
            let limit = try await rig.server.withEngine { engine in engine.orders.values.first?.order.lmtPrice ?? 0 }
            // The reports of open orders and executions wait 3 s at the gateway (a busy TWS):
            // quotes flow again ~1 s after the drop, long before the reconciliation can end.
            try await rig.control("hold 3")
            try await rig.control("restart 2")
            try await rig.control("price AAPL \(String(format: "%.2f", limit * 0.98))")  // the resting buy fills while we are away
            try await eventually("the fill is known to the strategy") {
                try await rig.strategy.loop.submit { rig.strategy.positions["AAPL"]?.quantity ?? 0 }.get() == 100
            }
            // Quotes keep coming: a strategy that saw itself flat would have bought by now.
            try await rig.control("step 50")
            try await eventually("reconciled: trading open again") { rig.state.tradingAllowed }
            let lines = await rig.lines()
            #expect(!lines.contains { $0.hasPrefix("bought when flat") }, "\(lines)")
            // Told once, though reconnect attempts failed while the gateway refused them.
            #expect(lines.filter { $0 == "told reconciling" }.count == 1, "\(lines)")
            #expect(try await Self.executedAtGateway(rig, "AAPL") == 100)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("an order decided before the reconciliation of a reconnect never leaves: not_sent, code reconciling")
    func orderWhileReconciling() async throws {
        let rig = try await Rig.start("function on_start() end")
        do {
            try await rig.control("hold 3")
            try await rig.control("restart 0.5")
            try await eventually("the drop closes the gate") { rig.client.orderGate.reason(of: "reconciling") != nil }
            try await eventually("reconnected") { await rig.client.isReady }
            // Past the strategy's own check (as an order already on its way would be).
            let id = try? rig.runner.submitNew(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 1, type: "MKT"),
                                               strategy: rig.strategy.name)
            #expect(id == nil, "the runner refuses it while the gate is closed")
            // And one that reaches the client's queue while closed is stopped where orders leave.
            let record = try? await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 1, type: "MKT"),
                                                     strategy: rig.strategy.name)
            #expect(record == nil)
            try await eventually("reconciled") { rig.state.tradingAllowed }
            #expect(try await rig.server.withEngine { engine in engine.orders.count } == 0, "nothing reached the gateway")
            let states = await rig.state.snapshot().orders.map(\.status)
            #expect(states.allSatisfy { $0 == .notSent }, "\(states)")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("modifying a bracket's entry and take-profit keeps them working: the entry fills, the take-profit closes")
    func bracketModify() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if not q.bid or not q.ask then return end
              last = q
              if not ids then
                ids = orders.bracket("AAPL", 10, { entry = math.floor(q.bid * 90) / 100, take_profit = math.floor(q.ask * 150) / 100,
                                                   stop_loss = math.floor(q.bid * 50) / 100 })
                print("bracket", ids.parent, ids.take_profit, ids.stop_loss)
              end
            end
            function on_signal(what)
              if what == "entry" then print("modify entry", orders.modify(ids.parent, { limit = math.floor(last.ask * 102) / 100 })) end
              if what == "exit" then print("modify exit", orders.modify(ids.take_profit, { limit = math.floor(last.bid * 98) / 100 })) end
            end
            function on_fill(f) print("fill", f.order_id, f.side, f.qty) end
            """)
        do {
            try await eventually("three legs at the gateway") { try await rig.server.withEngine { $0.orders.count } == 3 }
            try await eventually("the bracket is working") {
                try await rig.server.withEngine { engine in engine.orders.values.allSatisfy { $0.order.transmit } }
            }
            #expect(rig.runner.post(handler: "on_signal", values: [.string("entry")], to: rig.strategy.name) == 1)
            try await eventually("the modified entry fills") { try await Self.executedAtGateway(rig, "AAPL") == 10 }
            #expect(rig.runner.post(handler: "on_signal", values: [.string("exit")], to: rig.strategy.name) == 1)
            try await eventually("the modified take-profit fills: flat") { try await Self.executedAtGateway(rig, "AAPL") == 0 }
            let legs = try await rig.server.withEngine { engine in engine.orders.values.map { ($0.orderId, $0.status) }.sorted { $0.0 < $1.0 } }
            #expect(legs.map(\.1) == ["Filled", "Filled", "Cancelled"], "\(legs)")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("a strategy starts from its snapshot: events relayed before on_start wait for it, a fill the snapshot holds is not told twice")
    func startFromSnapshot() async throws {
        let rig = try await Rig.start("function on_start() end")
        do {
            let file = rig.folder.appendingPathComponent("late.lua")
            try """
                function on_start() local p = account.position("AAPL"); print("start", p and p.qty or 0) end
                function on_fill(f) print("fill", f.exec_id, f.qty) end
                function on_error(e) print("error", e.code) end
                """.write(to: file, atomically: true, encoding: .utf8)
            let late = try await rig.runner.launch(path: file.path, config: HostConfig())
            let inSnapshot = PositionBookTests.execution("A.01", side: "BOT", shares: 100, price: 10, commission: 1)
            let after = PositionBookTests.execution("B.01", side: "BOT", shares: 50, price: 10, commission: 1)
            // Relayed between the strategy's arrival on the runner and its start: the first is
            // in the snapshot it starts from (taken ahead of the journal's deliveries), the second not.
            late.post(.fill(inSnapshot))
            late.post(.error(code: "early", message: "before on_start", orderId: nil))
            late.post(.fill(after))
            var book = PositionBook()
            book.apply(inSnapshot)
            late.start(positions: book, orders: [])
            try await eventually("the events are handled") { await late.lines().count >= 3 }
            let lines = await late.lines()
            #expect(lines == ["start 100", "error early", "fill B.01 50"], "\(lines)")
            #expect(try await late.loop.submit { late.positions["AAPL"]?.quantity }.get() == 150)
            #expect(await late.currentStatistics().fills == 1)
            _ = await late.stop()
            rig.runner.remove(late)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test("a store write the journal cannot take closes trading, waits, and is written once the journal can be")
    func storeOnFailingJournal() async throws {
        let rig = try await Rig.start("""
            function on_start() end
            function on_signal(value) store.value = string.rep(value, 20000); print("stored", value) end
            """)
        func limitPages(to pages: Int? = nil) throws {
            try rig.journal.queue.writeWithoutTransaction { db in
                let now = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages ?? now)")
            }
        }
        do {
            try limitPages()  // a full disk: the store (100 KB) needs pages the file cannot grow by
            #expect(rig.runner.post(handler: "on_signal", values: [.string("first")], to: rig.strategy.name) == 1)
            try await eventually("the failing write closes trading") { rig.client.orderGate.reason(of: "journal") != nil }
            #expect(rig.runner.loadStore(strategy: rig.strategy.name) == nil, "nothing written yet")
            try limitPages(to: 1_000_000)
            try await eventually("the retry writes it and reopens trading", timeout: 30) {
                rig.client.orderGate.reason(of: "journal") == nil && rig.runner.loadStore(strategy: rig.strategy.name) != nil
            }
            #expect(await rig.state.drainJournal(within: 5) == nil)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }
}
