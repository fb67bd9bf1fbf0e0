import CLua
import CLuaShim
import Dispatch
import Foundation
import Testing
@testable import LuaRuntime

/// The time budget when its hook is armed late (by a signal once the deadline passed, not at
/// the start of every run): every way Lua code can keep running is still stopped, a late run
/// leaves nothing behind for the runs after it, and each thread's run is stopped on its own.
@Suite("Lua budget armed late: every loop still stopped, nothing left for the next run", .serialized)
struct BudgetArmingTests {
    func state() throws -> (LuaState, LuaRef) {
        let lua = try LuaState(memoryLimit: 32 << 20)
        lua.registerTestBlocker(table: "host", name: "block")
        lua.register(table: "host", name: "hookmask") { call in .values([.integer(Int64(lua_gethookmask(call.caller)))]) }
        lua.timeBudget = 0.05
        lua.sandbox()
        return (lua, lua.newEnvironment())
    }

    @Test("each way of looping forever is stopped near the deadline", arguments: [
        "while true do end",
        "repeat until false",
        "::top:: goto top",
        "for _ = 1, math.maxinteger do end",
        "local function f() return f() end f()",
        "local function g() end while true do g() end",
        // Coroutines the run makes: the signal arms the run's state, not theirs.
        "coroutine.wrap(function() while true do end end)()",
        "coroutine.resume(coroutine.create(function() while true do end end))",
        "coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()",
        "local f = coroutine.wrap(function() while true do coroutine.yield() end end) while true do f() end",
        // The coroutine is stopped and its error caught: the run itself must stop next.
        "pcall(coroutine.wrap(function() while true do end end)) while true do end",
        "coroutine.resume(coroutine.create(function() while true do end end)) while true do end",
        // Lua called back from C.
        "string.gsub('a', 'a', function() while true do end end)",
        "table.sort({3, 2, 1, 4}, function(a, b) while true do end end)",
        "local t = setmetatable({}, { __index = function() while true do end end }) local _ = t.x",
        "while true do pcall(function() while true do end end) end",
        // The deadline passes inside a C function: the signal comes there; the loop after it
        // must still be stopped.
        "host.block(0.12) while true do end",
    ])
    func loopsAreStopped(_ body: String) throws {
        let (lua, env) = try state()
        try lua.load(source: "function attack() \(body) end", chunkName: "attack.lua", env: env)
        let started = ContinuousClock.now
        let error = failure(lua.call(env, "attack", []))
        let took = ContinuousClock.now - started
        #expect(error?.kind == .budget, "\(body): \(String(describing: error))")
        // 5 s is 100x the 50 ms budget: room for a loaded 2-core machine; a hook never armed
        // would never come back at all.
        #expect(took < .seconds(5), "\(body) took \(took)")
        // The state still works, at full speed: no hook left behind.
        try lua.load(source: "function after() return host.hookmask() end", chunkName: "after.lua", env: env)
        guard case let .finished(values) = lua.call(env, "after", []) else {
            Issue.record("\(body): the state is broken after the stop")
            return
        }
        if shim_arming_by_signal() != 0 { #expect(values == [.integer(0)], "\(body): a hook was left on the state") }
    }

    @Test("a coroutine made at load time, resumed by a later run, is stopped in that run")
    func oldCoroutine() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            local spinner = coroutine.create(function() coroutine.yield() while true do end end)
            coroutine.resume(spinner)
            function attack() coroutine.resume(spinner) end
            """, chunkName: "old.lua", env: env)
        #expect(failure(lua.call(env, "attack", []))?.kind == .budget)
    }

    @Test("a loop of coroutine.create at a full heap (its time in collections, while its maker lends the hook) is stopped near the deadline")
    func coroutineMakerAtFullHeap() throws {
        let lua = try LuaState(memoryLimit: 8 << 20)
        lua.timeBudget = 0.05
        lua.sandbox()
        let env = lua.newEnvironment()
        try lua.load(source: """
            heap = {}
            function fill()
              local n = 0
              pcall(function() while true do n = n + 1; heap[n] = {} end end)
              for i = n, n - 30, -1 do heap[i] = nil end
            end
            local function f() end
            function spin() local make = coroutine.create while true do make(f) end end
            function spin_wrap() local make = coroutine.wrap while true do make(f) end end
            """, chunkName: "heap.lua", env: env, budget: 30)
        // The heap filled up to the cap in a run of its own (that run met the cap; the next ones
        // start with the heap full).
        _ = lua.call(env, "fill", [], budget: 30)
        for name in ["spin", "spin_wrap"] {
            let started = ContinuousClock.now
            let error = failure(lua.call(env, name, []))
            let took = ContinuousClock.now - started
            // Each `create` collects in full here, inside the window where the hook is lent: a
            // signal there used to be lost every time (runs of 20 s, or never stopped).
            #expect(error?.kind == .budget, "\(name): \(String(describing: error))")
            #expect(took < .seconds(2), "\(name) took \(took)")
        }
    }

    @Test("a run stopped by the budget is a budget stop though the cap refused an allocation before (and a collection made room)")
    func budgetAfterRefusedAllocation() {
        #expect(LuaState.kind(status: LUA_ERRRUN, expired: true, memoryHit: true) == .budget)
        #expect(LuaState.kind(status: LUA_ERRMEM, expired: true, memoryHit: true) == .memory)
        #expect(LuaState.kind(status: LUA_ERRRUN, expired: false, memoryHit: true) == .memory)
        #expect(LuaState.kind(status: LUA_ERRRUN, expired: false, memoryHit: false) == .runtime)
    }

    @Test("late runs among 20,000 quick ones: each late one stopped, no quick one after it")
    func burstOfRuns() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            function quick(n) local s = 0 for i = 1, 200 do s = s + i * n end return s end
            function late() while true do end end
            """, chunkName: "burst.lua", env: env)
        var stopped = 0
        var wronglyStopped: [Int] = []
        for run in 0..<20_000 {
            if run % 2_000 == 1_999 {
                if failure(lua.call(env, "late", []))?.kind == .budget { stopped += 1 }
                continue
            }
            switch lua.call(env, "quick", [.integer(Int64(run))]) {
            case let .finished(values): #expect(values == [.integer(Int64(run) * 20_100)])
            default: wronglyStopped.append(run)
            }
        }
        #expect(stopped == 10)
        #expect(wronglyStopped.isEmpty, "quick runs stopped: \(wronglyStopped.prefix(10))")
    }

    @Test("two states spinning on two threads at once are each stopped")
    func twoThreads() {
        let outcomes = Outcomes()
        let done = DispatchSemaphore(value: 0)
        for index in 0..<2 {
            // Threads of their own: both spin at the same time, each signalled on its own.
            Thread.detachNewThread {
                let outcome: String
                do {
                    let (lua, env) = try BudgetArmingTests().state()
                    try lua.load(source: "function attack() while true do end end", chunkName: "t\(index).lua", env: env)
                    let stopped = failure(lua.call(env, "attack", []))?.kind == .budget
                    outcome = stopped ? "stopped" : "not stopped"
                } catch {
                    outcome = "\(error)"
                }
                outcomes.add(outcome)
                done.signal()
            }
        }
        for _ in 0..<2 { #expect(done.wait(timeout: .now() + 30) == .success, "a thread's run was never stopped") }
        #expect(outcomes.all == ["stopped", "stopped"])
    }

    @Test("a run that ends in time never had the count hook set (outside ThreadSanitizer)")
    func inTimeRunsAreUnhooked() throws {
        let (lua, env) = try state()
        try lua.load(source: "function mask() local s = 0 for i = 1, 10000 do s = s + i end return host.hookmask() end",
                     chunkName: "mask.lua", env: env)
        guard case let .finished(values) = lua.call(env, "mask", []) else {
            Issue.record("mask failed")
            return
        }
        #expect(values == [.integer(shim_arming_by_signal() != 0 ? 0 : Int64(LUA_MASKCOUNT))])
    }
}

/// What the threads of `twoThreads` came to.
/// @unchecked Sendable: `items` is read and written only while `lock` is held.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
