import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import LuaRuntime
@testable import PaperGateway
@testable import StrategyHost

/// Reload is atomic (nothing a failed file did survives), a good reload clears a pause, and
/// a strategy declared hung comes back as a fresh state when its file is saved.
@Suite("Hot reload guarantees: atomic, clears a pause, restarts a hung strategy", .serialized)
struct ReloadGuaranteeTests {
    @Test("a failed reload leaves nothing behind: not its store writes, not its globals, not its library changes")
    func atomic() async throws {
        let rig = try await Rig.start("""
            function on_start() store.count = 1 print("v1 started") end
            function on_quote(q) end
            """)
        try await eventually("v1 started") { await rig.lines().contains("v1 started") }
        let failed = await rig.strategy.reload(source: """
            store.count = 999
            store.added = "by the failed file"
            string.upper = nil
            leaked_global = true
            error("the new file fails after writing")
            """)
        #expect(!failed.succeeded)
        let store = try await rig.strategy.loop.submit { rig.strategy.lua.value(of: rig.strategy.storeRef) }.get()
        #expect(store["count"] == .integer(1))
        #expect(store["added"] == .nil)
        #expect(try await rig.strategy.loop.submit { rig.strategy.lua.field(rig.strategy.env, "leaked_global") }.get() == .nil)
        // Library changes by the running code vanish with a good reload.
        let tamper = await rig.strategy.reload(source: "function on_reload() string.upper = nil end")
        #expect(tamper.succeeded)
        let good = await rig.strategy.reload(source: "function on_reload() print('upper is back: ' .. string.upper('ok')) end")
        #expect(good.succeeded)
        try await eventually("string.upper is back") { await rig.lines().contains("upper is back: OK") }
        await rig.stop()
    }

    @Test("timers and orders cannot be made at a file's top level; a reload that tries fails and changes nothing")
    func topLevelEffects() async throws {
        let rig = try await Rig.start("function on_start() print('v1') end")
        try await eventually("v1") { await rig.lines().contains("v1") }
        for source in ["timer.after(0.01, function() print('leaked timer') end)", "orders.buy('AAPL', 1)", "market.subscribe('AAPL')"] {
            let outcome = await rig.strategy.reload(source: source)
            #expect(!outcome.succeeded)
            #expect(outcome.error?.contains("can only be called from a handler") == true, "\(source): \(outcome.error ?? "")")
        }
        #expect(try await rig.strategy.loop.submit { rig.strategy.timers.isEmpty }.get(), "no timer was made")
        #expect(await !rig.lines().contains("leaked timer"))
        #expect(await rig.statistics().ordersPlaced == 0)
        await rig.stop()
    }

    @Test("a strategy paused after N failing handlers resumes after a good reload")
    func reloadClearsPause() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q) error("broken") end
            """, host: { $0.strategy.maxConsecutiveErrors = 3 })
        try await eventually("paused") { await rig.statistics().paused }
        let outcome = await rig.strategy.reload(source: "function on_quote(q) print('fixed quote') end")
        #expect(outcome.succeeded)
        #expect(await rig.statistics().paused == false)
        try await eventually("the fixed code handles quotes") { await rig.lines().contains("fixed quote") }
        await rig.stop()
    }

    @Test("a strategy stuck in C is declared hung, its open order cancelled; saving a fixed file starts a fresh state that trades on")
    func hungThenRestarted() async throws {
        let rig = try await Rig.start("""
            function on_start() market.subscribe("AAPL") end
            function on_quote(q)
              if resting or not q.bid then return end
              resting = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
              timer.after(0.2, function() testing.block_in_c(6) end)
            end
            """, host: { $0.strategy.testAPI = true; $0.strategy.hardLimitMs = 1000 })
        let reports = NIOLockedValueBox<[String]>([])
        rig.runner.onSupervision = { line in reports.withLockedValue { $0.append(line) } }
        rig.runner.startWatchdog()
        try await eventually("the order rests") {
            await rig.state.snapshot().orders.contains { $0.strategy == "test_strategy" && $0.status == .submitted }
        }
        try await eventually("declared hung", timeout: 10) { rig.strategy.hungReason != nil }
        #expect(rig.strategy.hungReason?.contains("timer 1 has not returned") == true, "\(rig.strategy.hungReason ?? "")")
        #expect(rig.strategy.hungReason?.contains("test_strategy.lua:") == true)
        try await eventually("its order is cancelled") {
            await rig.state.snapshot().orders.filter { $0.strategy == "test_strategy" }.allSatisfy { $0.status == .cancelled }
        }
        #expect(try rig.journal.count("strategy_events") >= 1)
        // A stop of the hung strategy does not wait for its loop.
        // Order, not speed: a stop that waited for the loop returns only after block_in_c(6)
        // does, which is at least 6.2 s after the order was made (the timer is armed 0.2 s
        // after, in the same handler). The 2.5 s ceiling on the stop itself is 5x the 500 ms
        // promise, room for a loaded 2-core machine.
        let placed = try #require(await rig.state.snapshot().orders.first { $0.strategy == "test_strategy" }).createdAt
        let stopping = ContinuousClock.now
        let statistics = await rig.strategy.stop()
        let stopped = ContinuousClock.now
        #expect(Date().timeIntervalSince1970 < placed + 6.2, "the stop returned only once the stuck handler could have")
        #expect(stopped - stopping < .milliseconds(2500))
        #expect(statistics.hung)
        // Saving a fixed file brings up a fresh state on a new loop.
        try """
            function on_start() market.subscribe("AAPL") end
            function on_error(e) print("fresh on_error " .. e.code) end
            function on_quote(q) if not said then said = true print("fresh quote") end end
            """.write(toFile: rig.folder.appendingPathComponent("test_strategy.lua").path, atomically: true, encoding: .utf8)
        rig.runner.fileChanged(strategy: "test_strategy", path: rig.folder.appendingPathComponent("test_strategy.lua").path)
        try await eventually("a fresh instance runs") {
            guard let fresh = rig.runner.strategy(named: "test_strategy"), fresh !== rig.strategy else { return false }
            let lines = await fresh.lines()
            return lines.contains("fresh quote") && lines.contains("fresh on_error hung")
        }
        #expect(reports.withLockedValue { $0 }.contains { $0.contains("started afresh") })
        _ = await rig.runner.stopAll()
        await rig.stop()
    }
}
