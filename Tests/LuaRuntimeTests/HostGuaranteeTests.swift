import CLua
import CLuaShim
import Testing
@testable import LuaRuntime

/// The guarantees of the Lua host against a hostile script, at the LuaRuntime level: the
/// budget holds inside C functions and nested loads, the memory cap holds across them,
/// values crossing the boundary are checked, waits are sound, the sandbox is closed.
@Suite("Lua host guarantees: budgets in C, nested frames, values, waits, sandbox", .serialized)
struct HostGuaranteeTests {
    func state(memory: Int = 16 << 20) throws -> (LuaState, LuaRef) {
        let lua = try LuaState(memoryLimit: memory)
        lua.register(table: "host", name: "echo") { call in .values([try call.value(1, "v")]) }
        lua.register(table: "host", name: "wait") { call in
            guard call.canSuspend else { throw LuaArgumentError(call.cannotSuspendMessage) }
            return .yield
        }
        // A nested load on the caller's coroutine, as `require` does.
        lua.register(table: "host", name: "load") { [unowned lua] call in
            let source = try call.string(1, "source")
            let env = lua.newEnvironment()
            defer { lua.release(env) }
            let refs = try lua.load(source: source, chunkName: "nested.lua", env: env, results: 1, on: call.caller, budget: 5)
            return call.push(reference: refs[0])
        }
        lua.timeBudget = 0.05
        lua.sandbox()
        return (lua, lua.newEnvironment())
    }

    @Test("C functions that used to run unbounded are stopped by the budget (or finish at once)",
          arguments: [
            "string.find(string.rep('a', 40), ('(.-)'):rep(12) .. 'b')",
            "string.match(string.rep('a', 3000), ('a*'):rep(30) .. 'b')",
            "for _ in string.gmatch(string.rep('a', 40), ('(.-)'):rep(12) .. 'b') do end",
            "string.gsub(string.rep('a', 40), ('(.-)'):rep(12) .. 'b', 'x')",
            "string.find(string.rep('a', 1e7), string.rep('a', 5e6) .. 'b', 1, true)",
            "table.move({}, 1, math.maxinteger - 1, 2)",
            "local t = {} for i = 1, 5e5 do t[i] = -i end table.sort(t)",
            "while true do local s = string.rep('ab', 1e5, ',') end",
          ])
    func budgetInC(_ body: String) throws {
        let (lua, env) = try state(memory: 64 << 20)
        try lua.load(source: "function attack() \(body) end", chunkName: "c.lua", env: env)
        let started = ContinuousClock.now
        let error = failure(lua.call(env, "attack", [], budget: 0.05))
        let took = ContinuousClock.now - started
        #expect(error?.kind == .budget, "\(body): \(String(describing: error))")
        // The kind above says the budget stopped it; the bound says it stopped near the 50 ms
        // deadline instead of after the C function ran its course (seconds, or forever).
        // 5 s is 100x the budget: room for a loaded 2-core machine.
        #expect(took < .seconds(5), "\(body) took \(took)")
    }

    @Test("string.rep('', math.maxinteger) returns at once; a result past the cap is refused before it is built")
    func rep() throws {
        let (lua, env) = try state()
        try lua.load(source: "function a() return #string.rep('', math.maxinteger) end function b() return string.rep('x', 1e12) end",
                     chunkName: "r.lua", env: env)
        guard case let .finished(values) = lua.call(env, "a", []) else {
            Issue.record("rep of the empty string did not finish")
            return
        }
        #expect(values == [.integer(0)])
        #expect(failure(lua.call(env, "b", []))?.message.contains("would exceed the strategy's memory limit") == true)
    }

