import CLua
import CLuaShim

/// Where the fields of a record table go: straight onto the Lua stack (`LuaTableWriter`,
/// the hot path of events) or into a `LuaValue` (`LuaRecord`, for replies and tests).
/// Describing a table once against this protocol keeps both in step. Nil values are skipped,
/// as Lua has no nil fields.
public protocol LuaFieldSink {
    mutating func set(_ key: StaticString, _ value: Double?)
    mutating func set(_ key: StaticString, integer value: Int64?)
    mutating func set(_ key: StaticString, _ value: String?)
    mutating func set(_ key: StaticString, _ value: Bool?)
}

/// The fields of a record table in the order its description always writes them (every
/// `set`, nil or not, in the same order). Each Lua state interns the names once, in a table of
/// its registry; the hot path then sets fields by those strings (`lua_rawset`), with no C-string
/// cache look-up and no key comparison per field.
public final class LuaRecordShape: Sendable {
    public let names: [String]

    public init(_ names: [String]) { self.names = names }
}

/// Fills the table on the Lua stack at `table` (an absolute index), each key taken from the
/// shape's interned names (the table of them at `keys`).
public struct LuaTableWriter: LuaFieldSink {
    // Inlinable: a backtest writes a bar's ten fields for every bar, and a call into this
    // module for each (through the protocol's witness) cost as much as the Lua calls it makes.
    @usableFromInline let L: OpaquePointer
    @usableFromInline let table: Int32
    @usableFromInline let keys: Int32
    @usableFromInline let shape: LuaRecordShape
    @usableFromInline var cursor: lua_Integer = 0

    init(L: OpaquePointer, table: Int32, keys: Int32, shape: LuaRecordShape) {
        self.L = L
        self.table = table
        self.keys = keys
        self.shape = shape
    }

    @inlinable
    public mutating func set(_ key: StaticString, _ value: Double?) {
        advance(key)
        guard let value else { return }
        lua_rawgeti(L, keys, cursor)
        lua_pushnumber(L, value)
        lua_rawset(L, table)
    }

    @inlinable
    public mutating func set(_ key: StaticString, integer value: Int64?) {
        advance(key)
        guard let value else { return }
        lua_rawgeti(L, keys, cursor)
        lua_pushinteger(L, lua_Integer(value))
        lua_rawset(L, table)
    }

    @inlinable
    public mutating func set(_ key: StaticString, _ value: String?) {
        advance(key)
        guard var value else { return }
        lua_rawgeti(L, keys, cursor)
        let L = L
        value.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        lua_rawset(L, table)
    }

    @inlinable
    public mutating func set(_ key: StaticString, _ value: Bool?) {
        advance(key)
        guard let value else { return }
        lua_rawgeti(L, keys, cursor)
        lua_pushboolean(L, value ? 1 : 0)
        lua_rawset(L, table)
    }

    /// The next key of the shape (a nil value takes its place too: nothing is set for it).
    @inlinable @inline(__always)
    mutating func advance(_ key: StaticString) {
        cursor += 1
        assert(Int(cursor) <= shape.names.count && shape.names[Int(cursor) - 1] == "\(key)",
               "a record's fields were written out of its shape's order at \(key)")
    }
}

/// Collects fields into a `LuaValue` table.
public struct LuaRecord: LuaFieldSink {
    public private(set) var table: [LuaKey: LuaValue] = [:]

    public init() {}

    public var value: LuaValue { .table(table) }

    public mutating func set(_ key: StaticString, _ value: Double?) { put(key, value.map { .number($0) }) }
    public mutating func set(_ key: StaticString, integer value: Int64?) { put(key, value.map { .integer($0) }) }
    public mutating func set(_ key: StaticString, _ value: String?) { put(key, value.map { .string($0) }) }
    public mutating func set(_ key: StaticString, _ value: Bool?) { put(key, value.map { .bool($0) }) }

    private mutating func put(_ key: StaticString, _ value: LuaValue?) {
        guard let value else { return }
        table[.string("\(key)")] = value
    }
}

extension LuaState {
    /// Calls `env[name]` with one table argument whose fields `fill` writes directly on the
    /// stack (by this state's interned names of `shape`), in a coroutine under the time budget
    /// like every other call. `startedAt` (`monotonicNanoseconds`) is when the caller's timing
    /// of the call began, the start of its budget too.
    public func call(_ env: LuaRef, _ name: String, shape: LuaRecordShape, budget seconds: Double? = nil, startedAt: Int64? = nil,
                     _ fill: (inout LuaTableWriter) -> Void) -> Outcome
    {
        guard pushFunction(env, name) else { return .finished([]) }
        lua_createtable(L, 0, Int32(shape.names.count))
        let table = lua_gettop(L)
        pushKeys(of: shape)
        var writer = LuaTableWriter(L: L, table: table, keys: table + 1, shape: shape)
        fill(&writer)
        shim_pop(L, 1)
        return run(arguments: 1, budget: seconds ?? timeBudget, startedAt: startedAt)
    }

    /// Pushes the table of `shape`'s names as this state's strings (made the first time).
    private func pushKeys(of shape: LuaRecordShape) {
        let id = ObjectIdentifier(shape)
        if let last = lastShapeKeys, last.shape == id {
            pushReference(last.keys)
            return
        }
        if let known = shapeKeys[id] {
            lastShapeKeys = (id, known.keys)
            pushReference(known.keys)
            return
        }
        lua_createtable(L, Int32(shape.names.count), 0)
        for (position, name) in shape.names.enumerated() {
            push(string: name)
            lua_rawseti(L, -2, lua_Integer(position + 1))
        }
        lua_pushvalue(L, -1)
        let ref = LuaRef(luaL_ref(L, shim_registryindex()))
        shapeKeys[id] = (shape, ref)
        lastShapeKeys = (id, ref)
    }
}
