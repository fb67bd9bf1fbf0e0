import CLua
import CLuaShim

/// One Lua 5.4 state: a strategy's whole world.
///
/// Not thread-safe by design: exactly one thread (the strategy's loop) may touch it
/// (design.md invariant 1). Every entry into Lua is protected; Swift host functions never
/// raise or yield themselves, the C trampoline does it after they return (invariant 2).
public final class LuaState {
    let L: OpaquePointer
    let budget: UnsafeMutablePointer<shim_budget>
    private var functions: [HostFunction] = []
    /// The coroutine running now (a host function called from it may suspend it).
    var running: LuaThread?
    /// Per-run time budget, in seconds (0: none).
    public var timeBudget: Double = 0.05
    /// Registry reference of the base environment (libraries and host API).
    private(set) var baseRef: Int32 = 0

    /// - Parameter memoryLimit: bytes the state may allocate while Lua runs (0: none).
    public init(memoryLimit: Int = 64 << 20) throws {
        budget = .allocate(capacity: 1)
        budget.initialize(to: shim_budget())
        budget.pointee.memory_limit = memoryLimit
        guard let state = shim_newstate(budget) else {
            budget.deallocate()
            throw LuaError(message: "cannot create a Lua state", kind: .memory)
        }
        L = state
        shim_open_safe_libs(L)
    }

    deinit {
        shim_close(L)
        budget.deallocate()
    }

    public var memoryUsed: Int { Int(budget.pointee.memory_used) }
    public var memoryLimit: Int {
        get { Int(budget.pointee.memory_limit) }
        set { budget.pointee.memory_limit = newValue }
    }

    // MARK: Stack helpers (non-raising API only)

    /// Pushes onto `target` (a coroutine) or the main stack.
    public func push(_ value: LuaValue, into target: OpaquePointer?) {
        push(value)
        if let target, target != L { lua_xmove(L, target, 1) }
    }

    public func push(_ value: LuaValue, depth: Int = 0) {
        switch value {
        case .nil: lua_pushnil(L)
        case let .bool(b): lua_pushboolean(L, b ? 1 : 0)
        case let .integer(i): lua_pushinteger(L, lua_Integer(i))
        case let .number(d): lua_pushnumber(L, d)
        case let .string(s): push(string: s)
        case let .table(table):
            lua_createtable(L, 0, Int32(table.count))
            for (key, item) in table {
                switch key {
                case let .string(s): push(string: s)
                case let .integer(i): lua_pushinteger(L, lua_Integer(i))
                case let .number(d): lua_pushnumber(L, d)
                case let .bool(b): lua_pushboolean(L, b ? 1 : 0)
                }
                push(item, depth: depth + 1)
                lua_rawset(L, -3)
            }
        }
    }

    public func push(string: String) {
        var copy = string
        copy.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// Reads the value at `index` (tables deeply, to 32 levels; functions and userdata as nil).
    public func value(at index: Int32, depth: Int = 0) -> LuaValue {
        let index = lua_absindex(L, index)
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if shim_isinteger(L, index) != 0 { return .integer(Int64(lua_tointegerx(L, index, nil))) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(string(at: index) ?? "")
        case LUA_TTABLE:
            guard depth < 32 else { return .nil }
            var table: [LuaKey: LuaValue] = [:]
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let key: LuaKey?
                switch lua_type(L, -2) {
                case LUA_TSTRING: key = .string(string(at: -2) ?? "")
                case LUA_TNUMBER:
                    key = shim_isinteger(L, -2) != 0 ? .integer(Int64(lua_tointegerx(L, -2, nil))) : .number(lua_tonumberx(L, -2, nil))
                case LUA_TBOOLEAN: key = .bool(lua_toboolean(L, -2) != 0)
                default: key = nil
                }
                if let key { table[key] = value(at: -1, depth: depth + 1) }
                shim_pop(L, 1)
            }
            return .table(table)
        default:
            return .nil
        }
    }

