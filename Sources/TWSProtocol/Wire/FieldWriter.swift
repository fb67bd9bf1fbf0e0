/// Writes NUL-terminated fields into a byte array.
public struct FieldWriter: FieldCoder {
    public let serverVersion: Int
    public let style: NumberStyle
    public var bytes: [UInt8]
    /// The message being written, for error messages.
    public var message: StaticString

    public init(serverVersion: Int, style: NumberStyle, message: StaticString = "message", capacity: Int = 64) {
        self.serverVersion = serverVersion
        self.style = style
        self.message = message
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    public var isDecoding: Bool { false }

    @inline(__always)
    private mutating func terminate() { bytes.append(0) }

    private var unsetDouble: String {
        style == .python ? "1.7976931348623157e+308" : "1.7976931348623157E308"
    }

    public mutating func int(_ value: inout Int, _ field: StaticString) throws {
        NumberFormatting.append(Int64(value), to: &bytes)
        terminate()
    }

    public mutating func int(_ value: inout Int?, _ field: StaticString, unset: Unset) throws {
        if let value {
            NumberFormatting.append(Int64(value), to: &bytes)
        } else if unset == .sentinel {
            bytes.append(contentsOf: "2147483647".utf8)
        }
        terminate()
    }

    public mutating func int64(_ value: inout Int64, _ field: StaticString) throws {
        NumberFormatting.append(value, to: &bytes)
        terminate()
    }

    public mutating func double(_ value: inout Double, _ field: StaticString) throws {
        NumberFormatting.append(value, style: style, to: &bytes)
        terminate()
    }

    public mutating func double(_ value: inout Double?, _ field: StaticString, unset: Unset) throws {
        if let value {
            NumberFormatting.append(value, style: style, to: &bytes)
        } else if unset == .sentinel {
            bytes.append(contentsOf: unsetDouble.utf8)
        }
        terminate()
    }

    public mutating func number(_ value: inout Double, _ field: StaticString) throws {
        if style == .python, value.rounded() == value, abs(value) < 1e15 {
            NumberFormatting.append(Int64(value), to: &bytes)
        } else {
            NumberFormatting.append(value, style: style, to: &bytes)
        }
        terminate()
    }

    public mutating func bool(_ value: inout Bool, _ field: StaticString) throws {
        bytes.append(value ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        terminate()
    }

    public mutating func bool(_ value: inout Bool?, _ field: StaticString) throws {
        if let value { bytes.append(value ? UInt8(ascii: "1") : UInt8(ascii: "0")) }
        terminate()
    }

    public mutating func decimal(_ value: inout TWSDecimal?, _ field: StaticString) throws {
        value?.append(to: &bytes)
        terminate()
    }

    public mutating func string(_ value: inout String, _ field: StaticString) throws {
        switch style {
        case .python:
            // IB's client refuses anything but printable ASCII, TAB, LF and CR (its error 579).
            for scalar in value.utf8 where !(scalar >= 0x20 && scalar < 0x7F) && scalar != 9 && scalar != 10 && scalar != 13 {
                throw TWSProtocolError.invalidValue(
                    message: "\(message)", field: "\(field)",
                    reason: "contains a character TWS does not accept (only printable ASCII): \(value.debugDescription)")
            }
            bytes.append(contentsOf: value.utf8)
        case .java:
            // TWS escapes everything outside ASCII as \uXXXX (UTF-16 units) since version 153.
            // A backslash is escaped too (\u005c): a reader undoes every \uXXXX, so text that
            // merely looks like an escape (a client's "\ud800" echoed in an error) must not
            // reach it as one, or the client reads a lone surrogate and cannot decode the message.
            for unit in value.utf16 {
                if unit < 0x80 && unit != 0 && unit != 0x5C {
                    bytes.append(UInt8(unit))
                } else {
                    bytes.append(contentsOf: "\\u".utf8)
                    let hex = Array("0123456789abcdef".utf8)
                    for shift in stride(from: 12, through: 0, by: -4) {
                        bytes.append(hex[Int((unit >> UInt16(shift)) & 0xF)])
                    }
                }
            }
        }
        terminate()
    }

    public mutating func fixed(_ literal: String, _ field: StaticString) throws {
        bytes.append(contentsOf: literal.utf8)
        terminate()
    }
}
