import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// Several strategies on one connection: their own orders, fills and positions, told apart
/// by name, across restarts.
@Suite("Many strategies on one connection", .timeLimit(.minutes(1)))
struct ManyStrategiesTests {
    /// Buys `qty` of `symbol` once at market; reports its fills and, on `on_report`, its
    /// position and the account's.
    static func buyer(_ symbol: String, _ quantity: Int) -> String {
        """
        function on_start() market.subscribe("\(symbol)") end
        function on_quote(q)
          if not quoted then quoted = true; log.info("quote seen") end
          if store.bought then return end
          store.bought = orders.buy("\(symbol)", \(quantity))
        end
        function on_fill(f) log.info(string.format("filled %s %g", f.symbol, f.qty)) end
        function on_report()
          local p = account.position("\(symbol)")
          log.info(string.format("position %s own=%s account=%s open=%d", "\(symbol)", p and p.qty or 0,
                                 p and p.account_qty or account.account_position("\(symbol)"), #orders.open()))
        end
        """
    }

    @Test("two strategies trade different symbols: each order and fill is attributed to the one that placed it")
    func attribution() async throws {
        let embedded = try await Embedded.start()
        try await embedded.runtime.addStrategy(file: try embedded.write("apple.lua", Self.buyer("AAPL", 10)))
        try await embedded.runtime.addStrategy(file: try embedded.write("micro.lua", Self.buyer("MSFT", 4)))
        try await embedded.waitForLines("apple") { $0.contains("filled AAPL 10") }
        try await embedded.waitForLines("micro") { $0.contains("filled MSFT 4") }
        #expect(!(await embedded.lines("apple")).contains { $0.contains("MSFT") })
        #expect(!(await embedded.lines("micro")).contains { $0.contains("AAPL") })
        let snapshot = await embedded.runtime.snapshot()
        #expect(Set(snapshot.orders.map { "\($0.strategy) \($0.contract.symbol)" }) == ["apple AAPL", "micro MSFT"])
        // The name reaches TWS in the orderRef.
        let refs = try await embedded.runtime.paperGateway!.withEngine { engine in engine.orders.values.map { $0.order.orderRef } }
        #expect(refs.count == 2)
        #expect(refs.contains { $0.hasPrefix("mw:apple:") } && refs.contains { $0.hasPrefix("mw:micro:") })
        let summary = await embedded.stop()
        #expect(summary.strategies.map { "\($0.name) \($0.fills.count) \($0.positions.map(\.symbol))" } == ["apple 1 [\"AAPL\"]", "micro 1 [\"MSFT\"]"])
    }

    @Test("two strategies in one symbol each see their own position, the account's total beside it, after a restart too")
    func ownPositions() async throws {
        var gatewayConfig = PaperGatewayConfig()
        gatewayConfig.port = 0
        gatewayConfig.market.tickIntervalMs = 20
        let gateway = try await PaperGatewayServer.start(config: gatewayConfig)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-own-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        func start() async throws -> Embedded {
            try await Embedded.start { configuration in
                configuration.connection.host = "127.0.0.1"
                configuration.connection.port = gateway.port
                configuration.journalPath = folder.appendingPathComponent("journal.sqlite").path
            }
        }
        for run in 1...2 {
            let embedded = try await start()
            let big = try embedded.write("big.lua", Self.buyer("AAPL", 10))
            let small = try embedded.write("small.lua", Self.buyer("AAPL", 3))
            try await embedded.runtime.addStrategy(file: big)
            try await embedded.runtime.addStrategy(file: small)
            if run == 1 {
                try await embedded.waitForLines("big") { $0.contains("filled AAPL 10") }
                try await embedded.waitForLines("small") { $0.contains("filled AAPL 3") }
                // And both orders' final status (a fill is told before its order's status: the
                // report must come after both, or an order still counts as open).
                try await embedded.waitForState("the account's position report of 13 AAPL, both orders filled") { state in
                    state.positions.contains { $0.symbol == "AAPL" && $0.quantity == 13 }
                        && state.orders.count == 2 && state.orders.allSatisfy { $0.status == .filled }
                }
            }
            #expect(try embedded.runtime.post("on_report") == 2)
            let bigLines = try await embedded.waitForLines("big") { $0.contains { $0.hasPrefix("position") } }
            let smallLines = try await embedded.waitForLines("small") { $0.contains { $0.hasPrefix("position") } }
            #expect(bigLines.contains("position AAPL own=10 account=13 open=0"), "run \(run): \(bigLines)")
            #expect(smallLines.contains("position AAPL own=3 account=13 open=0"), "run \(run): \(smallLines)")
            // The stores said they bought: the second run places nothing (each had a quote, the
            // moment it would have bought).
            try await embedded.waitForLines("big") { $0.contains("quote seen") }
            try await embedded.waitForLines("small") { $0.contains("quote seen") }
            let summary = await embedded.runtime.stop()
            #expect(summary.strategies.map(\.statistics.ordersPlaced) == (run == 1 ? [1, 1] : [0, 0]))
            #expect(summary.strategies.flatMap(\.positions).map(\.quantity) == [10, 3])
        }
        try await gateway.shutdown()
    }

    @Test("two files of the same name in different folders run side by side under names that tell them apart")
    func sameFileNames() async throws {
        let embedded = try await Embedded.start()
        let first = try embedded.write("alpha/momentum.lua", "function on_start() log.info('alpha') end")
        let second = try embedded.write("beta/momentum.lua", "function on_start() log.info('beta') end")
        #expect(try await embedded.runtime.addStrategy(file: first) == "momentum")
        #expect(try await embedded.runtime.addStrategy(file: second) == "beta/momentum")
        try await embedded.waitForLines("momentum") { $0 == ["alpha"] }
        try await embedded.waitForLines("beta/momentum") { $0 == ["beta"] }
        #expect(await embedded.lines("momentum") == ["alpha"])
        #expect(await embedded.lines("beta/momentum") == ["beta"])
        // An explicit name that is taken is refused.
        await #expect(throws: MoonwireError.self) {
            try await embedded.runtime.addStrategy(file: try embedded.write("gamma.lua", ""), name: "momentum")
        }
        _ = await embedded.stop()
    }
}
