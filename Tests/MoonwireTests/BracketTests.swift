import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// Brackets, one-cancels-all groups and trailing stops from Lua, on a paper market that moves
/// only when the test says (manual clock, `price` commands): every fill is the test's doing.
@Suite("Brackets, OCA, trailing stops", .timeLimit(.minutes(1)))
struct BracketTests {
    static func start(partialFills: Bool) async throws -> Embedded {
        try await Embedded.start { configuration in
            configuration.paper.market.clock = "manual"
            configuration.paper.fills.partialFills = partialFills
            configuration.host.risk.maxOrderQuantity = 5000
            configuration.host.risk.maxOrderNotional = 1_000_000
            configuration.host.risk.maxPosition = 5000
            configuration.host.accountRisk.maxPosition = 5000
        }
    }

    static let legs = """
        names = {}
        function on_start() market.subscribe("AAPL") end
        function on_order(o)
          log.info(string.format("order %s %s %s filled=%d", names[o.id] or o.id, o.status, o.side, o.filled))
          if o.status == "submitted" and o.qty ~= (sizes[o.id] or o.qty) then log.info(string.format("reduced %s to %d", names[o.id], o.qty)) end
          sizes[o.id] = o.qty
        end
        sizes = {}
        function on_error(e) log.info("error " .. e.code .. " " .. e.message) end
        """

    func price(_ embedded: Embedded, _ value: Double) async throws {
        _ = try await embedded.runtime.paperGateway!.withEngine { $0.control(String(format: "price AAPL %.2f", value)) }
    }

    @Test("a bracket: the entry fills, its children work; the take-profit fills, the stop-loss is cancelled")
    func bracketTakesProfit() async throws {
        let embedded = try await Self.start(partialFills: false)
        try await price(embedded, 190)
        try await embedded.runtime.addStrategy(file: try embedded.write("b.lua", Self.legs + "\n" + """
            function on_quote(q)
              if placed or not q.ask then return end
              placed = true
              local b, err = orders.bracket("AAPL", 100, { take_profit = 195, stop_loss = 185 })
              if not b then log.info("refused " .. err.message) return end
              names[b.parent] = "entry"; names[b.take_profit] = "profit"; names[b.stop_loss] = "loss"
              local bad, why = orders.bracket("AAPL", 100, { take_profit = 180, stop_loss = 185 })
              log.info("backwards " .. tostring(bad))
            end
            """))
        try await embedded.waitForLines("b") { $0.contains("order entry filled BUY filled=100") && $0.contains("order loss submitted SELL filled=0") }
        try await price(embedded, 195.5)
        let lines = try await embedded.waitForLines("b") { $0.contains("order loss cancelled SELL filled=0") }
        #expect(lines.contains("order profit filled SELL filled=100"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("backwards") } == false, "a backwards bracket raises: \(lines)")
        let snapshot = await embedded.runtime.snapshot()
        #expect(snapshot.orders.filter { $0.strategy == "b" }.map(\.status) == [.filled, .filled, .cancelled])
        #expect(snapshot.orders.filter { $0.strategy == "b" }.dropFirst().allSatisfy { $0.order.parentId == snapshot.orders[0].orderId })
        _ = await embedded.stop()
    }

    @Test("cancelling a bracket's entry cancels its legs with it; each leg's on_order says so")
    func cancelTogether() async throws {
        let embedded = try await Self.start(partialFills: false)
        try await price(embedded, 190)
        try await embedded.runtime.addStrategy(file: try embedded.write("c.lua", Self.legs + "\n" + """
            function on_quote(q)
              if placed or not q.ask then return end
              placed = true
              local b = orders.bracket("AAPL", 10, { entry = 180, take_profit = 185, stop_loss = 175 })
              names[b.parent] = "entry"; names[b.take_profit] = "profit"; names[b.stop_loss] = "loss"
              parent = b.parent
              timer.after(0.3, function() orders.cancel(parent) end)
            end
            """))
        let lines = try await embedded.waitForLines("c") { lines in
            ["entry", "profit", "loss"].allSatisfy { name in lines.contains { $0.hasPrefix("order \(name) cancelled") } }
        }
        #expect(!lines.contains { $0.contains("filled=10") })
        _ = await embedded.stop()
    }

