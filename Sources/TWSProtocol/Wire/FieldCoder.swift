/// How an unset value is spelled when it is written.
///
/// IB's client leaves most unset numbers empty but writes the literal sentinel
/// (`2147483647`, `1.7976931348623157e+308`) in a few fields; TWS writes the sentinel almost
/// everywhere. Each field states which one it uses, so both match byte for byte.
public enum Unset: Sendable {
    case empty
    case sentinel
}

/// One description of a message layout serves both directions.
///
/// A message type writes its layout once, as a sequence of calls on a `FieldCoder`; the
/// `FieldWriter` conformer puts the values on the wire, the `FieldReader` conformer fills
/// them in from the wire. The version checks live in that single layout, so encoder and
/// decoder cannot drift apart. (They can still both be wrong, which is why the conformance
/// suite checks them against IB's own client.)
public protocol FieldCoder {
    /// The negotiated server version that selects the layout.
    var serverVersion: Int { get }
    /// True while reading: layouts use it where a count decides what follows.
    var isDecoding: Bool { get }

    mutating func int(_ value: inout Int, _ field: StaticString) throws
    /// `nil` is IB's unset integer (2147483647).
    mutating func int(_ value: inout Int?, _ field: StaticString, unset: Unset) throws
    mutating func int64(_ value: inout Int64, _ field: StaticString) throws
    mutating func double(_ value: inout Double, _ field: StaticString) throws
    /// `nil` is IB's unset double (DBL_MAX).
    mutating func double(_ value: inout Double?, _ field: StaticString, unset: Unset) throws
    /// A number ibapi keeps as a Python int until a fraction is set, so `0` not `0.0`.
    mutating func number(_ value: inout Double, _ field: StaticString) throws
    mutating func bool(_ value: inout Bool, _ field: StaticString) throws
    /// A tri-state flag: `nil` is written as an empty field.
    mutating func bool(_ value: inout Bool?, _ field: StaticString) throws
    /// `nil` is an empty field (or any of IB's unset spellings when reading).
    mutating func decimal(_ value: inout TWSDecimal?, _ field: StaticString) throws
    mutating func string(_ value: inout String, _ field: StaticString) throws
    /// A field whose value the writer fixes and the reader skips: per-message version
    /// numbers and deprecated fields.
    mutating func fixed(_ literal: String, _ field: StaticString) throws
}

/// A value with a layout of its own, used inside messages (legs, tag/value pairs, bars...).
public protocol FieldCodable {
    init()
    mutating func code<Coder: FieldCoder>(_ coder: inout Coder) throws
}

extension FieldCoder {
    /// A count followed by that many elements.
    public mutating func list<Element: FieldCodable>(_ items: inout [Element], _ field: StaticString) throws {
        var count = items.count
        try int(&count, field)
        if isDecoding {
            guard count >= 0 && count <= 1_000_000 else {
                throw TWSProtocolError.invalidValue(
                    message: "list", field: "\(field)", reason: "has an impossible count \(count)")
            }
            items = []
            items.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                var item = Element()
                try item.code(&self)
                items.append(item)
            }
        } else {
            for index in items.indices { try items[index].code(&self) }
        }
    }

    /// A per-message version field: written as `value`, skipped when read.
    public mutating func version(_ value: Int) throws {
        try fixed(String(value), "version")
    }

    /// The serverVersion is at least `threshold`.
    @inline(__always)
    public func atLeast(_ threshold: Int) -> Bool { serverVersion >= threshold }
}
