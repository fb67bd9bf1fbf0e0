import CLua
import CLuaShim

/// One Lua 5.4 state: a strategy's whole world.
///
/// Not thread-safe by design: exactly one thread (the strategy's loop) may touch it
/// (design.md invariant 1). Every entry into Lua is protected; Swift host functions never
/// raise or yield themselves, the C trampoline does it after they return (invariant 2).
/// Every run has a budget frame: a deadline that a nested run (a `require` inside a
/// handler) can shorten but never extend or reset, and the memory cap, which is off
/// while a Swift host function runs and back when it returns.
public final class LuaState {
    let L: OpaquePointer
    let budget: OpaquePointer
    private var functions: [HostFunction] = []
    /// The coroutine running now (a host function called from it may suspend it).
    var running: LuaThread?
    /// Set by a host function that asked to suspend its coroutine (a wait); a yield
    /// without it is the script's own `coroutine.yield` at handler level.
    var waitRequested = false
    /// Each `LuaRecordShape`'s interned names in this state (the shapes are shared by every
    /// state; the last one used is looked up first: events come in runs of one kind). Each
    /// shape is held, so its identifier is never another's.
    var shapeKeys: [ObjectIdentifier: (shape: LuaRecordShape, keys: LuaRef)] = [:]
    var lastShapeKeys: (shape: ObjectIdentifier, keys: LuaRef)?
    /// Per-run time budget, in seconds (0: none).
    public var timeBudget: Double = 0.05
    /// Registry reference of the base environment (libraries and host API).
    private(set) var baseRef: Int32 = 0

    /// - Parameter memoryLimit: bytes the state may allocate while Lua runs (0: none).
    public convenience init(memoryLimit: Int = 64 << 20) throws {
        try self.init(memoryLimit: memoryLimit, keepingStockFunctionsIn: nil)
    }

    /// `keepingStockFunctionsIn`: tests only, a global table that keeps Lua's own string
    /// and table functions, to check the budgeted ones against them.
    init(memoryLimit: Int, keepingStockFunctionsIn stockName: String?) throws {
        guard let budget = shim_budget_new(memoryLimit) else {
            throw LuaError(message: "cannot create a Lua state", kind: .memory)
        }
        self.budget = budget
        guard let state = shim_newstate(budget) else {
            shim_budget_free(budget)
            throw LuaError(message: "cannot create a Lua state", kind: .memory)
        }
        L = state
        shim_open_safe_libs(L)
        if let stockName {
            shim_newtable(L)
            for (library, names) in [("string", ["find", "match", "gmatch", "gsub", "rep"]), ("table", ["move", "sort", "insert", "remove"])] {
                lua_getglobal(L, library)
                for name in names {
                    lua_getfield(L, -1, name)
                    lua_setfield(L, -3, name)
                }
                shim_pop(L, 1)
            }
            lua_setglobal(L, stockName)
        }
        shim_harden_libs(L)
    }

    deinit {
        shim_close(L)
        shim_budget_free(budget)
    }

    public var memoryUsed: Int { Int(shim_budget_memory_used(budget)) }
    public var memoryLimit: Int {
        get { Int(shim_budget_memory_limit(budget)) }
        set { shim_budget_set_memory_limit(budget, newValue) }
    }

    /// Any thread (it reads only atomics): how long the outermost run in progress has been running (nil when idle).
    /// The watchdog reads it; nothing else in the state is read off its thread.
    public var runningFor: Double? {
        let since = shim_budget_running_since(budget)
        guard since > 0 else { return nil }
        return Double(shim_now_ns() - since) / 1e9
    }

    /// What the host is running, as a number it chose (set on the state's thread, read by a
    /// watchdog on any other: an atomic, not a lock, as it is set before every handler).
    public var label: Int64 {
        get { shim_budget_label(budget) }
        set { shim_budget_set_label(budget, newValue) }
    }

    /// The clock of the budgets (CLOCK_MONOTONIC), in ns: a caller that times a run passes
    /// its start (`startedAt`), so the deadline and the timing share one clock read.
    public static var monotonicNanoseconds: Int64 { shim_now_ns() }