    @Test("the take-profit fills in parts: the stop-loss shrinks by each part, then goes")
    func partialFillReducesSibling() async throws {
        let embedded = try await Self.start(partialFills: true)
        try await price(embedded, 190)
        try await embedded.runtime.addStrategy(file: try embedded.write("p.lua", Self.legs + "\n" + """
            function on_quote(q)
              if placed or not q.ask then return end
              placed = true
              local b = orders.bracket("AAPL", 1000, { take_profit = 195, stop_loss = 185 })
              names[b.parent] = "entry"; names[b.take_profit] = "profit"; names[b.stop_loss] = "loss"
            end
            """))
        // The book shows 400 to buy and 300 to sell at each price: the entry fills in parts,
        // one part for each price the test sets (once all three legs are at the gateway).
        try await embedded.waitForLines("p") { $0.contains("order loss submitted SELL filled=0") }
        for filled in [400, 800, 1000] {
            try await price(embedded, 190)
            try await embedded.waitForLines("p") { $0.contains { $0.hasPrefix("order entry") && $0.hasSuffix("filled=\(filled)") } }
        }
        // The take-profit fills 300 at a time; the stop-loss shrinks with it, then goes.
        for left in [700, 400, 100] {
            try await price(embedded, 195.5)
            try await embedded.waitForLines("p") { $0.contains("reduced loss to \(left)") }
        }
        try await price(embedded, 195.5)
        let lines = try await embedded.waitForLines("p") { $0.contains("order loss cancelled SELL filled=0") }
        #expect(lines.contains("order profit filled SELL filled=1000"))
        _ = await embedded.stop()
    }

    @Test("one-cancels-all: the first of a group to fill cancels the rest; a trailing stop follows the market up, then sells")
    func ocaAndTrailing() async throws {
        let embedded = try await Self.start(partialFills: false)
        try await price(embedded, 190)
        try await embedded.runtime.addStrategy(file: try embedded.write("o.lua", Self.legs + "\n" + """
            function on_quote(q)
              if placed or not q.ask then return end
              placed = true
              names[orders.buy("AAPL", 10, { limit = 189, oca = "dip" })] = "first"
              names[orders.buy("AAPL", 10, { limit = 188, oca = "dip" })] = "second"
            end
            function on_fill(f)
              if f.side == "BUY" then names[orders.sell("AAPL", 10, { trail = 1 })] = "trail" end
            end
            """))
        try await embedded.waitForLines("o") { $0.contains("order second submitted BUY filled=0") }
        try await price(embedded, 188.9)
        try await embedded.waitForLines("o") { $0.contains("order second cancelled BUY filled=0") && $0.contains("order trail submitted SELL filled=0") }
        #expect(await embedded.lines("o").contains("order first filled BUY filled=10"))
        // Up to 192: the stop follows to 191; 191.5 does not reach it; 190.9 does.
        for value in [190.0, 191.0, 192.0, 191.5] { try await price(embedded, value) }
        // Each price is applied (and orders matched against it) before `price` returns: the
        // gateway's own record says whether the trailing stop was hit.
        let trail = try await embedded.runtime.paperGateway!.withEngine { engine in
            engine.orders.values.first { $0.order.orderType == "TRAIL" }.map { ($0.status, $0.filled, $0.order.trailStopPrice) }
        }
        #expect(trail != nil && trail?.0 != "Filled" && trail?.1 == 0, "191.5 does not reach the stop: \(String(describing: trail))")
        let stop = trail?.2
        #expect(abs((stop ?? 0) - 191) < 0.02, "the stop trails the best bid by 1: \(String(describing: stop))")
        try await price(embedded, 190.9)
        try await embedded.waitForLines("o") { $0.contains("order trail filled SELL filled=10") }
        _ = await embedded.stop()
    }
}