    /// The string at `index` without converting numbers in place (lua_next-safe).
    func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = shim_tostring(L, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    var top: Int32 { lua_gettop(L) }
    func pop(_ count: Int32) { shim_pop(L, count) }

    // MARK: Host functions

    /// Makes `body` callable from Lua as `table.name` in the base environment.
    public func register(table: String?, name: String, _ body: @escaping (LuaCall) throws -> LuaCall.Result) {
        let function = HostFunction(state: self, qualifiedName: table.map { "\($0).\(name)" } ?? name, body: body)
        functions.append(function)
        pushBase()
        if let table {
            lua_getfield(L, -1, table)
            if lua_type(L, -1) != LUA_TTABLE {
                shim_pop(L, 1)
                shim_newtable(L)
                lua_pushvalue(L, -1)
                lua_setfield(L, -3, table)
            }
            shim_push_hostfn(L, hostEntry, Unmanaged.passUnretained(function).toOpaque())
            lua_setfield(L, -2, name)
            shim_pop(L, 2)
        } else {
            shim_push_hostfn(L, hostEntry, Unmanaged.passUnretained(function).toOpaque())
            lua_setfield(L, -2, name)
            shim_pop(L, 1)
        }
    }

    /// Sets `base[name] = value`.
    public func setBase(_ name: String, _ value: LuaValue) {
        pushBase()
        push(value)
        lua_setfield(L, -2, name)
        shim_pop(L, 1)
    }

    /// Removes what a strategy must not reach, and freezes the base as the fallback of every
    /// strategy environment.
    public func sandbox() {
        lua_rawgeti(L, shim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for name in ["dofile", "loadfile", "load", "require", "collectgarbage", "print", "rawset", "setmetatable", "getmetatable"] {
            // setmetatable/getmetatable come back below in safe forms; rawset on the base is refused by freezing.
            if name == "setmetatable" || name == "getmetatable" || name == "rawset" { continue }
            lua_pushnil(L)
            lua_setfield(L, -2, name)
        }
        lua_getfield(L, -1, "string")
        lua_pushnil(L)
        lua_setfield(L, -2, "dump")
        shim_pop(L, 1)
        baseRef = luaL_ref(L, shim_registryindex())
    }

    func pushBase() {
        if baseRef == 0 {
            lua_rawgeti(L, shim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        } else {
            lua_rawgeti(L, shim_registryindex(), lua_Integer(baseRef))
        }
    }

    // MARK: Environments, loading, running

    /// A new environment table whose missing keys fall back to the base. Returns its ref.
    public func newEnvironment() -> LuaRef {
        shim_newtable(L)
        pushBase()
        shim_set_readonly_fallback(L, -2, -1)
        shim_pop(L, 1)
        return LuaRef(luaL_ref(L, shim_registryindex()))
    }

    public func release(_ ref: LuaRef) {
        luaL_unref(L, shim_registryindex(), ref.value)
    }

    /// Pushes the value a registry reference holds.
    private func pushReference(_ ref: LuaRef) {
        lua_rawgeti(L, shim_registryindex(), lua_Integer(ref.value))
    }

    /// Reads `env[name]`.
    public func field(_ env: LuaRef, _ name: String) -> LuaValue {
        pushReference(env)
        lua_getfield(L, -1, name)
        let result = value(at: -1)
        shim_pop(L, 2)
        return result
    }

    /// Sets `env[name] = value` (raw).
    public func setField(_ env: LuaRef, _ name: String, _ value: LuaValue) {
        pushReference(env)
        push(string: name)
        push(value)
        lua_rawset(L, -3)
        shim_pop(L, 1)
    }

    /// Keeps `value` in the registry (a table shared by several environments, like `store`).
    public func makeReference(_ value: LuaValue) -> LuaRef {
        push(value)
        return LuaRef(luaL_ref(L, shim_registryindex()))
    }

    /// The current value held by a reference.
    public func value(of ref: LuaRef) -> LuaValue {
        pushReference(ref)
        let result = value(at: -1)
        shim_pop(L, 1)
        return result
    }

    /// Sets `env[name]` to the value held by `ref` (the same table, not a copy).
    public func setField(_ env: LuaRef, _ name: String, reference ref: LuaRef) {
        pushReference(env)
        push(string: name)
        pushReference(ref)
        lua_rawset(L, -3)
        shim_pop(L, 1)
    }

    /// The names of the functions a chunk defined in `env`.
    public func functionNames(_ env: LuaRef) -> [String] {
        var names: [String] = []
        pushReference(env)
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -1) == LUA_TFUNCTION, let name = string(at: -2) { names.append(name) }
            shim_pop(L, 1)
        }
        shim_pop(L, 1)
        return names.sorted()
    }

    /// Compiles `source` (text only, never binary) with `env` as its `_ENV`, then runs its
    /// top level under the time budget. Syntax and runtime errors come back with file:line.
    public func load(source: String, chunkName: String, env: LuaRef, budget seconds: Double? = nil) throws {
        var text = source
        let status = text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { shim_load_text(L, $0.baseAddress, $0.count, "@" + chunkName) }
        }
        guard status == LUA_OK else {
            let message = string(at: -1) ?? "syntax error"
            shim_pop(L, 1)
            throw LuaError(message: message, kind: status == LUA_ERRMEM ? .memory : .syntax)
        }
        pushReference(env)
        _ = lua_setupvalue(L, -2, 1)
        let outcome = run(arguments: 0, budget: seconds ?? timeBudget)
        if case let .failed(error) = outcome { throw error }
        if case .suspended(let thread) = outcome {
            cancel(thread)
            throw LuaError(message: "\(chunkName): the top level of a strategy cannot wait (call market.history from a handler)")
        }
    }