    /// Any thread: the last `file:line` the budget hook saw.
    public var lastPosition: String {
        var buffer = [CChar](repeating: 0, count: 80)
        let line = shim_budget_where(budget, &buffer, buffer.count)
        let source = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return line > 0 ? "\(source):\(line)" : "an unknown line"
    }

    var top: Int32 { lua_gettop(L) }
    func pop(_ count: Int32) { shim_pop(L, count) }

    // MARK: Host functions

    /// Makes `body` callable from Lua as `table.name` (or the global `name`) in the base.
    public func register(table: String?, name: String, _ body: @escaping (LuaCall) throws -> LuaCall.Result) {
        let function = HostFunction(state: self, qualifiedName: table.map { "\($0).\(name)" } ?? name, body: body)
        functions.append(function)
        setInBase(table: table, name: name) {
            shim_push_hostfn(L, hostEntry, Unmanaged.passUnretained(function).toOpaque())
        }
    }

    /// Tests only: `table.name(seconds)` spins in C for that long without returning to the
    /// VM, so no hook can stop it (stands for a C function the host could not bound).
    public func registerTestBlocker(table: String, name: String) {
        setInBase(table: table, name: name) { lua_pushcclosure(L, shim_test_block_in_c, 0) }
    }

    /// Sets `base[table][name]` (the table made when missing), or `base[name]`, to what `push` pushes.
    private func setInBase(table: String?, name: String, _ push: () -> Void) {
        pushBase()
        if let table {
            lua_getfield(L, -1, table)
            if lua_type(L, -1) != LUA_TTABLE {
                shim_pop(L, 1)
                shim_newtable(L)
                lua_pushvalue(L, -1)
                lua_setfield(L, -3, table)
            }
        }
        push()
        lua_setfield(L, -2, name)
        shim_pop(L, table == nil ? 1 : 2)
    }

    /// Sets `base[name] = value`.
    public func setBase(_ name: String, _ value: LuaValue) {
        pushBase()
        push(value)
        lua_setfield(L, -2, name)
        shim_pop(L, 1)
    }

    /// Compiles `source` in the base itself (host-side helpers written in Lua, before
    /// `sandbox()`): its globals become part of the base every environment falls back to.
    public func defineInBase(_ source: String, chunkName: String) throws {
        try compile(source, chunkName: chunkName, in: L)
        pushBase()
        _ = lua_setupvalue(L, -2, 1)
        var frame = shim_budget_frame()
        shim_budget_enter(L, budget, 0, &frame)
        let status = shim_pcall_traceback(L, 0, 0)
        shim_budget_leave(L, budget, &frame)
        guard status == LUA_OK else {
            let message = string(at: -1) ?? "error"
            shim_pop(L, 1)
            throw LuaError(message: message)
        }
    }

