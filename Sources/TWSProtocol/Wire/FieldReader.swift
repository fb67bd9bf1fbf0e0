#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads NUL-terminated fields straight from the received bytes.
///
/// Numbers are parsed in place (no `String` per field), so a tick decodes without touching
/// the heap. Only string fields allocate, because they become `String`s.
/// The reader borrows the buffer: use it inside `withUnsafeBytes`, never store it.
public struct FieldReader: FieldCoder {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    public let serverVersion: Int
    /// The message being read, for error messages.
    public var message: StaticString

    public init(bytes: UnsafeRawBufferPointer, serverVersion: Int, message: StaticString = "message") {
        self.bytes = bytes
        self.position = 0
        self.serverVersion = serverVersion
        self.message = message
    }

    public var isDecoding: Bool { true }

    public var isAtEnd: Bool { position >= bytes.count }

    /// Fields left after the current position (a trailing field without its NUL counts too).
    public var remainingFieldCount: Int {
        var count = 0
        var index = position
        while index < bytes.count {
            if bytes[index] == 0 { count += 1 }
            index += 1
        }
        if bytes.count > 0, position < bytes.count, bytes[bytes.count - 1] != 0 { count += 1 }
        return count
    }

    /// The byte range of the next field, which is consumed.
    @inline(__always)
    public mutating func nextField(_ field: StaticString) throws -> Range<Int> {
        guard position < bytes.count else {
            throw TWSProtocolError.missingField(message: "\(message)", field: "\(field)")
        }
        let start = position
        let base = bytes.baseAddress!
        let end: Int
        if let hit = memchr(base + start, 0, bytes.count - start) {
            end = base.distance(to: UnsafeRawPointer(hit))
            position = end + 1
        } else {
            // A last field without its terminator: accept it, as IB's reader does.
            end = bytes.count
            position = end
        }
        return start..<end
    }

    /// Skips one field.
    public mutating func skip(_ field: StaticString) throws { _ = try nextField(field) }

    @inline(__always)
    private func isEmpty(_ range: Range<Int>) -> Bool { range.isEmpty }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func numberError(_ field: StaticString, _ range: Range<Int>) -> TWSProtocolError {
        .invalidNumber(message: "\(message)", field: "\(field)", text: text(range))
    }

    /// Parses a decimal integer in place; nil when the bytes are not one.
    @inline(__always)
    private func parseInteger(_ range: Range<Int>) -> Int64? {
        var index = range.lowerBound
        guard index < range.upperBound else { return nil }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        guard index < range.upperBound else { return nil }
        var value: Int64 = 0
        while index < range.upperBound {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = negative ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
            index += 1
        }
        return value
    }

    /// True for IB's "unset" spellings of a double.
    private func isUnsetDouble(_ range: Range<Int>) -> Bool {
        let count = range.count
        guard count == 22 || count == 23 else { return false }
        return matches(range, "1.7976931348623157E308") || matches(range, "1.7976931348623157e+308")
    }