    /// What running Lua code came to.
    public enum Outcome {
        case finished([LuaValue])
        /// Waiting in a host call; resume it with `resume(thread:)`.
        case suspended(LuaThread)
        case failed(LuaError)
    }

    /// Pushes `env[name]` when it is a function; pushes nothing and returns false otherwise.
    func pushFunction(_ env: LuaRef, _ name: String) -> Bool {
        pushReference(env)
        push(string: name)
        lua_rawget(L, -2)
        lua_rotate(L, -2, 1)
        shim_pop(L, 1)
        guard lua_type(L, -1) == LUA_TFUNCTION else {
            shim_pop(L, 1)
            return false
        }
        return true
    }

    /// Calls `env[name](args...)` in a coroutine, under the time budget (a missing handler is
    /// a no-op).
    public func call(_ env: LuaRef, _ name: String, _ arguments: [LuaValue], budget seconds: Double? = nil) -> Outcome {
        guard pushFunction(env, name) else { return .finished([]) }
        for argument in arguments { push(argument) }
        return run(arguments: Int32(arguments.count), budget: seconds ?? timeBudget)
    }

    /// Calls `env[name]` with the values held by `references` (the same tables, not copies).
    public func call(_ env: LuaRef, _ name: String, references: [LuaRef], budget seconds: Double? = nil) -> Outcome {
        guard pushFunction(env, name) else { return .finished([]) }
        for ref in references { pushReference(ref) }
        return run(arguments: Int32(references.count), budget: seconds ?? timeBudget)
    }

    /// Calls the function held by `ref` (a timer callback) with `arguments`.
    public func call(function ref: LuaRef, _ arguments: [LuaValue], budget seconds: Double? = nil) -> Outcome {
        pushReference(ref)
        guard lua_type(L, -1) == LUA_TFUNCTION else {
            shim_pop(L, 1)
            return .finished([])
        }
        for argument in arguments { push(argument) }
        return run(arguments: Int32(arguments.count), budget: seconds ?? timeBudget)
    }

    /// The function on top of the stack (with `arguments` values above it) runs in a fresh
    /// coroutine so that host calls inside it may suspend it.
    func run(arguments: Int32, budget seconds: Double) -> Outcome {
        // A coroutine that finished is reused for the next call (creating one per call costs
        // more than the call); one that waits keeps its own and the next call gets a new one.
        let thread: LuaThread
        if let idle = idleThread {
            idleThread = nil
            thread = idle
        } else {
            guard let state = lua_newthread(L) else { return .failed(LuaError(message: "out of memory", kind: .memory)) }
            let ref = luaL_ref(L, shim_registryindex())  // keeps the coroutine alive while it waits
            thread = LuaThread(ref: ref, L: state)
        }
        lua_xmove(L, thread.L, arguments + 1)
        return resume(thread, arguments: arguments, budget: seconds)
    }

    /// A finished coroutine kept for the next call.
    private var idleThread: LuaThread?

    /// Resumes a suspended coroutine with `values` as the results of the host call it waits in.
    public func resume(_ thread: LuaThread, with values: [LuaValue], budget seconds: Double? = nil) -> Outcome {
        for value in values { push(value) }
        lua_xmove(L, thread.L, Int32(values.count))
        return resume(thread, arguments: Int32(values.count), budget: seconds ?? timeBudget)
    }

