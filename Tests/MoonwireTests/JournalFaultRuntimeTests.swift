import Foundation
import GRDB
import Testing
@testable import Moonwire
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState
import TWSProtocol

/// Faults stay local, seen from strategies: one strategy's order the journal cannot hold is
/// refused alone while another keeps trading; a journal that cannot be written (SQLITE_FULL,
/// for real, from SQLite's own size limit) closes trading for everyone, and once it has room
/// again trading reopens by itself and every strategy is told.
@Suite("Faults stay local", .serialized, .timeLimit(.minutes(2)))
struct JournalFaultRuntimeTests {
    /// Places one far-below-the-market order when the test posts `on_try`, then cancels it.
    static let trader = """
        tries = 0
        function on_start() market.subscribe("AAPL") end
        function on_quote(q) if not ready then ready = true print("ready") end end
        function on_try()
          tries = tries + 1
          local id, err = orders.buy("AAPL", 1, { limit = 1, tif = "GTC" })
          if id then orders.cancel(id) end
          print("try " .. tries .. ": " .. (id and "placed" or ("refused " .. err.code)))
        end
        function on_error(e) print("on_error " .. e.code .. " " .. e.message) end
        """

    static func start() async throws -> Embedded {
        try await Embedded.start { configuration in
            configuration.host.risk.maxOrdersPerMinute = 100_000
            configuration.host.accountRisk.maxOrdersPerMinute = 100_000
        }
    }

    /// Posts `on_try` to `name` and returns the line it printed.
    static func attempt(_ embedded: Embedded, _ name: String) async throws -> String {
        let before = await embedded.lines(name).filter { $0.hasPrefix("try ") }.count
        _ = try embedded.runtime.post("on_try", to: name)
        let lines = try await embedded.waitForLines(name) { $0.filter { $0.hasPrefix("try ") }.count > before }
        return lines.last { $0.hasPrefix("try ") } ?? ""
    }

    @Test("an order the journal cannot hold is refused alone; another strategy keeps trading")
    func badRowAlone() async throws {
        let embedded = try await Self.start()
        try await embedded.runtime.addStrategy(file: try embedded.write("good.lua", Self.trader))
        try await embedded.runtime.addStrategy(file: try embedded.write("bad.lua", """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if tried then return end
              tried = true
              -- An OCA group name with a control character: TWS's encoding (and the journal's) refuses it.
              local id, err = orders.buy("AAPL", 1, { limit = 1, oca = "group\\1" })
              print(id and ("placed " .. id) or ("refused " .. err.code))
            end
            function on_order(o) print("order " .. o.id .. " " .. o.status) end
            function on_error(e) print("on_error " .. e.code .. " " .. tostring(e.order_id)) end
            """))
        // Refused at the call, or given an id and then rejected alone (never a journal failure).
        let bad = try await embedded.waitForLines("bad") { lines in
            lines.contains { $0.hasPrefix("refused ") } || lines.contains { $0.hasPrefix("order ") && $0.hasSuffix(" not_sent") }
        }
        #expect(!bad.contains { $0.contains("journal") }, "\(bad)")
        #expect(embedded.runtime.orderFlowClosed == nil, "one bad order closes nothing")
        try await embedded.waitForLines("good") { $0.contains("ready") }
        #expect(try await Self.attempt(embedded, "good") == "try 1: placed")
        // One that gets past the call's checks (sent as the runner would send it) has its id
        // already: it is not sent (not_sent: it never left), the strategy told why, and trading goes on.
        let id = try embedded.runtime.runner.submitNew(contract: Contract(symbol: "AAPL\u{1}"),
                                                       order: Order(action: "BUY", quantity: 1, type: "LMT", limit: 1), strategy: "bad")
        let told = try await embedded.waitForLines("bad") { $0.contains("order \(id) not_sent") && $0.contains("on_error invalid_argument \(id)") }
        #expect(!told.contains { $0.contains("journal") }, "\(told)")
        #expect(embedded.runtime.orderFlowClosed == nil, "one bad order closes nothing")
        #expect(try await Self.attempt(embedded, "good") == "try 2: placed")
        // The gateway holds the good strategy's two orders: the second was sent after the bad
        // one on the one socket, so had the bad one been sent, the gateway would have seen it.
        let deadline = Date().addingTimeInterval(30)
        while try await embedded.runtime.paperGateway!.withEngine({ engine in engine.orders.count }) < 2 {
            try #require(Date() < deadline, "the good strategy's two orders never reached the gateway")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await embedded.runtime.paperGateway!.withEngine { engine in
            (engine.placeOrdersSeen[id], engine.orders.values.filter { $0.order.ocaGroup.hasPrefix("group") }.count)
        } == (nil, 0), "TWS never saw the bad ones")
        _ = await embedded.stop()
    }

    @Test("a full journal closes trading for every strategy; freed, it reopens by itself and each strategy is told")
    func fullJournalReopens() async throws {
        let embedded = try await Self.start()
        try await embedded.runtime.addStrategy(file: try embedded.write("a.lua", Self.trader))
        try await embedded.runtime.addStrategy(file: try embedded.write("b.lua", Self.trader))
        for name in ["a", "b"] { try await embedded.waitForLines(name) { $0.contains("ready") } }
        #expect(try await Self.attempt(embedded, "b") == "try 1: placed")
        let journal = embedded.runtime.journal
        // SQLite's size limit at the file's size now: the next page it needs fails with SQLITE_FULL.
        try await journal.queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA max_page_count = \(try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0)")
        }
        var tries = 0
        while embedded.runtime.orderFlowClosed == nil, tries < 500 {
            _ = try await Self.attempt(embedded, "a")
            tries += 1
        }
        #expect(embedded.runtime.orderFlowClosed?.code == "journal", "the journal filled up after \(tries) orders")
        #expect(try await Self.attempt(embedded, "b").hasSuffix("refused journal"), "fail closed: every strategy's orders are refused")
        for name in ["a", "b"] {
            try await embedded.waitForLines(name) { $0.contains { $0.hasPrefix("on_error journal the journal") && $0.contains("cannot be written") } }
        }
        // Room again: nobody restarts anything.
        try await journal.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1000000") }
        for name in ["a", "b"] {
            try await embedded.waitForLines(name) { $0.contains { $0.hasPrefix("on_error journal") && $0.contains("again") } }
        }
        #expect(embedded.runtime.orderFlowClosed == nil)
        #expect(try await Self.attempt(embedded, "a").hasSuffix("placed"))
        #expect(try await Self.attempt(embedded, "b").hasSuffix("placed"))
        _ = await embedded.stop()
    }
}
