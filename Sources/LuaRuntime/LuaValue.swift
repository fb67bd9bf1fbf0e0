/// A Lua value that can leave the Lua state: for arguments, replies and the journaled `store`.
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    /// A table; keys are strings, integers, numbers or booleans.
    case table([LuaKey: LuaValue])

    public static func array(_ items: [LuaValue]) -> LuaValue {
        var table: [LuaKey: LuaValue] = [:]
        for (index, item) in items.enumerated() { table[.integer(Int64(index + 1))] = item }
        return .table(table)
    }

    public static func record(_ fields: [String: LuaValue?]) -> LuaValue {
        var table: [LuaKey: LuaValue] = [:]
        for (key, value) in fields { if let value, value != .nil { table[.string(key)] = value } }
        return .table(table)
    }

    public subscript(key: String) -> LuaValue {
        if case let .table(table) = self { return table[.string(key)] ?? .nil }
        return .nil
    }

    public var number: Double? {
        switch self {
        case let .number(value): return value
        case let .integer(value): return Double(value)
        default: return nil
        }
    }

    public var string: String? { if case let .string(value) = self { return value } else { return nil } }
}

public enum LuaKey: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .nil }
}

/// A Lua error as a person reads it: where it happened, what, and how we got there.
public struct LuaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `file:line: message`.
    public var message: String
    public var traceback: String
    public var kind: Kind

    public enum Kind: Sendable, Equatable {
        case syntax, runtime, memory, budget
    }

    public init(message: String, traceback: String = "", kind: Kind = .runtime) {
        self.message = message
        self.traceback = traceback
        self.kind = kind
    }

    public var description: String { traceback.isEmpty ? message : message + "\n" + traceback }
}
