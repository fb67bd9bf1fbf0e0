import Foundation

/// The journaled form of a Lua value (the `store` table): tagged JSON, so integer keys stay
/// integers and strings stay strings. Non-finite numbers are the strings "nan", "inf" and
/// "-inf" (JSON has no such numbers). Table entries are written in `LuaKey.journalOrder`,
/// so the same value always gives the same bytes.
extension LuaValue: Codable {
    private enum Tag: String, Codable { case n, b, i, f, s, t }
    private struct Pair: Codable {
        var k: LuaValue
        var v: LuaValue
    }
    private enum CodingKeys: String, CodingKey { case t, v }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .nil: try c.encode(Tag.n, forKey: .t)
        case let .bool(b): try c.encode(Tag.b, forKey: .t); try c.encode(b, forKey: .v)
        case let .integer(i): try c.encode(Tag.i, forKey: .t); try c.encode(i, forKey: .v)
        case let .number(d):
            try c.encode(Tag.f, forKey: .t)
            if let text = Self.nonFiniteText(d) { try c.encode(text, forKey: .v) } else { try c.encode(d, forKey: .v) }
        case let .string(s): try c.encode(Tag.s, forKey: .t); try c.encode(s, forKey: .v)
        case let .table(table):
            try c.encode(Tag.t, forKey: .t)
            let pairs = table.sorted { LuaKey.journalOrder($0.key, $1.key) }.map { Pair(k: $0.key.value, v: $0.value) }
            try c.encode(pairs, forKey: .v)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Tag.self, forKey: .t) {
        case .n: self = .nil
        case .b: self = .bool(try c.decode(Bool.self, forKey: .v))
        case .i: self = .integer(try c.decode(Int64.self, forKey: .v))
        case .f:
            if let number = try? c.decode(Double.self, forKey: .v) {
                self = .number(number)
            } else {
                let text = try c.decode(String.self, forKey: .v)
                guard let number = Self.nonFinite[text] else {
                    throw DecodingError.dataCorruptedError(forKey: .v, in: c, debugDescription: "not a number: \(text)")
                }
                self = .number(number)
            }
        case .s: self = .string(try c.decode(String.self, forKey: .v))
        case .t:
            var table: [LuaKey: LuaValue] = [:]
            for pair in try c.decode([Pair].self, forKey: .v) {
                if let key = pair.k.asKey { table[key] = pair.v }
            }
            self = .table(table)
        }
    }

    static let nonFinite: [String: Double] = ["nan": .nan, "inf": .infinity, "-inf": -.infinity]

    static func nonFiniteText(_ number: Double) -> String? {
        guard !number.isFinite else { return nil }
        return number.isNaN ? "nan" : (number < 0 ? "-inf" : "inf")
    }

    var asKey: LuaKey? {
        switch self {
        case let .string(s): return .string(s)
        case let .integer(i): return .integer(i)
        case let .number(d): return .number(d)
        case let .bool(b): return .bool(b)
        default: return nil
        }
    }
}

extension LuaKey {
    /// The order of a table's entries in the journal: booleans, integers, numbers, strings
    /// (by their bytes), each in its natural order.
    static func journalOrder(_ a: LuaKey, _ b: LuaKey) -> Bool {
        switch (a, b) {
        case let (.bool(x), .bool(y)): return !x && y
        case let (.integer(x), .integer(y)): return x < y
        case let (.number(x), .number(y)): return x.isNaN || y.isNaN ? !x.isNaN && y.isNaN : x < y
        case let (.string(x), .string(y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        default: return a.rank < b.rank
        }
    }

    private var rank: Int {
        switch self {
        case .bool: return 0
        case .integer: return 1
        case .number: return 2
        case .string: return 3
        }
    }

    var value: LuaValue {
        switch self {
        case let .string(s): return .string(s)
        case let .integer(i): return .integer(i)
        case let .number(d): return .number(d)
        case let .bool(b): return .bool(b)
        }
    }
}

extension LuaValue {
    /// The journaled form (what `Codable` writes and reads), written directly: no larger than
    /// `limit` bytes (0: no limit), refused with an error naming where it passed it
    /// (`path` names the value) before more is built. The same value gives the same bytes.
    public func journaled(limit: Int, path: String) throws -> Data {
        var writer = JournalWriter(limit: limit)
        do {
            try writer.write(self)
        } catch let failure as ValueReader.Failure {
            let place = path + failure.keys.reversed().map(\.pathComponent).joined()
            throw LuaValueError(message: "value larger than the memory cap (\(LuaState.describe(bytes: limit))) once journaled, at \(place)")
        }
        return Data(writer.bytes)
    }
}

/// Writes the tagged JSON of `LuaValue`'s `Codable` form into bytes, checking the size as it goes.
private struct JournalWriter {
    let limit: Int
    var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private func check() throws {
        if limit > 0 && bytes.count > limit { throw ValueReader.Failure(stop: .bytes) }
    }

    mutating func write(_ value: LuaValue) throws {
        switch value {
        case .nil: append(#"{"t":"n"}"#)
        case let .bool(b): append(b ? #"{"t":"b","v":true}"# : #"{"t":"b","v":false}"#)
        case let .integer(i):
            append(#"{"t":"i","v":"#)
            bytes.append(contentsOf: String(i).utf8)
            append("}")
        case let .number(d):
            append(#"{"t":"f","v":"#)
            if let text = LuaValue.nonFiniteText(d) {
                try write(string: text)
            } else {
                bytes.append(contentsOf: "\(d)".utf8)
            }
            append("}")
        case let .string(s):
            append(#"{"t":"s","v":"#)
            try write(string: s)
            append("}")
        case let .table(table):
            append(#"{"t":"t","v":["#)
            for (index, entry) in table.sorted(by: { LuaKey.journalOrder($0.key, $1.key) }).enumerated() {
                if index > 0 { append(",") }
                do {
                    append(#"{"k":"#)
                    try write(entry.key.value)
                    append(#","v":"#)
                    try write(entry.value)
                    append("}")
                } catch var failure as ValueReader.Failure {
                    failure.keys.append(entry.key)
                    throw failure
                }
            }
            append("]}")
        }
        try check()
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n` or `\u001b`; the rest as is
    /// (the text is valid UTF-8: it was decoded from Lua's bytes with replacement).
    private mutating func write(string: String) throws {
        append("\"")
        var written = 0
        for byte in string.utf8 {
            switch byte {
            case 0x22: append(#"\""#)
            case 0x5C: append(#"\\"#)
            case 0x0A: append(#"\n"#)
            case 0x0D: append(#"\r"#)
            case 0x09: append(#"\t"#)
            case 0..<0x20:
                append(#"\u00"#)
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
            written += 1
            if written & 0xFFFF == 0 { try check() }  // a huge string is refused before it is all written
        }
        append("\"")
        try check()
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}
