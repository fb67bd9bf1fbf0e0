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

/// A value of the right type that the host cannot take: out of range, not finite, not whole,
/// or text that TWS and the journal would refuse. Host functions answer it with
/// `nil, { code = "invalid_argument", message = }`; a wrong type raises instead.
public struct LuaInvalidArgument: Error, Sendable, Equatable, CustomStringConvertible {
    public static let code = "invalid_argument"
    /// Names the call, the argument and the bad value: `orders.buy: options.limit 1e+20 is out of range ...`.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checked conversions of what a strategy passes: every Lua number that becomes an integer, a
/// duration or a field TWS gets goes through one of these, so no value (NaN, ±inf, -0, 1e300,
/// ±2^63, math.maxinteger, a fraction) can trap in a conversion or overflow later. Each
/// refusal is a `LuaInvalidArgument` naming `what` (`"orders.buy: options.limit"`) and the value.
public enum LuaChecked {
    /// `value` when finite and inside `range` (above its lower bound when `excludingLower`);
    /// -0 comes back as 0.
    public static func number(_ value: Double, _ what: @autoclosure () -> String, in range: ClosedRange<Double>,
                              excludingLower: Bool = false) throws -> Double
    {
        guard value.isFinite, range.contains(value), !(excludingLower && value == range.lowerBound) else {
            let lower = excludingLower ? "above \(show(range.lowerBound))" : "at least \(show(range.lowerBound))"
            throw LuaInvalidArgument("\(what()) \(show(value)) is out of range (it must be \(lower) and at most \(show(range.upperBound)))")
        }
        return value + 0  // -0 + 0 is +0
    }

    /// `value` as a whole number inside `range`.
    public static func integer(_ value: Double, _ what: @autoclosure () -> String, in range: ClosedRange<Int64>) throws -> Int64 {
        // Int64(exactly:) is nil for NaN, ±inf, fractions and anything past ±2^63 (math.maxinteger
        // read as a double is 2^63): none of them reaches a trapping conversion.
        guard let whole = Int64(exactly: value), range.contains(whole) else {
            throw LuaInvalidArgument("\(what()) \(show(value)) is out of range (it must be a whole number from \(range.lowerBound) to \(range.upperBound))")
        }
        return whole
    }

    /// A Lua value that must be a whole number in `range` (integers are read exactly, not
    /// through a double); nil for anything that is not a number (the caller raises its type error).
    public static func integer(_ value: LuaValue, _ what: @autoclosure () -> String, in range: ClosedRange<Int64>) throws -> Int64? {
        switch value {
        case let .integer(whole):
            guard range.contains(whole) else {
                throw LuaInvalidArgument("\(what()) \(whole) is out of range (it must be a whole number from \(range.lowerBound) to \(range.upperBound))")
            }
            return whole
        case let .number(number): return try integer(number, what(), in: range)
        default: return nil
        }
    }

    /// A duration in seconds inside `range`, as nanoseconds (for timers and waits): the range
    /// is checked first, so the product cannot overflow.
    public static func nanoseconds(_ seconds: Double, _ what: @autoclosure () -> String, in range: ClosedRange<Double>) throws -> Int64 {
        let checked = try number(seconds, what(), in: range)
        guard let nanoseconds = Int64(exactly: (checked * 1e9).rounded()) else {
            throw LuaInvalidArgument("\(what()) \(show(seconds)) seconds is too long")
        }
        return nanoseconds
    }

    /// Text that goes to TWS or the journal: printable ASCII only (what IB's own client sends;
    /// a NUL would end the field, a control character is refused by TWS), at most `maxBytes`,
    /// and not empty unless `allowEmpty`.
    public static func text(_ value: String, _ what: @autoclosure () -> String, maxBytes: Int = 64, allowEmpty: Bool = false) throws -> String {
        let bytes = value.utf8
        if bytes.isEmpty && !allowEmpty { throw LuaInvalidArgument("\(what()) is empty") }
        guard bytes.count <= maxBytes else {
            throw LuaInvalidArgument("\(what()) is \(bytes.count) bytes long (at most \(maxBytes)): \(excerpt(value))")
        }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw LuaInvalidArgument("\(what()) contains a character TWS does not accept (printable ASCII only): \(excerpt(value))")
        }
        return value
    }

    /// A number as a message shows it: whole ones without a fraction, -0 as -0, any NaN as nan
    /// (0/0 is a negative NaN, which Swift would print as -nan).
    public static func show(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        if let whole = Int64(exactly: value), whole.magnitude < 1_000_000_000_000_000 { return String(whole) }  // abs(Int64.min) traps
        return "\(value)"
    }

    /// The start of a string, escaped, for a message (a 1 MB argument is not echoed whole).
    public static func excerpt(_ value: String, limit: Int = 40) -> String {
        let head = String(value.unicodeScalars.prefix(limit).map(Character.init))
        return head.debugDescription + (value.unicodeScalars.count > limit ? "..." : "")
    }
}
