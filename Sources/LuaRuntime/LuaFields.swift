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

/// Fills the table on top of a Lua stack, one `lua_setfield` per field (static keys: Lua
/// interns them through its C-string cache, so no key is hashed twice).
public struct LuaTableWriter: LuaFieldSink {
    let L: OpaquePointer

    public mutating func set(_ key: StaticString, _ value: Double?) {
        guard let value else { return }
        lua_pushnumber(L, value)
        setField(key)
    }

    public mutating func set(_ key: StaticString, integer value: Int64?) {
        guard let value else { return }
        lua_pushinteger(L, lua_Integer(value))
        setField(key)
    }

    public mutating func set(_ key: StaticString, _ value: String?) {
        guard var value else { return }
        value.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        setField(key)
    }

    public mutating func set(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        lua_pushboolean(L, value ? 1 : 0)
        setField(key)
    }

    @inline(__always)
    private func setField(_ key: StaticString) {
        key.withUTF8Buffer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { lua_setfield(L, -2, $0.baseAddress) }
        }
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
    /// stack, in a coroutine under the time budget like every other call.
    public func call(_ env: LuaRef, _ name: String, fields: Int32, budget seconds: Double? = nil,
                     _ fill: (inout LuaTableWriter) -> Void) -> Outcome
    {
        guard pushFunction(env, name) else { return .finished([]) }
        lua_createtable(L, 0, fields)
        var writer = LuaTableWriter(L: L)
        fill(&writer)
        return run(arguments: 1, budget: seconds ?? timeBudget)
    }
}
