import Foundation

/// A JSON value written as the API answers: keys in the order given, numbers as the shortest
/// text that reads back to the same Double (`187.86`, never `187.85999999999999`), `NaN` and
/// infinities as `null`, and `<`, `>`, `&` escaped so an answer pasted into a page stays text.
public indirect enum JSONText: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([JSONText])
    case object([(String, JSONText)])

    public static func == (lhs: JSONText, rhs: JSONText) -> Bool { lhs.text == rhs.text }

    /// `nil` as null.
    public static func number(_ value: Double?) -> JSONText { value.map { .number($0) } ?? .null }
    public static func string(_ value: String?) -> JSONText { value.map { .string($0) } ?? .null }
    public static func int(_ value: Int) -> JSONText { .integer(Int64(value)) }

    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .integer(value): out += String(value)
        case let .number(value): out += Self.number(text: value)
        case let .string(value): Self.quote(value, into: &out)
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case let .object(fields):
            out += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    /// The number to 12 significant digits (what a sum of prices carries beyond that is the
    /// arithmetic's noise: 187.36, not 187.35999999999999), then Swift's shortest round-trip
    /// text; whole numbers without `.0`, and `-0` as `0`.
    static func number(text value: Double) -> String {
        guard value.isFinite else { return "null" }
        let clean = Double(String(format: "%.12g", value)) ?? value
        if clean == 0 { return "0" }
        if clean == clean.rounded(), abs(clean) < 1e15 { return String(Int64(clean)) }
        return "\(clean)"
    }

    static func quote(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
