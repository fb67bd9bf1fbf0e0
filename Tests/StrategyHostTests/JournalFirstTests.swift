import Foundation
import Testing
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

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
        // The fill has reached the host (the state holds it) and its journal write waits: past
        // that point its delivery could only come from the writer, which holds it back.
        try await eventually("the fill reached the host") {
            await rig.state.snapshot().executions.contains { $0.details.execution.orderId == resting.orderId }
        }
        #expect(await rig.state.drainJournal(within: 0.2) != nil, "the fill's journal write waits")
        #expect(await !rig.lines().contains("fill \(resting.orderId)"), "a fill the journal does not hold is not delivered")
        #expect(rig.state.journalFailure != nil)
        try readOnly(rig, false)
        try await eventually("the fill is journaled, then delivered") { await rig.lines().contains("fill \(resting.orderId)") }
        #expect(try rig.journal.count("executions") == 1)
        try await eventually("trading reopens") { rig.runner.orderFlowClosed == nil }
        await rig.stop()
    }

    @Test("an order the journal cannot hold is not sent: refused at the call, or, when the id was already given, not_sent with on_error")
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
                || (lines.contains { $0.hasPrefix("order ") && $0.contains(" not_sent not sent: ") }
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
            try journal.writeStore(strategy: "test_strategy", data: Data("{not json".utf8))
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

    @Test("while the journal fails and trading is closed, a cancel still reaches TWS (cancels are never held back)")
    func cancelWhileTradingIsClosed() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_go() orders.buy("AAPL", 1, { limit = 1 }) end  -- its journal write fails
            function on_quote(q)
              if not resting and q.bid then
                resting = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
              end
            end
            function on_order(o) print("order " .. o.id .. " " .. o.status) end
            function on_error(e)
              if e.code == "journal" and not cancelling then
                cancelling = true
                local ok, err = orders.cancel(resting)
                print(ok and "cancel sent" or ("cancel refused " .. tostring(err and err.code)))
              end
            end
            """)
        try await eventually("the order rests") { await rig.lines().contains { $0.hasPrefix("order ") && $0.hasSuffix(" submitted") } }
        let resting = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" })
        try readOnly(rig, true)
        // A new order's journal write fails: trading closes, the strategy is told, and cancels.
        rig.strategy.post(.custom(handler: "on_go", values: []))
        try await eventually("the strategy cancels while trading is closed") { await rig.lines().contains { $0.hasPrefix("cancel ") } }
        let said = await rig.lines()
        #expect(said.contains("cancel sent"), "\(said.suffix(5))")
        #expect(rig.runner.orderFlowClosed != nil, "trading is closed (the journal)")
        try await eventually("TWS cancelled it") {
            try await rig.server.withEngine { engine in
                engine.orders.values.first { $0.orderId == resting.orderId }?.status
            } == "Cancelled"
        }
        try readOnly(rig, false)
        await rig.stop()
    }
}