    @Test("the budgeted pattern functions agree with Lua's own on 20,000 random patterns and subjects")
    func patternsAgreeWithStock() throws {
        let lua = try LuaState(memoryLimit: 64 << 20, keepingStockFunctionsIn: "stock")
        lua.sandbox()
        let env = lua.newEnvironment()
        try lua.load(source: """
            local atoms = {"a", "b", ".", "%a", "%d", "%s", "%w", "%A", "[ab]", "[^a]", "[a-c]", "[%d%s]", "[]]", "%%", "%.", "(", ")",
                           "()", "%1", "%2", "%b()", "%f[%w]", "%f[%W]", "^", "$", "-", "*", "+", "?", "x", "(a)", "(%d+)", "[", "%"}
            local alphabet = {"a", "b", "c", "(", ")", " ", "1", "2", ".", "x", "]", "%"}
            local function pick(list) return list[math.random(#list)] end
            local function show(ok, ...)
              local parts = { tostring(ok) }
              for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
              return table.concat(parts, ",")
            end
            local function collect(iterate, s, p, init)
              local out = {}
              for a, b in iterate(s, p, init) do out[#out + 1] = tostring(a) .. "/" .. tostring(b) if #out > 20 then break end end
              return table.concat(out, ";")
            end
            math.randomseed(20261127)
            compared, differences, first = 0, 0, nil
            for i = 1, 20000 do
              local p = {}
              for j = 1, math.random(1, 6) do p[#p + 1] = pick(atoms) end
              p = table.concat(p)
              local s = {}
              for j = 1, math.random(0, 14) do s[#s + 1] = pick(alphabet) end
              s = table.concat(s)
              local init = math.random(-6, 10)
              local checks = {
                { "find", show(pcall(stock.find, s, p, init)), show(pcall(string.find, s, p, init)) },
                { "find plain", show(pcall(stock.find, s, p, init, true)), show(pcall(string.find, s, p, init, true)) },
                { "match", show(pcall(stock.match, s, p, init)), show(pcall(string.match, s, p, init)) },
                { "gmatch", show(pcall(collect, stock.gmatch, s, p, init)), show(pcall(collect, string.gmatch, s, p, init)) },
                { "gsub", show(pcall(stock.gsub, s, p, "<%0>", init % 4)), show(pcall(string.gsub, s, p, "<%0>", init % 4)) },
                { "gsub %1", show(pcall(stock.gsub, s, p, "%1")), show(pcall(string.gsub, s, p, "%1")) },
                { "gsub fn", show(pcall(stock.gsub, s, p, string.upper)), show(pcall(string.gsub, s, p, string.upper)) },
                { "gsub table", show(pcall(stock.gsub, s, p, { a = "A", b = false })), show(pcall(string.gsub, s, p, { a = "A", b = false })) },
              }
              for _, check in ipairs(checks) do
                compared = compared + 1
                if check[2] ~= check[3] then
                  differences = differences + 1
                  first = first or (check[1] .. " s=" .. s .. " p=" .. p .. " init=" .. init .. "\\n  stock: " .. check[2] .. "\\n  ours:  " .. check[3])
                end
              end
            end
            local reps = { {"ab", 3}, {"ab", 3, "-"}, {"", 5, "x"}, {"x", 0}, {"x", -1}, {"", 1, "y"}, {"abc", 1, ","} }
            for _, r in ipairs(reps) do
              compared = compared + 1
              if stock.rep(table.unpack(r)) ~= string.rep(table.unpack(r)) then differences = differences + 1 first = first or ("rep " .. r[1]) end
            end
            local t1, t2 = {}, {}
            for i = 1, 1000 do local v = math.random(1, 100) t1[i] = v t2[i] = v end
            stock.sort(t1) table.sort(t2)
            compared = compared + 1
            if table.concat(t1, ",") ~= table.concat(t2, ",") then differences = differences + 1 first = first or "sort" end
            stock.sort(t1, function(a, b) return a > b end) table.sort(t2, function(a, b) return a > b end)
            if table.concat(t1, ",") ~= table.concat(t2, ",") then differences = differences + 1 first = first or "sort with comparator" end
            local m1 = stock.move({1, 2, 3, 4, 5}, 2, 4, 1)
            local m2 = table.move({1, 2, 3, 4, 5}, 2, 4, 1)
            if table.concat(m1, ",") ~= table.concat(m2, ",") then differences = differences + 1 first = first or "move" end
            local m3 = stock.move({1, 2, 3, 4, 5}, 1, 4, 2)
            local m4 = table.move({1, 2, 3, 4, 5}, 1, 4, 2)
            if table.concat(m3, ",") ~= table.concat(m4, ",") then differences = differences + 1 first = first or "move up" end
            """, chunkName: "differential.lua", env: env, budget: 60)
        #expect(lua.field(env, "compared").number ?? 0 >= 160_000)
        #expect(lua.field(env, "differences") == .integer(0), "\(lua.field(env, "first"))")
    }