    /// Removes what a strategy must not reach, and freezes the base as the fallback of every
    /// strategy environment. (setmetatable, getmetatable and the budgeted string and table
    /// functions were made safe when the state was created.)
    public func sandbox() {
        lua_rawgeti(L, shim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for name in ["dofile", "loadfile", "load", "require", "collectgarbage", "print"] {
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

    // MARK: Environments

    /// A new environment: its own `_G` (itself), its own copies of the library tables
    /// (`string.upper = nil` changes this environment only, and is gone with it at the next
    /// reload), and everything else read from the base, which it cannot reach or change.
    public func newEnvironment() -> LuaRef {
        shim_newtable(L)
        let env = lua_gettop(L)
        pushBase()
        let base = lua_gettop(L)
        lua_pushnil(L)
        while lua_next(L, base) != 0 {
            if lua_type(L, -1) == LUA_TTABLE, lua_type(L, -2) == LUA_TSTRING, string(at: -2) != "_G" {
                let library = lua_gettop(L)
                lua_pushvalue(L, -2)  // the name
                shim_newtable(L)
                let copy = lua_gettop(L)
                lua_pushnil(L)
                while lua_next(L, library) != 0 {
                    lua_pushvalue(L, -2)
                    lua_rotate(L, -2, 1)  // key, key, value
                    lua_rawset(L, copy)
                }
                lua_rawset(L, env)  // env[name] = copy
            }
            shim_pop(L, 1)
        }
        lua_pushvalue(L, env)
        lua_setfield(L, env, "_G")
        shim_set_readonly_fallback(L, env, base)
        shim_pop(L, 1)
        return LuaRef(luaL_ref(L, shim_registryindex()))
    }

    public func release(_ ref: LuaRef) {
        luaL_unref(L, shim_registryindex(), ref.value)
    }

    /// Pushes the value a registry reference holds.
    func pushReference(_ ref: LuaRef, into target: OpaquePointer? = nil) {
        lua_rawgeti(L, shim_registryindex(), lua_Integer(ref.value))
        if let target, target != L { lua_xmove(L, target, 1) }
    }

    /// Reads `env[name]` (raw: never the base).
    public func field(_ env: LuaRef, _ name: String) -> LuaValue {
        pushReference(env)
        push(string: name)
        lua_rawget(L, -2)
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

    /// The current value held by a reference; `path` names it in errors (cycles, depth).
    public func read(_ ref: LuaRef, path: String) throws -> LuaValue {
        pushReference(ref)
        defer { shim_pop(L, 1) }
        return try read(-1, path: path)
    }

    /// The current value held by a reference (nil when it cannot be read).
    public func value(of ref: LuaRef) -> LuaValue {
        (try? read(ref, path: "value")) ?? .nil
    }

    /// Replaces the contents of the table held by `ref` with `value`'s (the table keeps its
    /// identity: every environment that holds it sees the change).
    public func replaceContents(of ref: LuaRef, with value: LuaValue) {
        pushReference(ref)
        guard lua_type(L, -1) == LUA_TTABLE else {
            shim_pop(L, 1)
            return
        }
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {  // clearing a field during a traversal is allowed (Lua manual, lua_next)
            shim_pop(L, 1)
            lua_pushvalue(L, -1)
            lua_pushnil(L)
            lua_rawset(L, -4)
        }
        if case let .table(entries) = value {
            for (key, item) in entries where push(key: key) {
                push(item)
                lua_rawset(L, -3)
            }
        }
        shim_pop(L, 1)
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

    // MARK: Loading

    private func compile(_ source: String, chunkName: String, in state: OpaquePointer) throws {
        var text = source
        let status = text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { shim_load_text(state, $0.baseAddress, $0.count, "@" + chunkName) }
        }
        guard status == LUA_OK else {
            let message = stringIn(state, at: -1) ?? "syntax error"
            shim_pop(state, 1)
            throw LuaError(message: message, kind: status == LUA_ERRMEM ? .memory : .syntax)
        }
    }

    /// Compiles `source` (text only, never binary) with `env` as its `_ENV`, then runs its
    /// top level under the time budget (a protected call: it cannot wait). Syntax and
    /// runtime errors come back with file:line.
    public func load(source: String, chunkName: String, env: LuaRef, budget seconds: Double? = nil) throws {
        _ = try load(source: source, chunkName: chunkName, env: env, results: 0, on: nil, budget: seconds)
    }

    /// The same, run on `state` (the coroutine of the host call that loads, e.g. `require`,
    /// so the load nests in that call's budget frame), keeping up to `results` of what the
    /// chunk returns in registry references. The chunk gets `arguments` as `...`.
    public func load(source: String, chunkName: String, env: LuaRef, results: Int32, on state: OpaquePointer?,
                     arguments: [LuaValue] = [], budget seconds: Double? = nil) throws -> [LuaRef]
    {
        let state = state ?? L
        guard lua_checkstack(state, Int32(arguments.count) + results + 4) != 0 else {
            throw LuaError(message: "\(chunkName): the Lua stack is full")
        }
        try compile(source, chunkName: chunkName, in: state)
        pushReference(env, into: state)
        _ = lua_setupvalue(state, -2, 1)
        for argument in arguments { push(argument, into: state) }
        var frame = shim_budget_frame()
        shim_budget_enter(state, budget, Int64((seconds ?? timeBudget) * 1e9), &frame)
        let status = shim_pcall_traceback(state, Int32(arguments.count), results)
        let expired = shim_budget_expired(budget) != 0
        let memoryHit = shim_budget_memory_hit(budget) != 0
        shim_budget_leave(state, budget, &frame)
        guard status == LUA_OK else {
            let full = stringIn(state, at: -1) ?? "error object is not a string"
            shim_pop(state, 1)
            let (message, traceback) = Self.split(full)
            let kind = Self.kind(status: status, expired: expired, memoryHit: memoryHit)
            throw LuaError(message: status == LUA_ERRMEM ? memoryMessage : message, traceback: traceback, kind: kind)
        }
        var references: [LuaRef] = []
        for _ in 0..<results {
            if state != L { lua_xmove(state, L, 1) }
            references.insert(LuaRef(luaL_ref(L, shim_registryindex())), at: 0)
        }
        return references
    }

    /// `message\nstack traceback:...` from the traceback handler, in two parts.
    static func split(_ full: String) -> (String, String) {
        guard let range = full.range(of: "\nstack traceback:") else { return (full, "") }
        return (String(full[..<range.lowerBound]), String(full[range.lowerBound...].dropFirst()))
    }

    var memoryMessage: String { "memory limit of \(memoryLimit >> 20) MiB reached: the handler was stopped" }

    // MARK: Running handlers

    /// What running Lua code came to.
    public enum Outcome {
        case finished([LuaValue])
        /// Waiting in a host call; resume it with `resume(thread:)`.
        case suspended(LuaThread)
        case failed(LuaError)
    }

    /// Pushes `env[name]` when it is a function; pushes nothing and returns false otherwise.
    func pushFunction(_ env: LuaRef, _ name: String) -> Bool {
        guard lua_checkstack(L, 8) != 0 else { return false }
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

    /// Whether `env[name]` is a function (a raw look-up: no metamethod runs).
    public func hasFunction(_ env: LuaRef, _ name: String) -> Bool {
        guard pushFunction(env, name) else { return false }
        shim_pop(L, 1)
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
    func run(arguments: Int32, budget seconds: Double, startedAt: Int64? = nil) -> Outcome {
        // A coroutine that finished is reused for the next call (creating one per call costs
        // more than the call); one that waits keeps its own and the next call gets a new one.
        let thread: LuaThread
        if let idle = idleThread {
            idleThread = nil
            thread = idle
        } else {
            guard let state = lua_newthread(L) else { return .failed(LuaError(message: "out of memory", kind: .memory)) }
            shim_mark_host_thread(L, state)
            let ref = luaL_ref(L, shim_registryindex())  // keeps the coroutine alive while it waits
            thread = LuaThread(ref: ref, L: state)
        }
        lua_xmove(L, thread.L, arguments + 1)
        return resume(thread, arguments: arguments, budget: seconds, startedAt: startedAt)
    }

    /// A finished coroutine kept for the next call.
    private var idleThread: LuaThread?

    /// Resumes a suspended coroutine with `values` as the results of the host call it waits in.
    public func resume(_ thread: LuaThread, with values: [LuaValue], budget seconds: Double? = nil) -> Outcome {
        guard lua_checkstack(thread.L, Int32(values.count) + 2) != 0 else {
            cancel(thread)
            return .failed(LuaError(message: "the reply does not fit on the Lua stack"))
        }
        for value in values { push(value, into: thread.L) }
        return resume(thread, arguments: Int32(values.count), budget: seconds ?? timeBudget)
    }

    private func resume(_ thread: LuaThread, arguments: Int32, budget seconds: Double, startedAt: Int64? = nil) -> Outcome {
        var frame = shim_budget_frame()
        shim_budget_enter_at(thread.L, budget, Int64(seconds * 1e9), startedAt ?? shim_now_ns(), &frame)
        var results: Int32 = 0
        let outer = running
        running = thread
        waitRequested = false
        let status = shim_resume(thread.L, L, arguments, &results)
        running = outer
        switch status {
        case LUA_OK:
            shim_budget_leave(thread.L, budget, &frame)
            var values: [LuaValue] = []
            for index in 0..<results { values.append(value(in: thread.L, at: -results + index)) }
            lua_settop(thread.L, 0)
            if idleThread == nil {
                idleThread = thread
            } else {
                luaL_unref(L, shim_registryindex(), thread.ref)
            }
            return .finished(values)
        case LUA_YIELD where waitRequested:
            shim_budget_leave(thread.L, budget, &frame)
            waitRequested = false
            lua_settop(thread.L, 0)
            return .suspended(thread)
        default:
            let userYield = status == LUA_YIELD
            let message = userYield
                ? "coroutine.yield at the level of a handler: a handler cannot yield (yield inside coroutines the strategy creates with coroutine.wrap or coroutine.create)"
                : stringIn(thread.L, at: -1) ?? "error object is not a string"
            shim_traceback(L, thread.L, nil)
            let traceback = string(at: -1) ?? ""
            shim_pop(L, 1)
            // Closing runs the coroutine's pending __close handlers: still inside the frame,
            // so they are bounded by what is left of the budget.
            _ = shim_resetthread(thread.L, L)
            let expired = shim_budget_expired(budget) != 0
            let memoryHit = shim_budget_memory_hit(budget) != 0
            shim_budget_leave(thread.L, budget, &frame)
            luaL_unref(L, shim_registryindex(), thread.ref)
            let kind = Self.kind(status: status, expired: expired, memoryHit: memoryHit)
            let text = status == LUA_ERRMEM ? memoryMessage : (userYield ? Self.position(inTraceback: traceback) + message : message)
            return .failed(LuaError(message: text, traceback: traceback, kind: kind))
        }
    }

    /// What ended a failed run: the memory error that ended it; else the budget, when it
    /// expired (a run near its cap may have had an allocation refused and retried after a
    /// collection, and then been stopped by the clock: that is the budget); else a refusal
    /// of the cap that the script turned into an error of its own; else the script's error.
    static func kind(status: Int32, expired: Bool, memoryHit: Bool) -> LuaError.Kind {
        if status == LUA_ERRMEM { return .memory }
        if expired { return .budget }
        return memoryHit ? .memory : .runtime
    }

    /// `file.lua:3: ` from the first Lua frame of a traceback (`\tfile.lua:3: in function ...`).
    private static func position(inTraceback traceback: String) -> String {
        for line in traceback.split(separator: "\n").dropFirst() {
            let frame = line.trimmingCharacters(in: .whitespaces)
            guard !frame.hasPrefix("[C]") else { continue }
            let parts = frame.split(separator: ":", maxSplits: 2)
            guard parts.count >= 2, Int(parts[1]) != nil else { return "" }
            return "\(parts[0]):\(parts[1]): "
        }
        return ""
    }

    /// Abandons a suspended coroutine (its reply will be dropped).
    public func cancel(_ thread: LuaThread) {
        var frame = shim_budget_frame()
        shim_budget_enter(thread.L, budget, Int64(timeBudget * 1e9), &frame)
        _ = shim_resetthread(thread.L, L)
        shim_budget_leave(thread.L, budget, &frame)
        luaL_unref(L, shim_registryindex(), thread.ref)
    }

    /// Keeps the function at `index` of `L`'s stack (a timer callback); release it with `release`.
    func reference(functionAt index: Int32, in state: OpaquePointer) -> LuaRef {
        lua_pushvalue(state, index)
        if state != L { lua_xmove(state, L, 1) }
        return LuaRef(luaL_ref(L, shim_registryindex()))
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
    var result: LuaCall.Result
    do {
        result = try function.body(call)
    } catch let error as LuaArgumentError {
        result = .error(error.message)
    } catch {
        result = .error("\(function.qualifiedName): \(error)")
    }
    if case .yield = result, !call.canSuspend {
        result = .error(call.cannotSuspendMessage)
    }
    switch result {
    case let .values(values):
        guard lua_checkstack(L, Int32(values.count) + 1) != 0 else {
            call.push(.string("\(function.qualifiedName): too many results for the Lua stack"))
            return SHIM_RAISE
        }
        for value in values { call.push(value) }
        return Int32(values.count)
    case .pushed(let count):
        return Int32(count)
    case let .error(message):
        // Prefix file:line of the Lua caller, as luaL_error would.
        guard lua_checkstack(L, 3) != 0 else { return SHIM_RAISE }
        luaL_where(L, 1)
        let position = function.state.stringIn(L, at: -1) ?? ""
        shim_pop(L, 1)
        call.push(.string(position + message))
        return SHIM_RAISE
    case .yield:
        function.state.waitRequested = true
        return SHIM_YIELD
    }
}
