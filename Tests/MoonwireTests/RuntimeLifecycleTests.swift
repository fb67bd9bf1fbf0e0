import Foundation
import Testing
@testable import Moonwire
@testable import PaperGateway

/// The facade as an application drives it: start, add, observe, remove, stop.
@Suite("Runtime lifecycle", .timeLimit(.minutes(1)))
struct RuntimeLifecycleTests {
    static let buyOnce = """
        function on_start() market.subscribe("AAPL") end
        function on_quote(q)
          if bought then return end
          bought = orders.buy("AAPL", 10)
        end
        function on_fill(f) log.info(string.format("filled %g", f.qty)) end
        """

    @Test("events, statistics and the summary tell what a strategy did; stop twice gives one summary")
    func observeOneStrategy() async throws {
        let embedded = try await Embedded.start()
        let events = embedded.runtime.events()
        let file = try embedded.write("buyer.lua", Self.buyOnce)
        let name = try await embedded.runtime.addStrategy(file: file)
        #expect(name == "buyer")
        #expect(embedded.runtime.strategyNames == ["buyer"])
        try await embedded.waitForLines("buyer") { $0.contains("filled 10") }
        let statistics = await embedded.runtime.statistics()
        #expect(statistics["buyer"]?.fills == 1)
        #expect(statistics["buyer"]?.ordersPlaced == 1)
        let stopping = Task { await embedded.runtime.stop() }
        let again = await embedded.runtime.stop()
        let summary = await stopping.value
        #expect(summary.stoppedAt == again.stoppedAt)
        #expect(summary.strategies.map(\.name) == ["buyer"])
        #expect(summary.strategies.first?.fills.count == 1)
        #expect(summary.strategies.first?.positions == [.init(symbol: "AAPL", quantity: 10, averageCost: summary.strategies[0].positions[0].averageCost)])
        #expect(summary.leavesRiskOn)
        #expect(summary.text.contains("positions         10 AAPL at"))

        var seen: [String] = []
        for await event in events {
            switch event {
            case let .strategyAdded(name, _): seen.append("added \(name)")
            case let .trading(.order(record)) where record.status == .filled: seen.append("order filled \(record.strategy)")
            case let .trading(.fill(execution)): seen.append("fill \(execution.shares)")
            case .stopped: seen.append("stopped")
            default: break
            }
        }
        #expect(seen.first == "added buyer")
        #expect(seen.contains("fill 10.0"))
        #expect(seen.contains("order filled buyer"))
        #expect(seen.last == "stopped")
        try? FileManager.default.removeItem(at: embedded.folder)
    }

    @Test("a strategy removed stops, cancels its orders when asked, and leaves the others running")
    func removeOne() async throws {
        let embedded = try await Embedded.start()
        let resting = """
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if id or not q.bid then return end
              id = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
            end
            function on_order(o) log.info("order " .. o.status) end
            function on_stop() log.info("stopping") end
            """
        try await embedded.runtime.addStrategy(file: try embedded.write("rest.lua", resting))
        try await embedded.runtime.addStrategy(file: try embedded.write("buyer.lua", Self.buyOnce))
        try await embedded.waitForLines("rest") { $0.contains("order submitted") }
        let statistics = await embedded.runtime.removeStrategy(named: "rest", cancelOrders: true)
        #expect(statistics?.ordersPlaced == 1)
        #expect(embedded.runtime.strategyNames == ["buyer"])
        #expect(await embedded.runtime.removeStrategy(named: "rest") == nil)
        // Its order is cancelled at TWS, and journaled so.
        var cancelled = false
        for _ in 0..<100 where !cancelled {
            cancelled = await embedded.runtime.snapshot().orders.contains { $0.strategy == "rest" && $0.status == .cancelled }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(cancelled)
        try await embedded.waitForLines("buyer") { $0.contains("filled 10") }
        let summary = await embedded.stop()
        #expect(summary.strategies.map(\.name) == ["buyer"])
    }

    @Test("a file that fails to load, a missing file and a second copy of a running file are refused with what is wrong")
    func refusals() async throws {
        let embedded = try await Embedded.start()
        let broken = try embedded.write("broken.lua", "function on_start( end")
        await #expect(throws: MoonwireError.self) { try await embedded.runtime.addStrategy(file: broken) }
        do {
            try await embedded.runtime.addStrategy(file: embedded.folder.appendingPathComponent("nowhere.lua").path)
            Issue.record("a missing file was accepted")
        } catch let error as MoonwireError {
            #expect(error.message.contains("nowhere.lua: no such strategy file"))
        }
        let file = try embedded.write("buyer.lua", Self.buyOnce)
        try await embedded.runtime.addStrategy(file: file)
        do {
            try await embedded.runtime.addStrategy(file: file)
            Issue.record("the same file was started twice")
        } catch let error as MoonwireError {
            #expect(error.message.contains("is running already, as buyer"))
        }
        // The failed name is free again.
        try embedded.write("broken.lua", "function on_start() log.info('fixed') end")
        #expect(try await embedded.runtime.addStrategy(file: broken) == "broken")
        #expect(throws: MoonwireError.self) { try embedded.runtime.post("on_quote", []) }
        #expect(throws: MoonwireError.self) { try embedded.runtime.post("signal", []) }
        #expect(throws: MoonwireError.self) { try embedded.runtime.post("on_signal", [], to: "nobody") }
        _ = await embedded.stop()
        await #expect(throws: MoonwireError.self) { try await embedded.runtime.addStrategy(file: file) }
    }

    @Test("stop is bounded while a strategy is stuck in a C call")
    func stopWithHungStrategy() async throws {
        let embedded = try await Embedded.start { configuration in
            configuration.host.strategy.testAPI = true
            configuration.host.strategy.hardLimitMs = 300
        }
        let stuck = try embedded.write("stuck.lua", """
            function on_start() timer.after(0.05, function() testing.block_in_c(30) end) end
            """)
        try await embedded.runtime.addStrategy(file: stuck)
        try await embedded.runtime.addStrategy(file: try embedded.write("buyer.lua", Self.buyOnce))
        // The stuck strategy's loop stops answering once its timer is in the C call.
        let stuckStrategy = try #require(embedded.runtime.runner.strategy(named: "stuck"))
        let deadline = Date().addingTimeInterval(30)
        while await stuckStrategy.loop.submit({}).value(within: 1) != nil {
            try #require(Date() < deadline, "the stuck strategy's loop kept answering")
        }
        let started = ContinuousClock.now  // monotonic: a paused machine's wall clock jumps
        let summary = await embedded.stop()
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(summary.strategies.first { $0.name == "stuck" }?.statistics.hung == true)
    }

    @Test("the connection's states come as a stream: a dropped connection, then restored")
    func connectionStates() async throws {
        let embedded = try await Embedded.start()
        let states = embedded.runtime.connectionStates()
        try await embedded.runtime.paperGateway!.withEngine { engine in _ = engine.control("drop") }
        var seen: [String] = []
        for await state in states {
            seen.append(state)
            if seen.count >= 2 { break }
        }
        #expect(seen == ["lost", "restored"])
        _ = await embedded.stop()
    }
}
