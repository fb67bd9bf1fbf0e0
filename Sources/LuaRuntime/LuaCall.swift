import CLua
import CLuaShim

/// A wrong argument: raised in Lua as `file:line: call: argument N (name) ...`.
public struct LuaArgumentError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// One call from Lua into a Swift host function: its arguments, and how to answer.
public struct LuaCall {
    let state: LuaState
    let L: OpaquePointer
    /// `table.name`, for error messages.
    public let name: String

    public enum Result {
        case values([LuaValue])
        /// The body pushed this many values itself.
        case pushed(Int)
        /// Raise a Lua error with this message (the position of the caller is prepended).
        case error(String)
        /// Suspend the calling coroutine; the host resumes it with the reply.
        case yield
    }

    public var count: Int { Int(lua_gettop(L)) }

    /// The coroutine this call runs in (to resume it after a `.yield`).
    public var thread: LuaThread? {
        state.running.flatMap { $0.L == L ? $0 : nil }
    }

    /// Whether a host call may suspend this coroutine now: only directly in a handler's own
    /// coroutine, and only where Lua can yield (not inside a metamethod, a table.sort
    /// comparator, a string.gsub callback, a require'd file's top level).
    public var canSuspend: Bool { thread != nil && lua_isyieldable(L) != 0 }

    public var cannotSuspendMessage: String {
        "\(name) waits for TWS, so it can only be called directly in a handler: not while a file loads, not inside a coroutine "
            + "the strategy created, a metamethod, a table.sort comparator or a string.gsub callback"
    }

    /// Argument `index`, read raw; a cycle, excessive depth or size is an argument error.
    public func value(_ index: Int, _ parameter: String = "value") throws -> LuaValue {
        guard index <= count else { return .nil }
        do {
            return try state.read(Int32(index), of: L, path: parameter)
        } catch let error as LuaValueError {
            throw LuaArgumentError("\(name): argument \(index) (\(parameter)): \(error.message)")
        }
    }

    public func push(_ value: LuaValue) { state.push(value, into: L) }

    /// Pushes the value `ref` holds (the same table or function, not a copy) as the result.
    public func push(reference ref: LuaRef) -> Result {
        guard lua_checkstack(L, 2) != 0 else { return .error("\(name): the Lua stack is full") }
        state.pushReference(ref, into: L)
        return .pushed(1)
    }

    /// The coroutine (or main state) the call was made from: nested loads run on it.
    public var caller: OpaquePointer { L }

    func typeName(_ index: Int) -> String {
        String(cString: lua_typename(L, lua_type(L, Int32(index))))
    }

    private func fail(_ index: Int, _ parameter: String, _ expected: String) -> LuaArgumentError {
        LuaArgumentError("\(name): argument \(index) (\(parameter)) must be \(expected), got \(index <= count ? typeName(index) : "no value")")
    }

    public func string(_ index: Int, _ parameter: String) throws -> String {
        guard index <= count, lua_type(L, Int32(index)) == LUA_TSTRING, let text = state.stringIn(L, at: Int32(index)) else {
            throw fail(index, parameter, "a string")
        }
        return text
    }

    public func number(_ index: Int, _ parameter: String) throws -> Double {
        guard index <= count, lua_type(L, Int32(index)) == LUA_TNUMBER else { throw fail(index, parameter, "a number") }
        return lua_tonumberx(L, Int32(index), nil)
    }

    public func optionalNumber(_ index: Int, _ parameter: String) throws -> Double? {
        guard index <= count, lua_type(L, Int32(index)) != LUA_TNIL else { return nil }
        return try number(index, parameter)
    }

    public func integer(_ index: Int, _ parameter: String) throws -> Int {
        let value = try number(index, parameter)
        guard value.rounded() == value, abs(value) < 1e15 else { throw fail(index, parameter, "a whole number") }
        return Int(value)
    }

    /// A table argument (or nil when `optional` and absent).
    public func table(_ index: Int, _ parameter: String, optional: Bool = false) throws -> LuaValue? {
        guard index <= count, lua_type(L, Int32(index)) != LUA_TNIL else {
            if optional { return nil }
            throw fail(index, parameter, "a table")
        }
        guard lua_type(L, Int32(index)) == LUA_TTABLE else { throw fail(index, parameter, "a table") }
        return try value(index, parameter)
    }

    /// A function argument, kept alive until released (timer callbacks).
    public func function(_ index: Int, _ parameter: String) throws -> LuaRef {
        guard index <= count, lua_type(L, Int32(index)) == LUA_TFUNCTION else { throw fail(index, parameter, "a function") }
        return state.reference(functionAt: Int32(index), in: L)
    }

    /// A field of a table argument, checked for type.
    public static func field(_ table: LuaValue, _ key: String, number call: LuaCall, _ parameter: String) throws -> Double? {
        switch table[key] {
        case .nil: return nil
        case let .number(value): return value
        case let .integer(value): return Double(value)
        default: throw LuaArgumentError("\(call.name): \(parameter).\(key) must be a number")
        }
    }

    public static func field(_ table: LuaValue, _ key: String, bool call: LuaCall, _ parameter: String) throws -> Bool? {
        switch table[key] {
        case .nil: return nil
        case let .bool(value): return value
        default: throw LuaArgumentError("\(call.name): \(parameter).\(key) must be true or false")
        }
    }

    public static func field(_ table: LuaValue, _ key: String, string call: LuaCall, _ parameter: String) throws -> String? {
        switch table[key] {
        case .nil: return nil
        case let .string(value): return value
        default: throw LuaArgumentError("\(call.name): \(parameter).\(key) must be a string")
        }
    }
}
