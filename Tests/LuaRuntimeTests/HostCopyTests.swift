import Foundation
import Testing
@testable import LuaRuntime

/// What the host copies out of Lua counts: a value read from Lua (`store`, an options table,
/// an extension's argument) is measured as it is expanded (a table or string referenced N
/// times costs N copies, as the copy really does) and refused past the memory cap; the
/// number of entries one read visits is bounded so a DAG cannot cost seconds; the journaled
/// form of `store` is bounded likewise. And `table.insert` / `table.remove`, whose loops
/// follow `__len`, are bounded by the time budget and agree with Lua's own.
@Suite("Lua host: copies count against the cap; table.insert/remove budgeted", .serialized)
struct HostCopyTests {
    func state(memory: Int = 8 << 20) throws -> (LuaState, LuaRef) {
        let lua = try LuaState(memoryLimit: memory)
        lua.register(table: "host", name: "echo") { call in .values([try call.value(1, "v")]) }
        // A reply larger than the cap (the host may push what it likes).
        lua.register(table: "host", name: "big") { _ in .values([.string(String(repeating: "z", count: 20 << 20))]) }
        lua.timeBudget = 0.05
        lua.sandbox()
        return (lua, lua.newEnvironment())
    }

    @Test("100 references to one 1 MB string (1 MB in Lua) are a 100 MB copy: refused at the 8 MiB cap, naming the place")
    func sharedReferences() throws {
        let (lua, env) = try state()
        try lua.load(source: """
            local s = string.rep("x", 1e6)
            shared = {} for i = 1, 100 do shared[i] = s end
            nested = { inner = shared }
            function echo_shared() return host.echo(nested) end
            """, chunkName: "shared.lua", env: env)
        #expect(lua.memoryUsed < 4 << 20, "the Lua side holds one string")
        do {
            let value = try lua.read(lua.makeReferenceToField(env, "shared"), path: "store.x")
            Issue.record("a 100 MB copy was made: \(value == .nil)")
        } catch {
            #expect("\(error)".hasPrefix("value larger than the memory cap (8 MiB) at store.x["), "\(error)")
        }
        let message = failure(lua.call(env, "echo_shared", []))?.message ?? "no error"
        #expect(message.contains("host.echo: argument 1 (v): value larger than the memory cap (8 MiB) at v.inner["), "\(message)")
        // Under the cap, the same shape is read whole.
        try lua.load(source: "small = {} local s = string.rep('y', 1000) for i = 1, 100 do small[i] = s end", chunkName: "small.lua", env: env)
        guard case let .table(small) = try lua.read(lua.makeReferenceToField(env, "small"), path: "store") else {
            Issue.record("not a table")
            return
        }
        #expect(small.count == 100)
    }

    @Test("a handler that fails while over the cap (a host reply took it there) is an error, not a panic of the process")
    func failingOverTheCap() throws {
        let (lua, env) = try state()
        try lua.load(source: "function attack() keep = host.big() end", chunkName: "over.lua", env: env)
        let error = failure(lua.call(env, "attack", []))
        #expect(error?.kind == .memory, "\(String(describing: error))")
    }

    @Test("a DAG of 19 small tables (2^19 entries expanded) is refused at once, naming the place")
    func dag() throws {
        let (lua, env) = try state(memory: 64 << 20)
        try lua.load(source: "dag = { leaf = true } for i = 1, 18 do dag = { a = dag, b = dag } end", chunkName: "dag.lua", env: env)
        // Bounded by the count of entries visited (the error says the limit was reached), not
        // by a time a loaded machine may miss.
        do {
            _ = try lua.read(lua.makeReferenceToField(env, "dag"), path: "store.dag")
            Issue.record("a DAG of 2^19 entries was read")
        } catch {
            #expect("\(error)".hasPrefix("value has more than \(LuaState.maximumEntries) table entries"), "\(error)")
            #expect("\(error)".contains("at store.dag."), "\(error)")
        }
    }

    @Test("a store within the cap whose journaled form would not be is refused before it is encoded")
    func journaledSize() throws {
        // Control characters take 6 bytes each in JSON: 2 MB of them in a 4 MiB cap.
        let controls = LuaValue.table([.string("x"): .string(String(repeating: "\u{1}", count: 2_000_000))])
        #expect(throws: LuaValueError.self) { try controls.journaled(limit: 4 << 20, path: "store") }
        do {
            _ = try controls.journaled(limit: 4 << 20, path: "store")
        } catch {
            #expect("\(error)" == "value larger than the memory cap (4 MiB) once journaled, at store.x", "\(error)")
        }
        let fine = LuaValue.table([
            .string("x"): .string("a\u{1}\"/\\é\n\t\u{7f}"), .integer(1): .number(0.5), .bool(true): .table([:]), .bool(false): .nil,
            .integer(.min): .integer(.max), .number(-0.0): .number(.leastNonzeroMagnitude), .number(1e300): .number(.greatestFiniteMagnitude),
            .integer(2): .number(.infinity), .integer(3): .number(-.infinity), .string(""): .number(1e-7),
        ])
        let data = try fine.journaled(limit: 4 << 20, path: "store")
        #expect(try JSONDecoder().decode(LuaValue.self, from: data) == fine)
        #expect(try fine.journaled(limit: 4 << 20, path: "store") == data, "the same value gives the same bytes")
        // NaN (no JSON number) is kept too; the decoder reads what JSONEncoder wrote before.
        let nan = try JSONDecoder().decode(LuaValue.self, from: try LuaValue.number(.nan).journaled(limit: 0, path: "store"))
        #expect(nan.number?.isNaN == true)
        #expect(try JSONDecoder().decode(LuaValue.self, from: try JSONEncoder().encode(LuaValue.table([.integer(1): "a"]))) == .table([.integer(1): "a"]))
    }

