/// A decimal quantity as IB sends it since server version 163 (sizes, order quantities,
/// positions, volumes): an integer significand scaled by a power of ten.
///
/// Parsing and printing work on bytes without allocating, so a tick carrying a size can be
/// decoded with no heap traffic. Unset is modelled as `nil` (`TWSDecimal?`) by the codec.
public struct TWSDecimal: Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    /// The value is `significand × 10^-scale`.
    public private(set) var significand: Int64
    public private(set) var scale: UInt8

    public init(significand: Int64, scale: UInt8) {
        self.significand = significand
        self.scale = scale
        normalize()
    }

    public init(_ value: Int) { self.init(significand: Int64(value), scale: 0) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(floatLiteral value: Double) { self = TWSDecimal(approximating: value) }

    /// The nearest decimal with at most 10 fraction digits (quantities never need more).
    public init(approximating value: Double) {
        let text = value.description
        var bytes = Array(text.utf8)
        bytes.append(0)
        self = bytes.withUnsafeBytes { TWSDecimal.parse($0, from: 0, to: text.utf8.count) } ?? TWSDecimal(0)
    }

    public var doubleValue: Double {
        var value = Double(significand)
        for _ in 0..<Int(scale) { value /= 10 }
        return value
    }

    /// Strips trailing zeros of the fraction so that equal values compare and print alike.
    private mutating func normalize() {
        while scale > 0 && significand % 10 == 0 {
            significand /= 10
            scale -= 1
        }
    }

    public static func < (lhs: TWSDecimal, rhs: TWSDecimal) -> Bool {
        lhs.doubleValue < rhs.doubleValue
    }

    public static func + (lhs: TWSDecimal, rhs: TWSDecimal) -> TWSDecimal {
        let scale = max(lhs.scale, rhs.scale)
        return TWSDecimal(significand: lhs.scaled(to: scale) + rhs.scaled(to: scale), scale: scale)
    }

    public static func - (lhs: TWSDecimal, rhs: TWSDecimal) -> TWSDecimal {
        lhs + TWSDecimal(significand: -rhs.significand, scale: rhs.scale)
    }

    public static prefix func - (value: TWSDecimal) -> TWSDecimal {
        TWSDecimal(significand: -value.significand, scale: value.scale)
    }

    private func scaled(to target: UInt8) -> Int64 {
        var value = significand
        for _ in scale..<target { value *= 10 }
        return value
    }

    /// Plain notation, as Python's `str(Decimal)` prints a normalized quantity: `100`, `0.5`.
    public var description: String {
        var out: [UInt8] = []
        append(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func append(to out: inout [UInt8]) {
        if scale == 0 {
            // Whole quantities (sizes, volumes): the common case, printed as an integer.
            NumberFormatting.append(significand, to: &out)
            return
        }
        if significand < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = significand.magnitude
        let integer = magnitude / Self.powerOfTen(scale)
        var fraction = magnitude % Self.powerOfTen(scale)
        NumberFormatting.append(Int64(integer), to: &out)
        out.append(UInt8(ascii: "."))
        // The fraction with its leading zeros: scale digits, most significant first.
        let start = out.count
        for _ in 0..<Int(scale) { out.append(UInt8(ascii: "0")) }
        var index = out.count - 1
        while index >= start {
            out[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
            index -= 1
        }
    }

    private static func powerOfTen(_ exponent: UInt8) -> UInt64 {
        var value: UInt64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Parses `[-]digits[.digits][E[+-]digits]` in `bytes[start..<end]`; nil if it is not one.
    static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> TWSDecimal? {
        var index = start
        guard index < end else { return nil }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var significand: Int64 = 0
        var scale = 0
        var sawDigit = false
        var sawPoint = false
        var droppedDigits = 0
        while index < end {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                let (times, overflow1) = significand.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if overflow1 || overflow2 {
                    // Too many digits for 64 bits: keep the magnitude, drop precision.
                    if !sawPoint { droppedDigits += 1 }
                } else {
                    significand = plus
                    if sawPoint { scale += 1 }
                }
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            index += 1
        }
        guard sawDigit else { return nil }
        var exponent = droppedDigits
        if index < end && (bytes[index] == UInt8(ascii: "E") || bytes[index] == UInt8(ascii: "e")) {
            index += 1
            var expNegative = false
            if index < end && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
                expNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var value = 0
            var sawExpDigit = false
            while index < end, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = min(value * 10 + Int(bytes[index] - UInt8(ascii: "0")), 10_000)
                sawExpDigit = true
                index += 1
            }
            guard sawExpDigit else { return nil }
            exponent += expNegative ? -value : value
        }
        guard index == end else { return nil }
        scale -= exponent
        while scale < 0 {
            let (times, overflow) = significand.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            significand = times
            scale += 1
        }
        while scale > 18 {
            significand /= 10
            scale -= 1
        }
        return TWSDecimal(significand: negative ? -significand : significand, scale: UInt8(scale))
    }
}