    @Test("a nested load (require) shortens the caller's deadline but never resets it; the caller is still stopped")
    func nestedDeadline() throws {
        let (lua, env) = try state()
        try lua.load(source: "function attack() local m = host.load('return 1') while true do end end", chunkName: "n.lua", env: env)
        let started = ContinuousClock.now
        #expect(failure(lua.call(env, "attack", [], budget: 0.05))?.kind == .budget)
        // A nested load that reset the deadline would give the caller the nested 5 s budget:
        // stopped in under half of that proves the caller's 50 ms deadline was kept (2.5 s is
        // 50x it, room for a loaded machine).
        #expect(ContinuousClock.now - started < .milliseconds(2500))
    }

    @Test("the memory cap holds after a nested load, and a nested load's own bomb is stopped")
    func nestedMemory() throws {
        let (lua, env) = try state(memory: 8 << 20)
        try lua.load(source: """
            function after() host.load('return 1') local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e4) .. i end end
            function inside() host.load('local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1e4) .. i end') end
            function small() return #string.rep('y', 10) end
            """, chunkName: "m.lua", env: env)
        #expect(failure(lua.call(env, "after", [], budget: 5))?.kind == .memory)
        #expect(failure(lua.call(env, "inside", [], budget: 5))?.kind == .memory)
        guard case let .finished(values) = lua.call(env, "small", []) else {
            Issue.record("the state is broken after the cap")
            return
        }
        #expect(values == [.integer(10)])
    }

