/// How doubles are spelled on the wire.
///
/// IB's Python client writes `str(float)` (`187.5`, `180.0`, `1e-07`,
/// `1.7976931348623157e+308`); TWS, a Java program, writes `Double.toString`
/// (`187.25`, `0.0`, `1.0E-4`, `1.7976931348623157E308`). A client encodes requests the
/// Python way, so its bytes match IB's own client; a gateway encodes messages the Java way,
/// so it looks like TWS.
public enum NumberStyle: Sendable {
    case python
    case java
}

enum NumberFormatting {
    /// The shortest round-trip digits of `value` and the decimal exponent of the first digit:
    /// 187.25 → ("18725", 2). Swift's `description` already prints the shortest digits.
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(abs(value).description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var pointPosition = mantissa.count
        for (offset, byte) in mantissa.enumerated() {
            if byte == UInt8(ascii: ".") { pointPosition = offset } else { digits.append(byte) }
        }
        // Decimal exponent of the first digit before stripping leading zeros.
        var firstExponent = pointPosition - 1 + exponent
        while digits.count > 1 && digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            firstExponent -= 1
        }
        while digits.count > 1 && digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, firstExponent)
    }

    static func append(_ value: Double, style: NumberStyle, to out: inout [UInt8]) {
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e7 {
            // Where Java, Python and Swift all print positionally, Swift's `description` is
            // already the text (the shortest round-trip digits, at least one fraction digit):
            // prices and sizes take this path without building digit arrays. A test checks it
            // agrees with `appendByDigits`.
            if value < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: magnitude.description.utf8)
            return
        }
        appendByDigits(value, style: style, to: &out)
    }

    /// Any value, laid out from its shortest digits in the style's notation.
    static func appendByDigits(_ value: Double, style: NumberStyle, to out: inout [UInt8]) {
        if value.isInfinite {
            out.append(contentsOf: value < 0 ? Array("-Infinity".utf8) : Array("Infinity".utf8))
            return
        }
        if value.isNaN {
            out.append(contentsOf: Array("NaN".utf8))
            return
        }
        if value == 0 {
            out.append(contentsOf: value.sign == .minus ? Array("-0.0".utf8) : Array("0.0".utf8))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let (digits, exponent) = shortestDigits(value)
        switch style {
        case .python:
            // Python's repr: positional for 1e-4 <= |x| < 1e16, else d[.ddd]e±XX.
            if exponent >= -4 && exponent < 16 {
                appendPositional(digits, exponent, to: &out)
            } else {
                out.append(digits[0])
                if digits.count > 1 {
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: digits[1...])
                }
                out.append(UInt8(ascii: "e"))
                out.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
                let expDigits = Array(String(abs(exponent)).utf8)
                if expDigits.count < 2 { out.append(UInt8(ascii: "0")) }
                out.append(contentsOf: expDigits)
            }
        case .java:
            // Java's Double.toString: positional for 1e-3 <= |x| < 1e7, else d.dddEx.
            if exponent >= -3 && exponent < 7 {
                appendPositional(digits, exponent, to: &out)
            } else {
                out.append(digits[0])
                out.append(UInt8(ascii: "."))
                if digits.count > 1 { out.append(contentsOf: digits[1...]) } else { out.append(UInt8(ascii: "0")) }
                out.append(UInt8(ascii: "E"))
                out.append(contentsOf: Array(String(exponent).utf8))
            }
        }
    }

    /// Writes digits with the point placed by `exponent`, always with at least one fraction digit.
    private static func appendPositional(_ digits: [UInt8], _ exponent: Int, to out: inout [UInt8]) {
        if exponent < 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            for _ in 0..<(-exponent - 1) { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: digits)
            return
        }
        let integerCount = exponent + 1
        for index in 0..<integerCount {
            out.append(index < digits.count ? digits[index] : UInt8(ascii: "0"))
        }
        out.append(UInt8(ascii: "."))
        if digits.count > integerCount {
            out.append(contentsOf: digits[integerCount...])
        } else {
            out.append(UInt8(ascii: "0"))
        }
    }

    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var buffer: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &buffer) { raw in
            while magnitude > 0 {
                raw[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(raw[index]) }
        }
    }
}
