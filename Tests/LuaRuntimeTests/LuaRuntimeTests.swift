import Testing
@testable import LuaRuntime

final class Tracked {
    nonisolated(unsafe) static var live = 0
    init() { Tracked.live += 1 }
    deinit { Tracked.live -= 1 }
}

@Suite("Lua runtime: sandbox, budgets, errors, coroutines", .serialized)
struct LuaRuntimeTests {
    func sandboxed(memory: Int = 16 << 20) throws -> (LuaState, LuaRef) {
        let lua = try LuaState(memoryLimit: memory)
        lua.register(table: "host", name: "echo") { call in .values([try call.value(1)]) }
        lua.register(table: "host", name: "fail") { _ in
            let object = Tracked()
            _ = object
            return .error("host.fail: it failed on purpose")
        }
        lua.register(table: "host", name: "number") { call in .values([.number(try call.number(1, "x") * 2)]) }
        lua.register(table: "host", name: "wait") { _ in .yield }
        lua.sandbox()
        return (lua, lua.newEnvironment())
    }

    @Test("escapes are refused: io, os, package, debug, dofile, loadfile, load, require, string.dump")
    func sandbox() throws {
        let (lua, env) = try sandboxed()
        try lua.load(source: """
            results = {}
            for _, name in ipairs({"io", "os", "package", "debug", "dofile", "loadfile", "load", "require", "print", "collectgarbage"}) do
              results[name] = (_ENV[name] == nil)
            end
            results.dump = (string.dump == nil)
            results.base = (math.floor(2.5) == 2 and string.upper("a") == "A" and utf8.char(65) == "A" and coroutine.running() ~= nil)
            """, chunkName: "sandbox.lua", env: env)
        guard case let .table(results) = lua.field(env, "results") else {
            Issue.record("no results")
            return
        }
        for (key, value) in results { #expect(value == .bool(true), "\(key)") }
        #expect(results.count == 12)
    }

    @Test("each environment is its own: globals do not leak between them; the base cannot be changed through them")
    func environments() throws {
        let (lua, first) = try sandboxed()
        let second = lua.newEnvironment()
        try lua.load(source: "x = 1; math = nil", chunkName: "a.lua", env: first)
        try lua.load(source: "y = (x == nil) and (math ~= nil)", chunkName: "b.lua", env: second)
        #expect(lua.field(second, "y") == .bool(true))
        #expect(throws: LuaError.self) { try lua.load(source: "setmetatable(_ENV, nil)", chunkName: "c.lua", env: second) }
    }

    @Test("syntax and runtime errors name file:line and carry a traceback")
    func errors() throws {
        let (lua, env) = try sandboxed()
        #expect {
            try lua.load(source: "function f(\n  x = = 1\nend", chunkName: "bad.lua", env: env)
        } throws: { error in
            let error = error as! LuaError
            return error.kind == .syntax && error.message.hasPrefix("bad.lua:2:")
        }
        try lua.load(source: "function on_quote(q)\n  local t = nil\n  return t.x\nend", chunkName: "s.lua", env: env)
        guard case let .failed(error) = lua.call(env, "on_quote", [.nil]) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.message.hasPrefix("s.lua:3:"))
        #expect(error.traceback.contains("s.lua:3"), "\(error.traceback)")
    }

    @Test("a host function's error raises in Lua without unwinding Swift (no leaked Swift object)")
    func hostErrors() throws {
        let (lua, env) = try sandboxed()
        let before = Tracked.live
        try lua.load(source: "ok, err = pcall(function() host.fail() end)\nfunction g() host.fail() end", chunkName: "h.lua", env: env)
        #expect(lua.field(env, "ok") == .bool(false))
        #expect(lua.field(env, "err").string?.contains("h.lua:1: host.fail: it failed on purpose") == true)
        guard case let .failed(error) = lua.call(env, "g", []) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.message == "h.lua:2: host.fail: it failed on purpose")
        #expect(Tracked.live == before)
    }

    @Test("wrong argument types raise an error naming the call and the argument")
    func argumentErrors() throws {
        let (lua, env) = try sandboxed()
        try lua.load(source: "ok, err = pcall(function() return host.number('ten') end)", chunkName: "a.lua", env: env)
        #expect(lua.field(env, "err").string == "a.lua:1: host.number: argument 1 (x) must be a number, got string")
    }

    @Test("while true do end is stopped by the budget, even under pcall, and the state keeps working")
    func budget() throws {
        let (lua, env) = try sandboxed()
        lua.timeBudget = 0.05
        try lua.load(source: """
            function spin() while true do end end
            function sneaky() while true do pcall(function() while true do end end) end end
            function fine(x) return x + 1 end
            """, chunkName: "loop.lua", env: env)
        for name in ["spin", "sneaky"] {
            guard case let .failed(error) = lua.call(env, name, []) else {
                Issue.record("\(name) was not stopped")
                continue
            }
            #expect(error.kind == .budget)
            #expect(error.message.contains("time budget exceeded"))
        }
        guard case let .finished(values) = lua.call(env, "fine", [.integer(41)]) else {
            Issue.record("the state is broken after a budget stop")
            return
        }
        #expect(values == [.integer(42)])
    }

    @Test("a memory bomb is stopped at the cap and the state keeps working")
    func memory() throws {
        let (lua, env) = try sandboxed(memory: 8 << 20)
        try lua.load(source: """
            function bomb() local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end end
            function small() return #string.rep("y", 10) end
            """, chunkName: "bomb.lua", env: env)
        guard case let .failed(error) = lua.call(env, "bomb", [], budget: 10) else {
            Issue.record("the bomb was not stopped")
            return
        }
        #expect(error.kind == .memory)
        guard case let .finished(values) = lua.call(env, "small", []) else {
            Issue.record("the state is broken after the memory cap")
            return
        }
        #expect(values == [.integer(10)])
    }

    @Test("a host call can suspend the coroutine; resuming delivers the reply")
    func coroutines() throws {
        let (lua, env) = try sandboxed()
        try lua.load(source: "function handler(x)\n  local reply = host.wait()\n  return x + reply.value\nend", chunkName: "w.lua", env: env)
        guard case let .suspended(thread) = lua.call(env, "handler", [.integer(1)]) else {
            Issue.record("did not suspend")
            return
        }
        guard case let .finished(values) = lua.resume(thread, with: [.record(["value": .integer(41)])]) else {
            Issue.record("did not finish")
            return
        }
        #expect(values == [.integer(42)])
    }

    @Test("values cross both ways: nested tables, integers, floats, booleans, strings")
    func values() throws {
        let (lua, env) = try sandboxed()
        let value: LuaValue = .record(["a": .integer(1), "b": .number(2.5), "c": .string("é"), "d": .bool(true),
                                       "e": .array([.integer(1), .record(["x": .string("y")])])])
        try lua.load(source: "function id(v) return host.echo(v) end", chunkName: "v.lua", env: env)
        guard case let .finished(values) = lua.call(env, "id", [value]) else {
            Issue.record("no result")
            return
        }
        #expect(values == [value])
    }
}