    @Test("a pending __close that never returns is bounded by the budget when the host closes the coroutine")
    func closeHandlers() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            function attack()
              local guard <close> = setmetatable({}, { __close = function() while true do end end })
              error('boom')
            end
            """, chunkName: "close.lua", env: env)
        let started = ContinuousClock.now
        #expect(failure(lua.call(env, "attack", [])) != nil)
        // The __close loop never returns: coming back at all proves the budget (50 ms) stopped
        // it; the 5 s ceiling (100x) only keeps a broken budget from hanging the suite long.
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("values crossing the boundary: cycles and depth are errors naming the place; reads are raw")
    func values() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            cyclic = {} cyclic[1] = cyclic cyclic[2] = cyclic
            deep = {} local t = deep for i = 1, 10000 do t.next = {} t = t.next end
            trap = setmetatable({}, { __index = function() while true do end end, __pairs = function() while true do end end })
            function echo_cycle() return host.echo(cyclic) end
            """, chunkName: "v.lua", env: env)
        #expect(throws: LuaValueError.self) { _ = try lua.read(lua.makeReferenceToField(env, "cyclic"), path: "store") }
        do {
            _ = try lua.read(lua.makeReferenceToField(env, "cyclic"), path: "store")
        } catch {
            #expect("\(error)" == "value contains a cycle at store[1]")
        }
        do {
            _ = try lua.read(lua.makeReferenceToField(env, "deep"), path: "store.deep")
            Issue.record("a 10,000-deep table was read")
        } catch {
            #expect("\(error)".hasPrefix("value is nested deeper than 32 levels at store.deep.next.next"))
        }
        #expect(lua.field(env, "trap") == .table([:]))
        #expect(failure(lua.call(env, "echo_cycle", []))?.message.contains("host.echo: argument 1 (v): value contains a cycle at v[1]") == true)
    }

    @Test("waits: only directly in a handler; not in a comparator, a gsub callback, a nested load or a strategy's coroutine")
    func waits() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            function direct() return host.wait() end
            function in_sort() table.sort({3, 2, 1}, function(a, b) host.wait() return a < b end) end
            function in_gsub() string.gsub("abc", "%w", function(c) host.wait() end) end
            function in_load() host.load("host.wait()") end
            function in_coroutine() coroutine.wrap(function() host.wait() end)() end
            function in_pcall() local ok, v = pcall(host.wait) return v end
            """, chunkName: "w.lua", env: env)
        guard case let .suspended(thread) = lua.call(env, "direct", []) else {
            Issue.record("a direct wait did not suspend")
            return
        }
        #expect(lua.resume(thread, with: [.integer(7)]).finishedValues == [.integer(7)])
        guard case let .suspended(again) = lua.call(env, "in_pcall", []) else {
            Issue.record("a wait inside pcall (which can yield) did not suspend")
            return
        }
        #expect(lua.resume(again, with: [.integer(8)]).finishedValues == [.integer(8)])
        for name in ["in_sort", "in_gsub", "in_load", "in_coroutine"] {
            let error = failure(lua.call(env, name, []))
            #expect(error?.message.contains("host.wait waits for TWS, so it can only be called directly in a handler") == true,
                    "\(name): \(String(describing: error))")
        }
    }

    @Test("coroutine.yield at handler level is an error naming the line, and leaves nothing suspended")
    func handlerYield() throws {
        let (lua, env) = try state()
        try lua.load(source: "function h()\n  coroutine.yield(1)\nend\nfunction ok() return 5 end", chunkName: "y.lua", env: env)
        let error = failure(lua.call(env, "h", []))
        #expect(error?.message.hasPrefix("y.lua:2: coroutine.yield at the level of a handler") == true, "\(String(describing: error))")
        #expect(lua.call(env, "ok", []).finishedValues == [.integer(5)])
    }

    @Test("a handler's own coroutine cannot be resumed or closed from Lua")
    func hostCoroutines() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            function first() saved = coroutine.running() return host.wait() end
            function second() return coroutine.resume(saved) end
            function third() return coroutine.close(saved) end
            function mine() local co = coroutine.create(function(x) coroutine.yield(x + 1) end) return select(2, coroutine.resume(co, 1)) end
            """, chunkName: "c.lua", env: env)
        guard case let .suspended(thread) = lua.call(env, "first", []) else {
            Issue.record("did not suspend")
            return
        }
        for name in ["second", "third"] {
            #expect(failure(lua.call(env, name, []))?.message.contains("this is the coroutine of a handler") == true, "\(name)")
        }
        #expect(lua.resume(thread, with: [.integer(1)]).finishedValues == [.integer(1)])
        #expect(lua.call(env, "mine", []).finishedValues == [.integer(2)])
    }

    @Test("the sandbox: no __gc, no string metatable, _G and libraries are each environment's own")
    func sandbox() throws {
        let (lua, first) = try state()
        try lua.load(source: """
            ok_gc, err_gc = pcall(setmetatable, {}, { __gc = function() end })
            string_mt = getmetatable("")
            string.upper = nil
            _G.injected = true
            table.insert = nil
            tables_mt = getmetatable(setmetatable({}, { __metatable = "mine" }))
            """, chunkName: "s1.lua", env: first)
        #expect(lua.field(first, "ok_gc") == .bool(false))
        #expect(lua.field(first, "err_gc").string?.contains("__gc metamethods are not available to strategies") == true)
        #expect(lua.field(first, "string_mt") == .nil)
        #expect(lua.field(first, "tables_mt") == .string("mine"))
        #expect(lua.field(first, "injected") == .bool(true))
        let second = lua.newEnvironment()
        try lua.load(source: "fine = (string.upper('a') == 'A') and (injected == nil) and (table.insert ~= nil) and (('b'):upper() == 'B')",
                     chunkName: "s2.lua", env: second)
        #expect(lua.field(second, "fine") == .bool(true))
    }
}

extension LuaState.Outcome {
    var finishedValues: [LuaValue]? {
        if case let .finished(values) = self { return values }
        return nil
    }
}

extension LuaState {
    /// A registry reference to `env[name]` (tests).
    func makeReferenceToField(_ env: LuaRef, _ name: String) -> LuaRef {
        pushReference(env)
        push(string: name)
        lua_rawget(L, -2)
        let ref = LuaRef(luaL_ref(L, shim_registryindex()))
        shim_pop(L, 1)
        return ref
    }
}