    private func resume(_ thread: LuaThread, arguments: Int32, budget seconds: Double) -> Outcome {
        shim_arm_budget(thread.L, budget, Int64(seconds * 1e9))
        var results: Int32 = 0
        let outer = running
        running = thread
        let status = shim_resume(thread.L, L, arguments, &results, budget)
        running = outer
        let expired = budget.pointee.expired != 0
        shim_disarm_budget(thread.L, budget)
        switch status {
        case LUA_OK:
            var values: [LuaValue] = []
            for index in 0..<results { values.append(value(in: thread.L, at: -results + index)) }
            lua_settop(thread.L, 0)
            if idleThread == nil {
                idleThread = thread
            } else {
                luaL_unref(L, shim_registryindex(), thread.ref)
            }
            return .finished(values)
        case LUA_YIELD:
            lua_settop(thread.L, 0)
            return .suspended(thread)
        default:
            let message = stringIn(thread.L, at: -1) ?? "error object is not a string"
            shim_traceback(L, thread.L, nil)
            let traceback = string(at: -1) ?? ""
            shim_pop(L, 1)
            _ = shim_resetthread(thread.L, L)
            luaL_unref(L, shim_registryindex(), thread.ref)
            let kind: LuaError.Kind = status == LUA_ERRMEM ? .memory : (expired ? .budget : .runtime)
            let text = status == LUA_ERRMEM ? "memory limit of \(memoryLimit >> 20) MiB reached: the handler was stopped" : message
            return .failed(LuaError(message: text, traceback: traceback, kind: kind))
        }
    }

    /// Abandons a suspended coroutine (its reply will be dropped).
    public func cancel(_ thread: LuaThread) {
        _ = shim_resetthread(thread.L, L)
        luaL_unref(L, shim_registryindex(), thread.ref)
    }

    /// Keeps the function at `index` of `L`'s stack (a timer callback); release it with `release`.
    func reference(functionAt index: Int32, in state: OpaquePointer) -> LuaRef {
        lua_pushvalue(state, index)
        if state != L { lua_xmove(state, L, 1) }
        return LuaRef(luaL_ref(L, shim_registryindex()))
    }

    func value(in state: OpaquePointer, at index: Int32) -> LuaValue {
        lua_pushvalue(state, index)
        if state != L { lua_xmove(state, L, 1) }
        let result = value(at: -1)
        shim_pop(L, 1)
        return result
    }

    func stringIn(_ state: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard let pointer = shim_tostring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// KiB in use by the collector (collectgarbage("count")).
    public var collectorKilobytes: Int { Int(shim_gc_count_kb(L)) }
}

/// A registry reference: keeps a Lua value alive and findable.
public struct LuaRef: Hashable, Sendable {
    public let value: Int32
    init(_ value: Int32) { self.value = value }
    /// No value (LUA_NOREF-like); never dereferenced.
    public static let none = LuaRef(0)
}

/// A suspended coroutine.
public struct LuaThread: Hashable, @unchecked Sendable {
    let ref: Int32
    let L: OpaquePointer
}

/// A Swift function Lua can call; reached through the C trampoline.
final class HostFunction {
    unowned let state: LuaState
    let qualifiedName: String
    let body: (LuaCall) throws -> LuaCall.Result

    init(state: LuaState, qualifiedName: String, body: @escaping (LuaCall) throws -> LuaCall.Result) {
        self.state = state
        self.qualifiedName = qualifiedName
        self.body = body
    }
}

/// The C entry of every host function: runs the Swift body, which never raises itself.
private let hostEntry: shim_hostfn = { L, context in
    guard let L, let context else { return 0 }
    let function = Unmanaged<HostFunction>.fromOpaque(context).takeUnretainedValue()
    let call = LuaCall(state: function.state, L: L, name: function.qualifiedName)
    let result: LuaCall.Result
    do {
        result = try function.body(call)
    } catch let error as LuaArgumentError {
        result = .error(error.message)
    } catch {
        result = .error("\(function.qualifiedName): \(error)")
    }
    switch result {
    case let .values(values):
        for value in values { call.push(value) }
        return Int32(values.count)
    case .pushed(let count):
        return Int32(count)
    case let .error(message):
        // Prefix file:line of the Lua caller, as luaL_error would.
        luaL_where(L, 1)
        let position = function.state.stringIn(L, at: -1) ?? ""
        shim_pop(L, 1)
        call.push(.string(position + message))
        return SHIM_RAISE
    case .yield:
        return SHIM_YIELD
    }
}