    private func matches(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] {
            return false
        }
        return true
    }

    /// `[-]digits[.digits]` with at most 15 significant digits: the integer they spell and the
    /// power of ten it is divided by are both exact doubles, so one division gives the correctly
    /// rounded value, the same as `strtod` (Clinger's fast path) at a fraction of its cost.
    /// Prices and sizes are all of this form; anything else returns nil and goes to `strtod`.
    private func shortDecimal(_ range: Range<Int>) -> Double? {
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var significand: UInt64 = 0
        var significantDigits = 0
        var fractionDigits = 0
        var sawDigit = false
        var sawPoint = false
        while index < range.upperBound {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if significantDigits > 0 || byte != UInt8(ascii: "0") { significantDigits += 1 }
                guard significantDigits <= 15 else { return nil }
                significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
                sawDigit = true
                if sawPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                return nil
            }
            index += 1
        }
        guard sawDigit, fractionDigits < Self.powersOfTen.count else { return nil }
        let value = Double(significand) / Self.powersOfTen[fractionDigits]
        return negative ? -value : value
    }

    /// 10^0 … 10^22, every one an exact double.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Parses a double in place. The field is NUL-terminated in the frame (or ends the
    /// frame), so `strtod` can read it without a copy; we only check that it consumed
    /// exactly the field and that the field looks like a number (no "nan", hex or spaces).
    private func parseDouble(_ range: Range<Int>) -> Double? {
        guard !range.isEmpty else { return nil }
        let first = bytes[range.lowerBound]
        let numeric = (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
            || first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
        if !numeric {
            if matches(range, "Infinity") || matches(range, "Infinite") { return .infinity }
            return nil
        }
        if matches(range, "-Infinity") || matches(range, "-Infinite") { return -.infinity }
        // Reject what strtod would accept but a number field never holds.
        for index in range {
            let byte = bytes[index]
            let allowed = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            if !allowed { return nil }
        }
        if let value = shortDecimal(range) { return value }
        if range.upperBound < bytes.count {
            // bytes[upperBound] is the NUL terminator.
            var end: UnsafeMutablePointer<CChar>?
            let start = (bytes.baseAddress! + range.lowerBound).assumingMemoryBound(to: CChar.self)
            let value = strtod(start, &end)
            guard let end, UnsafeRawPointer(end) == bytes.baseAddress! + range.upperBound else { return nil }
            return value
        }
        // The unterminated last field of a frame: copy it to terminate it.
        var copy = Array(UnsafeRawBufferPointer(rebasing: bytes[range]))
        copy.append(0)
        return copy.withUnsafeBufferPointer { buffer -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let start = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let value = strtod(start, &end)
            guard let end, UnsafeRawPointer(end) == UnsafeRawPointer(buffer.baseAddress! + range.count) else { return nil }
            return value
        }
    }

    public mutating func int(_ value: inout Int, _ field: StaticString) throws {
        let range = try nextField(field)
        if range.isEmpty {
            value = 0
            return
        }
        guard let parsed = parseInteger(range), let narrowed = Int(exactly: parsed) else {
            throw numberError(field, range)
        }
        value = narrowed
    }

    public mutating func int(_ value: inout Int?, _ field: StaticString, unset: Unset) throws {
        let range = try nextField(field)
        if range.isEmpty || matches(range, "2147483647") || matches(range, "9223372036854775807") {
            value = nil
            return
        }
        guard let parsed = parseInteger(range), let narrowed = Int(exactly: parsed) else {
            throw numberError(field, range)
        }
        value = narrowed
    }

    public mutating func int64(_ value: inout Int64, _ field: StaticString) throws {
        let range = try nextField(field)
        if range.isEmpty {
            value = 0
            return
        }
        guard let parsed = parseInteger(range) else { throw numberError(field, range) }
        value = parsed
    }

    public mutating func double(_ value: inout Double, _ field: StaticString) throws {
        let range = try nextField(field)
        if range.isEmpty {
            value = 0
            return
        }
        guard let parsed = parseDouble(range) else { throw numberError(field, range) }
        value = parsed
    }

    public mutating func double(_ value: inout Double?, _ field: StaticString, unset: Unset) throws {
        let range = try nextField(field)
        if range.isEmpty || isUnsetDouble(range) {
            value = nil
            return
        }
        guard let parsed = parseDouble(range) else { throw numberError(field, range) }
        value = parsed
    }

    public mutating func number(_ value: inout Double, _ field: StaticString) throws {
        try double(&value, field)
    }

    public mutating func bool(_ value: inout Bool, _ field: StaticString) throws {
        let range = try nextField(field)
        value = try parseBool(range, field) ?? false
    }

    public mutating func bool(_ value: inout Bool?, _ field: StaticString) throws {
        let range = try nextField(field)
        value = try parseBool(range, field)
    }

    private func parseBool(_ range: Range<Int>, _ field: StaticString) throws -> Bool? {
        if range.isEmpty || matches(range, "2147483647") { return nil }
        if matches(range, "true") || matches(range, "True") { return true }
        if matches(range, "false") || matches(range, "False") { return false }
        if let parsed = parseInteger(range) { return parsed != 0 }
        guard let parsed = parseDouble(range) else { throw numberError(field, range) }
        return parsed != 0
    }

    public mutating func decimal(_ value: inout TWSDecimal?, _ field: StaticString) throws {
        let range = try nextField(field)
        if range.isEmpty || isUnsetDouble(range) || matches(range, "2147483647")
            || matches(range, "9223372036854775807") || matches(range, "-9223372036854775808")
            || matches(range, "170141183460469231731687303715884105727")
        {
            value = nil
            return
        }
        guard let parsed = TWSDecimal.parse(bytes, from: range.lowerBound, to: range.upperBound) else {
            throw numberError(field, range)
        }
        value = parsed
    }

    public mutating func string(_ value: inout String, _ field: StaticString) throws {
        let range = try nextField(field)
        value = try decodeString(range, field)
    }

    /// UTF-8 validated, with TWS's `\uXXXX` escapes (server version ≥ 153) undone.
    private func decodeString(_ range: Range<Int>, _ field: StaticString) throws -> String {
        if range.isEmpty { return "" }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard raw.contains(UInt8(ascii: "\\")) else {
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw TWSProtocolError.invalidUTF8(message: "\(message)", field: "\(field)")
            }
            return text
        }
        var units: [UInt16] = []
        var index = 0
        var plain: [UInt8] = []
        func flushPlain() throws {
            guard !plain.isEmpty else { return }
            guard let text = String(validating: plain, as: UTF8.self) else {
                throw TWSProtocolError.invalidUTF8(message: "\(message)", field: "\(field)")
            }
            units.append(contentsOf: text.utf16)
            plain.removeAll(keepingCapacity: true)
        }
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\\"), index + 5 < raw.count + 0, raw[index + 1] == UInt8(ascii: "u"),
               let unit = Self.hex4(raw, index + 2)
            {
                try flushPlain()
                units.append(unit)
                index += 6
            } else {
                plain.append(raw[index])
                index += 1
            }
        }
        try flushPlain()
        // Lone surrogates cannot be a String: treat them as invalid text.
        var result = ""
        var iterator = units.makeIterator()
        var decoder = UTF16()
        loop: while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): result.unicodeScalars.append(scalar)
            case .emptyInput: break loop
            case .error: throw TWSProtocolError.invalidUTF8(message: "\(message)", field: "\(field)")
            }
        }
        return result
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, _ start: Int) -> UInt16? {
        guard start + 4 <= raw.count else { return nil }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = raw[start + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    public mutating func fixed(_ literal: String, _ field: StaticString) throws {
        _ = try nextField(field)
    }
}
