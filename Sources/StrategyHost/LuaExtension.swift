import LuaRuntime

/// Lua functions an embedding application adds to every strategy, under a table of its own:
/// `signals.latest("AAPL")` answered by Swift.
///
/// They have the built-in API's guarantees: arguments are read raw (no metamethod runs),
/// `ExtensionArguments`' accessors raise a Lua error that names the call and the argument,
/// a thrown `ExtensionError` (or any other error) is returned to Lua as `nil, { code =,
/// message = }`, the time a function takes counts against the handler's budget and hard
/// limit, and a waiting function suspends only the calling handler's coroutine while other
/// events keep being delivered.
public struct LuaExtension: Sendable {
    public enum Function: Sendable {
        /// Runs on the strategy's thread and answers at once: keep it short (it is inside
        /// the handler's budget).
        case immediate(@Sendable (ExtensionArguments) throws -> [LuaValue])
        /// Checks its arguments on the strategy's thread (a wrong one raises in Lua), then
        /// returns the work to await off that thread; the calling handler resumes with its
        /// values. Only where a handler may wait (as `market.history`).
        case waiting(@Sendable (ExtensionArguments) throws -> @Sendable () async throws -> [LuaValue])
    }

    /// The global table the functions live in.
    public let table: String
    public private(set) var functions: [String: Function] = [:]

    /// Names a strategy already has: an extension cannot replace any of them.
    public static let reservedNames: Set<String> = [
        "market", "orders", "account", "timer", "log", "print", "now", "require", "collectgarbage", "store", "params",
        "string", "table", "math", "utf8", "coroutine", "os", "io", "debug", "package", "_G", "_ENV", "moonwire", "testing",
    ]

    /// Throws `LuaExtensionError` when `table` is not a Lua identifier or is a name the
    /// built-in API uses.
    public init(table: String) throws {
        guard Self.isIdentifier(table) else { throw LuaExtensionError("extension table '\(table)' is not a Lua identifier") }
        guard !Self.reservedNames.contains(table) else {
            throw LuaExtensionError("extension table '\(table)' would replace Moonwire's own '\(table)'")
        }
        self.table = table
    }

    /// Adds a function that answers at once.
    public mutating func function(_ name: String, _ body: @escaping @Sendable (ExtensionArguments) throws -> [LuaValue]) throws {
        try add(name, .immediate(body))
    }

    /// Adds a function whose answer is awaited: `body` checks the arguments and returns the
    /// work (`{ try await service.fetch(symbol) }`).
    public mutating func waitingFunction(_ name: String,
                                         _ body: @escaping @Sendable (ExtensionArguments) throws -> @Sendable () async throws -> [LuaValue]) throws
    {
        try add(name, .waiting(body))
    }

    private mutating func add(_ name: String, _ function: Function) throws {
        guard Self.isIdentifier(name) else { throw LuaExtensionError("\(table).\(name) is not a Lua identifier") }
        guard functions[name] == nil else { throw LuaExtensionError("\(table).\(name) is defined twice") }
        functions[name] = function
    }

    /// A Lua name: a letter or _, then letters, digits or _ (ASCII), at most 64.
    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.count <= 64 && text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

/// A mistake in how an extension is defined (a name that is not an identifier, or taken).
public struct LuaExtensionError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A failure an extension function reports to Lua: `nil, { code = code, message = message }`.
public struct ExtensionError: Error, CustomStringConvertible {
    public let code: String
    public let message: String
    public init(code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// The arguments of one extension call, read raw from Lua (copied: safe to keep and to send
/// to another thread). The accessors throw errors that Lua raises as
/// `file:line: signals.latest: argument 1 (symbol) must be a string, got number`.
public struct ExtensionArguments: Sendable {
    /// `table.function`, as Lua called it.
    public let call: String
    /// The name of the strategy that called.
    public let strategy: String
    public let values: [LuaValue]

    /// At most this many arguments are read; more is an argument error.
    static let maximumCount = 64

    init(call: LuaCall, strategy: String) throws {
        guard call.count <= Self.maximumCount else {
            throw LuaArgumentError("\(call.name): at most \(Self.maximumCount) arguments, got \(call.count)")
        }
        self.call = call.name
        self.strategy = strategy
        values = try (0..<call.count).map { try call.value($0 + 1, "argument \($0 + 1)") }
    }

    public init(call: String, strategy: String, values: [LuaValue]) {
        self.call = call
        self.strategy = strategy
        self.values = values
    }

    public var count: Int { values.count }

    /// Argument `index` (from 1), `.nil` when absent.
    public subscript(index: Int) -> LuaValue { index >= 1 && index <= values.count ? values[index - 1] : .nil }

    public func string(_ index: Int, _ parameter: String) throws -> String {
        guard case let .string(text) = self[index] else { throw mistake(index, parameter, "a string") }
        return text
    }

    public func number(_ index: Int, _ parameter: String) throws -> Double {
        guard let number = self[index].number else { throw mistake(index, parameter, "a number") }
        return number
    }

    public func integer(_ index: Int, _ parameter: String) throws -> Int {
        switch self[index] {
        case let .integer(value): return Int(value)
        case let .number(value) where value.rounded() == value && abs(value) < 9e15: return Int(value)
        default: throw mistake(index, parameter, "an integer")
        }
    }

    /// A number that must be finite and inside `range`: out of it, the call answers
    /// `nil, { code = "invalid_argument", message = }` naming the argument and the value.
    public func number(_ index: Int, _ parameter: String, in range: ClosedRange<Double>) throws -> Double {
        try LuaChecked.number(try number(index, parameter), "\(call): argument \(index) (\(parameter))", in: range)
    }

    /// A whole number inside `range` (NaN, fractions, ±2^63 and the like answer `invalid_argument`).
    public func integer(_ index: Int, _ parameter: String, in range: ClosedRange<Int64>) throws -> Int64 {
        if let whole = try LuaChecked.integer(self[index], "\(call): argument \(index) (\(parameter))", in: range) { return whole }
        throw mistake(index, parameter, "an integer")
    }

    public func bool(_ index: Int, _ parameter: String) throws -> Bool {
        guard case let .bool(flag) = self[index] else { throw mistake(index, parameter, "a boolean") }
        return flag
    }

    public func table(_ index: Int, _ parameter: String) throws -> LuaValue {
        guard case .table = self[index] else { throw mistake(index, parameter, "a table") }
        return self[index]
    }

    /// `nil` when the argument is absent or nil, else it must be what `read` accepts.
    public func optional<T>(_ index: Int, _ read: (Int, String) throws -> T, _ parameter: String) throws -> T? {
        if case .nil = self[index] { return nil }
        return try read(index, parameter)
    }

    func mistake(_ index: Int, _ parameter: String, _ expected: String) -> LuaArgumentError {
        LuaArgumentError("\(call): argument \(index) (\(parameter)) must be \(expected), got \(self[index].typeName)")
    }
}

extension LuaValue {
    /// Lua's name of the value's type.
    var typeName: String {
        switch self {
        case .nil: return "nil"
        case .bool: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        }
    }
}
