import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// Futures, forex, options and an index traded from Lua on the paper gateway: fills journaled
/// under the strategy's names for them, quantities as the instrument counts them, PnL with
/// the multiplier.
@Suite("Instruments beyond US stocks", .timeLimit(.minutes(1)))
struct InstrumentTradingTests {
    @Test("a future: contracts, the multiplier in the contract, the risk gate and the realized PnL")
    func future() async throws {
        let embedded = try await Embedded.start { configuration in
            configuration.host.risk.maxOrderNotional = 1_000_000
            configuration.paper.fills.partialFills = false  // the book shows a few contracts: one fill per order here
        }
        try await embedded.runtime.addStrategy(file: try embedded.write("es.lua", """
            function on_start()
              market.subscribe("ES 202612")
              local c = market.contract("ES 202612")
              log.info(string.format("contract %s %s mult=%g tick=%g month=%s tz=%s", c.symbol, c.type, c.multiplier, c.min_tick,
                                     c.contract_month, c.time_zone))
              local id, err = orders.buy("ES 202612", 4)
              log.info("too big " .. tostring(id) .. " " .. (err and err.code or ""))
            end
            function on_quote(q)
              if store.step == nil and q.bid then store.step = 1; orders.buy(q.symbol, 2) end
            end
            function on_fill(f)
              log.info(string.format("fill %s %s %d", f.symbol, f.side, f.qty))
              if f.side == "BUY" then
                local p = account.position("ES 202612")
                log.info(string.format("position %s %d", p.symbol, p.qty))
                orders.sell("ES 202612", 2)
              end
            end
            """))
        let lines = try await embedded.waitForLines("es") { $0.contains("fill ES 202612 SELL 2") }
        #expect(lines.contains("contract ES 202612 FUT mult=50 tick=0.25 month=202612 tz=US/Central"), "\(lines)")
        #expect(lines.contains("too big nil risk:max_order_notional"), "4 contracts are about 1.09 M of notional")
        #expect(lines.contains("position ES 202612 2"))
        try await embedded.waitForState("both ES fills' commission reports") { state in
            state.executions.filter { $0.details.contract.symbol == "ES" && $0.commission != nil }.count == 2
        }
        let summary = await embedded.stop()
        let fills = try #require(summary.strategies.first?.fills)
        #expect(fills.count == 2 && fills.allSatisfy { $0.symbol == "ES 202612" && $0.multiplier == 50 })
        let buy = try #require(fills.first { $0.side == "BOT" }), sell = try #require(fills.first { $0.side == "SLD" })
        let commissions = fills.compactMap { $0.commission?.commission }.reduce(0, +)
        #expect(commissions == 3.4, "0.85 a contract")
        let expected = (sell.price - buy.price) * 2 * 50 - commissions
        #expect(abs((summary.strategies.first?.statistics.realizedPnL ?? 0) - expected) < 1e-6)
    }

    @Test("forex in units, an option by expiry, strike and right, an index quoted but not traded, an ambiguous future refused")
    func otherTypes() async throws {
        let embedded = try await Embedded.start { configuration in
            configuration.host.risk.maxOrderQuantity = 100_000  // forex counts in units
            configuration.host.risk.maxPosition = 100_000
            configuration.host.accountRisk.maxPosition = 100_000
            configuration.paper.fills.partialFills = false
        }
        try await embedded.runtime.addStrategy(file: try embedded.write("mix.lua", """
            function on_start()
              for _, s in ipairs({ "EUR.USD", "AAPL 20261218 C 190", "^SPX" }) do market.subscribe(s) end
              local id, err = orders.buy({ symbol = "ES", type = "FUT" }, 1, { limit = 5000 })
              log.info("ambiguous " .. tostring(id) .. " " .. err.code .. " " .. err.message)
              local id2, err2 = orders.buy("ES CONT", 1)
              log.info("cont " .. tostring(id2) .. " " .. err2.code)
            end
            local done = {}
            function on_quote(q)
              if done[q.symbol] or not q.bid then return end
              done[q.symbol] = true
              log.info(string.format("quote %s last=%s", q.symbol, tostring(q.last)))
              if q.symbol == "EUR.USD" then orders.buy(q.symbol, 25000) end
              if q.symbol == "AAPL 20261218 C 190" then orders.buy(q.symbol, 1) end
              if q.symbol == "^SPX" then orders.buy(q.symbol, 1, { limit = 1 }) end
            end
            function on_fill(f) log.info(string.format("fill %s %d @ %g", f.symbol, f.qty, f.price)) end
            function on_error(e) log.info("error " .. e.code .. " " .. e.message) end
            """))
        let lines = try await embedded.waitForLines("mix") { lines in
            lines.contains { $0.hasPrefix("fill EUR.USD 25000") } && lines.contains { $0.hasPrefix("fill AAPL 20261218 C 190 1") }
                && lines.contains { $0.hasPrefix("error 201") }
        }
        #expect(lines.contains { $0.hasPrefix("ambiguous nil unknown_instrument orders.buy: ES FUT is ambiguous: it fits ES 202612 (CME), ES 202703 (CME)") },
                "\(lines)")
        #expect(lines.contains("cont nil not_tradable"))
        #expect(lines.contains("quote EUR.USD last=nil"), "forex has bid and ask only")
        #expect(lines.contains { $0.hasPrefix("error 201") && $0.contains("index") }, "\(lines)")
        let snapshot = await embedded.runtime.snapshot()
        let eur = try #require(snapshot.executions.first { $0.symbol == "EUR.USD" })
        #expect(eur.shares == 25000 && eur.details.contract.secType == "CASH")
        let option = try #require(snapshot.executions.first { $0.symbol == "AAPL 20261218 C 190" })
        #expect(option.multiplier == 100)
        _ = await embedded.stop()
    }
}
