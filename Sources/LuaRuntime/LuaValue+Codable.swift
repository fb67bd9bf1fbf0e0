import Foundation

/// The journaled form of a Lua value (the `store` table): tagged JSON, so integer keys stay
/// integers and strings stay strings.
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
        case let .number(d): try c.encode(Tag.f, forKey: .t); try c.encode(d, forKey: .v)
        case let .string(s): try c.encode(Tag.s, forKey: .t); try c.encode(s, forKey: .v)
        case let .table(table):
            try c.encode(Tag.t, forKey: .t)
            let pairs = table.map { Pair(k: $0.key.value, v: $0.value) }.sorted { "\($0.k)" < "\($1.k)" }
            try c.encode(pairs, forKey: .v)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Tag.self, forKey: .t) {
        case .n: self = .nil
        case .b: self = .bool(try c.decode(Bool.self, forKey: .v))
        case .i: self = .integer(try c.decode(Int64.self, forKey: .v))
        case .f: self = .number(try c.decode(Double.self, forKey: .v))
        case .s: self = .string(try c.decode(String.self, forKey: .v))
        case .t:
            var table: [LuaKey: LuaValue] = [:]
            for pair in try c.decode([Pair].self, forKey: .v) {
                if let key = pair.k.asKey { table[key] = pair.v }
            }
            self = .table(table)
        }
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
    var value: LuaValue {
        switch self {
        case let .string(s): return .string(s)
        case let .integer(i): return .integer(i)
        case let .number(d): return .number(d)
        case let .bool(b): return .bool(b)
        }
    }
}