    @Test("table.insert and table.remove on a table whose __len is huge are stopped by the budget",
          arguments: [
            "table.insert(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1, 'x')",
            "table.remove(setmetatable({}, { __len = function() return math.maxinteger end }), 1)",
            "table.insert(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 2, 'x')",
          ])
    func lengthLoops(_ body: String) throws {
        let (lua, env) = try state(memory: 64 << 20)
        try lua.load(source: "function attack() \(body) end", chunkName: "len.lua", env: env)
        let started = ContinuousClock.now
        let error = failure(lua.call(env, "attack", [], budget: 0.05))
        #expect(error?.kind == .budget, "\(body): \(String(describing: error))")
        // Unbudgeted, the loop runs about 2^63 times: a ceiling this generous still tells.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("the budgeted table.insert and table.remove agree with Lua's own (results, tables, errors)")
    func insertRemoveAgreeWithStock() throws {
        let lua = try LuaState(memoryLimit: 64 << 20, keepingStockFunctionsIn: "stock")
        lua.sandbox()
        let env = lua.newEnvironment()
        try lua.load(source: """
            local function show(ok, ...)
              local parts = { tostring(ok) }
              for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
              -- A C function's name in "bad argument #2 to 'insert'" comes from where it is found
              -- (ours is in the loaded libraries, Lua's own in `stock` only): not compared.
              return (table.concat(parts, ","):gsub("to '[%w%.%?]+'", "to 'f'"))
            end
            local function dump(t)
              local keys = {}
              for k in pairs(t) do keys[#keys + 1] = k end
              table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
              local parts = {}
              for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(t[k]) end
              return table.concat(parts, " ")
            end
            local function proxy(n)
              local store = {}
              for i = 1, n do store[i] = i * 10 end
              return setmetatable({}, { __index = store, __newindex = store, __len = function() return n end }), store
            end
            local positions = { -1, 0, 1, 2, 3, 4, 5, 6, 7, math.maxinteger, math.mininteger, 2.0, 2.5, "2", "x" }
            math.randomseed(20261128)
            compared, differences, first = 0, 0, nil
            local function compare(what, a, b)
              compared = compared + 1
              if a ~= b then differences = differences + 1 first = first or (what .. "\\n  stock: " .. a .. "\\n  ours:  " .. b) end
            end
            for n = 0, 5 do
              for _, pos in ipairs(positions) do
                local arguments = { {pos, "v"}, {pos}, {}, {pos, "v", "extra"}, {pos, nil} }
                for _, args in ipairs(arguments) do
                  local count = select("#", table.unpack(args))
                  for _, name in ipairs({ "insert", "remove" }) do
                    local t1, t2 = {}, {}
                    for i = 1, n do t1[i] = i t2[i] = i end
                    local r1 = show(pcall(stock[name], t1, table.unpack(args, 1, count)))
                    local r2 = show(pcall(table[name], t2, table.unpack(args, 1, count)))
                    compare(name .. " n=" .. n .. " args=" .. tostring(pos) .. "/" .. count, r1 .. " | " .. dump(t1), r2 .. " | " .. dump(t2))
                    local p1, s1 = proxy(n)
                    local p2, s2 = proxy(n)
                    r1 = show(pcall(stock[name], p1, table.unpack(args, 1, count)))
                    r2 = show(pcall(table[name], p2, table.unpack(args, 1, count)))
                    compare(name .. " proxy n=" .. n .. " args=" .. tostring(pos) .. "/" .. count, r1 .. " | " .. dump(s1), r2 .. " | " .. dump(s2))
                  end
                end
              end
            end
            for _, bad in ipairs({ 1, "s", true }) do
              compare("insert into " .. tostring(bad), show(pcall(stock.insert, bad, 1)), show(pcall(table.insert, bad, 1)))
              compare("remove from " .. tostring(bad), show(pcall(stock.remove, bad)), show(pcall(table.remove, bad)))
            end
            compare("insert, no arguments", show(pcall(stock.insert)), show(pcall(table.insert)))
            compare("remove, no arguments", show(pcall(stock.remove)), show(pcall(table.remove)))
            -- Random sequences of inserts and removes on two copies.
            local a, b = {}, {}
            for i = 1, 5000 do
              local n = #a
              if math.random() < 0.55 then
                local pos, v = math.random(1, n + 1), math.random(1000)
                stock.insert(a, pos, v) table.insert(b, pos, v)
              elseif math.random() < 0.5 then
                stock.insert(a, i) table.insert(b, i)
              else
                local pos = math.random(1, n + 1)
                compare("remove " .. pos, tostring(stock.remove(a, pos)), tostring(table.remove(b, pos)))
              end
            end
            compare("after 5000 random steps", table.concat(a, ","), table.concat(b, ","))
            """, chunkName: "differential.lua", env: env, budget: 60)
        #expect(lua.field(env, "compared").number ?? 0 >= 1_000)
        #expect(lua.field(env, "differences") == .integer(0), "\(lua.field(env, "first"))")
    }
}
