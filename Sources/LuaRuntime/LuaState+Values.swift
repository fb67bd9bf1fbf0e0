import CLua
import CLuaShim

/// A Lua value that cannot leave the state as a `LuaValue`: a cycle, too deep, too large.
public struct LuaValueError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Values crossing the boundary. Every push checks stack space first; every read is raw (no
/// metamethod of the strategy runs on the host's behalf) and stops at cycles, depth and
/// size with an error naming where (`store.x[1]`), never a hang or a stack overflow.
///
/// A read is a copy, and it costs what the copy costs: a table or a string referenced N
/// times is copied N times (500 references to one 20 MB string are 10 GB on the host's
/// side, 20 MB in Lua). So the bytes of one read are counted as it expands (about what the
/// Swift copy takes: the string bytes and a few words per entry) and refused past the
/// state's memory cap, and the entries one read visits are bounded, so a DAG (each level
/// referencing the next twice) cannot cost seconds either.
extension LuaState {
    /// Nesting a `LuaValue` may have (each level is a Swift and a Lua stack frame).
    public static let maximumDepth = 32
    /// Table entries one read may visit (a table referenced twice is visited twice): a
    /// fraction of a second of host time for the read and the journal, even in a debug build.
    public static let maximumEntries = 100_000

    /// Pushes onto `target` (a coroutine) or the main stack.
    public func push(_ value: LuaValue, into target: OpaquePointer?) {
        push(value)
        if let target, target != L { lua_xmove(L, target, 1) }
    }

    public func push(_ value: LuaValue) {
        push(value, depth: 0)
    }

    private func push(_ value: LuaValue, depth: Int) {
        // Room for the value, a key and one more level; a value deeper than Lua's stack can
        // take (never one the host built itself) becomes nil rather than an overflow.
        guard lua_checkstack(L, 3) != 0, depth <= Self.maximumDepth * 4 else {
            if lua_checkstack(L, 1) != 0 { lua_pushnil(L) }
            return
        }
        switch value {
        case .nil: lua_pushnil(L)
        case let .bool(b): lua_pushboolean(L, b ? 1 : 0)
        case let .integer(i): lua_pushinteger(L, lua_Integer(i))
        case let .number(d): lua_pushnumber(L, d)
        case let .string(s): push(string: s)
        case let .table(table):
            lua_createtable(L, 0, Int32(clamping: table.count))
            for (key, item) in table where push(key: key) {
                push(item, depth: depth + 1)
                lua_rawset(L, -3)
            }
        }
    }

    /// Pushes a table key; false (nothing pushed) for NaN, which no Lua table takes.
    func push(key: LuaKey) -> Bool {
        switch key {
        case let .string(s): push(string: s)
        case let .integer(i): lua_pushinteger(L, lua_Integer(i))
        case let .number(d):
            guard !d.isNaN else { return false }
            lua_pushnumber(L, d)
        case let .bool(b): lua_pushboolean(L, b ? 1 : 0)
        }
        return true
    }

    public func push(string: String) {
        var copy = string
        copy.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// Reads the value at `index` of `state`'s stack. Tables are read raw and deeply;
    /// functions, coroutines and userdata read as nil. `path` names the value in errors.
    public func read(_ index: Int32, of state: OpaquePointer? = nil, path: String) throws -> LuaValue {
        let state = state ?? L
        var reader = ValueReader(L: state, byteLimit: memoryLimit)
        do {
            return try reader.read(lua_absindex(state, index), depth: 0)
        } catch let failure as ValueReader.Failure {
            let place = path + failure.keys.reversed().map(\.pathComponent).joined()
            switch failure.stop {
            case .cycle: throw LuaValueError(message: "value contains a cycle at \(place)")
            case .depth: throw LuaValueError(message: "value is nested deeper than \(Self.maximumDepth) levels at \(place)")
            case .stack: throw LuaValueError(message: "value is nested too deeply at \(place)")
            case .entries:
                throw LuaValueError(message: "value has more than \(Self.maximumEntries) table entries (each reference to a shared table counts) at \(place)")
            case .bytes: throw LuaValueError(message: "value larger than the memory cap (\(Self.describe(bytes: memoryLimit))) at \(place)")
            }
        }
    }

    /// `64 MiB` (or bytes when not a whole number of MiB).
    static func describe(bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// The value at `index`, or nil when it cannot be read (see `read`).
    public func value(at index: Int32) -> LuaValue {
        (try? read(index, path: "value")) ?? .nil
    }

    /// The string at `index` without converting numbers in place (lua_next-safe).
    func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        return stringIn(L, at: index)
    }

    func stringIn(_ state: OpaquePointer, at index: Int32) -> String? {
        var length = 0
        guard let pointer = shim_tostring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    func value(in state: OpaquePointer, at index: Int32) -> LuaValue {
        (try? read(index, of: state, path: "value")) ?? .nil
    }
}

/// One raw, depth-first read of a Lua value, remembering the tables on the current path.
/// The path of a failure is collected as it unwinds (no string is built per entry).
struct ValueReader {
    let L: OpaquePointer
    /// Bytes the copy may take (0: no limit).
    let byteLimit: Int
    var onPath: Set<UnsafeRawPointer> = []
    var entries = 0
    var bytes = 0

    /// What the Swift copy takes per table entry besides its strings (key and value slots of
    /// a dictionary, with its spare room), and per table.
    static let entryBytes = 64
    static let tableBytes = 64

    enum Stop { case cycle, depth, stack, entries, bytes }
    struct Failure: Error {
        let stop: Stop
        /// The keys from the failing value out to the top.
        var keys: [LuaKey] = []
    }

    init(L: OpaquePointer, byteLimit: Int) {
        self.L = L
        self.byteLimit = byteLimit
    }

    mutating func read(_ index: Int32, depth: Int) throws -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if shim_isinteger(L, index) != 0 { return .integer(Int64(lua_tointegerx(L, index, nil))) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(try string(index))
        case LUA_TTABLE: return try readTable(index, depth: depth)
        default: return .nil
        }
    }

    /// Counts `count` more bytes of the copy; refused past the limit.
    private mutating func charge(_ count: Int) throws {
        bytes += count
        if byteLimit > 0 && bytes > byteLimit { throw Failure(stop: .bytes) }
    }

    /// The string at `index`, counted before it is copied.
    private mutating func string(_ index: Int32) throws -> String {
        var length = 0
        guard let pointer = shim_tostring(L, index, &length) else { return "" }
        try charge(length)
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private mutating func readTable(_ index: Int32, depth: Int) throws -> LuaValue {
        guard let identity = lua_topointer(L, index) else { return .nil }
        if onPath.contains(identity) { throw Failure(stop: .cycle) }
        guard depth < LuaState.maximumDepth else { throw Failure(stop: .depth) }
        guard lua_checkstack(L, 4) != 0 else { throw Failure(stop: .stack) }
        try charge(Self.tableBytes)
        onPath.insert(identity)
        defer { onPath.remove(identity) }
        var table: [LuaKey: LuaValue] = [:]
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            do {
                entries += 1
                if entries > LuaState.maximumEntries { throw Failure(stop: .entries) }
                try charge(Self.entryBytes)
                let key: LuaKey?
                switch lua_type(L, -2) {
                case LUA_TSTRING: key = .string(try string(-2))
                case LUA_TNUMBER:
                    key = shim_isinteger(L, -2) != 0 ? .integer(Int64(lua_tointegerx(L, -2, nil))) : .number(lua_tonumberx(L, -2, nil))
                case LUA_TBOOLEAN: key = .bool(lua_toboolean(L, -2) != 0)
                default: key = nil
                }
                if let key {
                    do {
                        table[key] = try read(lua_absindex(L, -1), depth: depth + 1)
                    } catch var failure as Failure {
                        failure.keys.append(key)
                        throw failure
                    }
                }
            } catch {
                shim_pop(L, 2)
                throw error
            }
            shim_pop(L, 1)
        }
        return .table(table)
    }
}

extension LuaKey {
    /// `.name` for identifier keys, `[1]` or `["a b"]` otherwise (a step of a path in errors).
    var pathComponent: String {
        switch self {
        case let .string(s):
            let identifier = s.utf8.first.map { !($0 >= 48 && $0 <= 57) } == true
                && s.utf8.allSatisfy { $0 == 95 || ($0 >= 48 && $0 <= 57) || ($0 | 32 >= 97 && $0 | 32 <= 122) }
            // A key as long as a book is named by its start.
            let shown = s.count > 40 ? s.prefix(40) + "…" : Substring(s)
            return identifier ? "." + shown : "[\"\(shown)\"]"
        case let .integer(i): return "[\(i)]"
        case let .number(d): return "[\(d)]"
        case let .bool(b): return "[\(b)]"
        }
    }
}
