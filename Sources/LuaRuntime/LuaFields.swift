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

/// Fills the table on the Lua stack at `table` (an absolute index), keys taken from the
/// shape's interned names at `keys` when there is a shape, else one `lua_setfield` each.
public struct LuaTableWriter: LuaFieldSink {
    let L: OpaquePointer
    let table: Int32
    /// The absolute index of the shape's key table, 0 with none.
    let keys: Int32
    let shape: LuaRecordShape?
    private var cursor: lua_Integer = 0

    init(L: OpaquePointer, table: Int32, keys: Int32 = 0, shape: LuaRecordShape? = nil) {
        self.L = L
        self.table = table
        self.keys = keys
        self.shape = shape
    }

    public mutating func set(_ key: StaticString, _ value: Double?) {
        guard let value else { return skip(key) }
        pushKey(key)
        lua_pushnumber(L, value)
        store(key)
    }

    public mutating func set(_ key: StaticString, integer value: Int64?) {
        guard let value else { return skip(key) }
        pushKey(key)
        lua_pushinteger(L, lua_Integer(value))
        store(key)
    }

    public mutating func set(_ key: StaticString, _ value: String?) {
        guard var value else { return skip(key) }
        pushKey(key)
        value.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        store(key)
    }

    public mutating func set(_ key: StaticString, _ value: Bool?) {
        guard let value else { return skip(key) }
        pushKey(key)
        lua_pushboolean(L, value ? 1 : 0)
        store(key)
    }

    /// The next key of the shape (a nil value still takes its place).
    @inline(__always)
    private mutating func skip(_ key: StaticString) {
        guard keys != 0 else { return }
        cursor += 1
        assert(Self.matches(shape, cursor, key), "a record's fields were written out of its shape's order at \(key)")
    }

    @inline(__always)
    private mutating func pushKey(_ key: StaticString) {
        guard keys != 0 else { return }
        cursor += 1
        assert(Self.matches(shape, cursor, key), "a record's fields were written out of its shape's order at \(key)")
        lua_rawgeti(L, keys, cursor)
    }

    @inline(__always)
    private func store(_ key: StaticString) {
        if keys != 0 {
            lua_rawset(L, table)
        } else {
            key.withUTF8Buffer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { lua_setfield(L, table, $0.baseAddress) }
            }
        }
    }

    private static func matches(_ shape: LuaRecordShape?, _ position: lua_Integer, _ key: StaticString) -> Bool {
        guard let shape, position >= 1, Int(position) <= shape.names.count else { return false }
        return shape.names[Int(position) - 1] == "\(key)"
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
    /// stack, in a coroutine under the time budget like every other call. With a `shape`, the
    /// fields are set by this state's interned names of it. `startedAt` (`monotonicNanoseconds`)
    /// is when the caller's timing of the call began, the start of its budget too.
    public func call(_ env: LuaRef, _ name: String, fields: Int32, shape: LuaRecordShape? = nil, budget seconds: Double? = nil,
                     startedAt: Int64? = nil, _ fill: (inout LuaTableWriter) -> Void) -> Outcome
    {
        guard pushFunction(env, name) else { return .finished([]) }
        lua_createtable(L, 0, fields)
        let table = lua_gettop(L)
        if let shape {
            pushKeys(of: shape)
            var writer = LuaTableWriter(L: L, table: table, keys: table + 1, shape: shape)
            fill(&writer)
            shim_pop(L, 1)
        } else {
            var writer = LuaTableWriter(L: L, table: table)
            fill(&writer)
        }
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
