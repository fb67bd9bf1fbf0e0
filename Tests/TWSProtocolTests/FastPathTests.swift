import Foundation
import Testing
@testable import TWSProtocol

/// The market data fast paths (reading ticks without `ServerMessage`, framing into a shared
/// buffer, printing numbers without digit arrays) must say exactly what the general code says.
@Suite("Fast paths agree with the general codec")
struct FastPathTests {
    @Test("MarketTick reads exactly the tick messages, with ServerMessage's values, at every version")
    func marketTickMatchesServerMessage() throws {
        var ticks = 0
        for golden in GoldenVectors.messageCases {
            for version in [golden.versions.lowerBound, golden.versions.upperBound] {
                let general = try ServerMessage.decode(payload: golden.payload, serverVersion: version)
                let fast = try golden.payload.withUnsafeBytes { try MarketTick.decode(payload: $0, serverVersion: version) }
                switch general {
                case .tickPrice, .tickSize, .tickString:
                    #expect(fast?.message == general, "\(golden.name) @\(version)")
                    ticks += 1
                default:
                    #expect(fast == nil, "\(golden.name) @\(version) is not a tick but MarketTick read it")
                }
            }
        }
        #expect(ticks > 0)
        // Ids that share a first digit with a tick id are not ticks: 4 (error), 45, 10, 21.
        for id in ["4", "45", "10", "21", "460"] {
            let payload = Array(id.utf8) + [0, UInt8(ascii: "6"), 0, UInt8(ascii: "1"), 0]
            #expect(try payload.withUnsafeBytes { try MarketTick.decode(payload: $0, serverVersion: 200) } == nil, "id \(id)")
        }
    }

    @Test("a truncated tick is an error naming the message and field, not a wrong tick")
    func truncatedTick() {
        let payload = Array("1\u{0}6\u{0}1001\u{0}".utf8)
        #expect(throws: TWSProtocolError.self) {
            _ = try payload.withUnsafeBytes { try MarketTick.decode(payload: $0, serverVersion: 200) }
        }
    }

    @Test("appendFrame writes what frame(payload) writes, message after message")
    func appendFrameMatchesFrame() throws {
        let price = TickPrice(reqId: 7, tickType: 1, price: 187.25, size: TWSDecimal(300), attrMask: 1)
        let size = TickSize(reqId: 7, tickType: 0, size: TWSDecimal(significand: 125, scale: 1))
        let string = TickString(reqId: 7, tickType: 45, value: "1763900000")
        var buffer: [UInt8] = [9, 9]
        try price.appendFrame(to: &buffer, serverVersion: 200, style: .java)
        try size.appendFrame(to: &buffer, serverVersion: 200, style: .java)
        try string.appendFrame(to: &buffer, serverVersion: 157, style: .java)
        let expected = [9, 9] + Framing.frame(try price.payload(serverVersion: 200, style: .java))
            + Framing.frame(try size.payload(serverVersion: 200, style: .java))
            + Framing.frame(try string.payload(serverVersion: 157, style: .java))
        #expect(buffer == expected)
    }

    @Test("appendFrame refuses a message the version lacks and appends nothing")
    func appendFrameRefusal() {
        var buffer: [UInt8] = [1, 2, 3]
        #expect(throws: TWSProtocolError.self) {
            try CurrentTimeInMillis(timeInMillis: 5).appendFrame(to: &buffer, serverVersion: 196, style: .java)
        }
        #expect(buffer == [1, 2, 3])
    }

    @Test("doubles printed from description equal doubles laid out from their digits, both styles")
    func doubleFastPath() {
        var random = SplitMix64(seed: 42)
        var values: [Double] = [0.001, 0.0015, 0.01, 0.1, 1, 1.5, 10, 99.99, 187.25, 1000, 123_456.789, 9_999_999.99,
                                9_999_999.999_999_998, 1e-3 + 1e-19, 4503.599627370497]
        for _ in 0..<20_000 {
            let exponent = Double(random.next() % 10) - 3  // 1e-3 ..< 1e7
            let mantissa = 1 + Double(random.next() % 1_000_000_000) / 1_000_000_000
            values.append(mantissa * pow10(exponent))
            values.append(Double(random.next() % 10_000_000) / 100)  // prices in cents
        }
        for value in values where value >= 1e-3 && value < 1e7 {
            for style in [NumberStyle.java, .python] {
                for signed in [value, -value] {
                    var fast: [UInt8] = []
                    var general: [UInt8] = []
                    NumberFormatting.append(signed, style: style, to: &fast)
                    NumberFormatting.appendByDigits(signed, style: style, to: &general)
                    #expect(fast == general, "\(signed) \(style): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: general, as: UTF8.self))")
                }
            }
        }
    }

    @Test("short decimals read without strtod give exactly strtod's doubles")
    func shortDecimalParsing() throws {
        var random = SplitMix64(seed: 11)
        var texts = ["0", "-0", "0.0", "187.25", "-187.25", "0.001", "1e-3", "123456789012345", "1234567890123456",
                     "0.1", "0.2", "0.3", "9007199254740993", "0.000000000000000000001", "0.0000000000000000000001",
                     "99999999999999.9", "1.7976931348623157E308", "5.", ".5", "100.00000000000001"]
        for _ in 0..<20_000 {
            let integer = random.next() % 10_000_000
            let fraction = random.next() % 100_000_000
            let places = Int(random.next() % 9)
            var text = "\(integer)"
            if places > 0 {
                let digits = String(String(fraction).reversed()).padding(toLength: places, withPad: "0", startingAt: 0)
                text += "." + digits
            }
            texts.append(random.next() % 2 == 0 ? text : "-" + text)
        }
        for text in texts {
            let payload = Array(text.utf8) + [0]
            var value = 0.0
            try payload.withUnsafeBytes { raw in
                var reader = FieldReader(bytes: raw, serverVersion: 200)
                try reader.double(&value, "price")
            }
            let expected = text.withCString { strtod($0, nil) }
            #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) vs strtod \(expected)")
        }
    }

    @Test("decimals print in plain notation and read back to themselves")
    func decimalPrinting() {
        let cases: [(TWSDecimal, String)] = [
            (TWSDecimal(0), "0"), (TWSDecimal(100), "100"), (TWSDecimal(-42), "-42"),
            (TWSDecimal(significand: 5, scale: 1), "0.5"), (TWSDecimal(significand: -5, scale: 1), "-0.5"),
            (TWSDecimal(significand: 1, scale: 4), "0.0001"), (TWSDecimal(significand: 123_456, scale: 3), "123.456"),
            (TWSDecimal(significand: 100_001, scale: 2), "1000.01"), (TWSDecimal(significand: -7, scale: 10), "-0.0000000007"),
        ]
        for (value, text) in cases {
            #expect(value.description == text)
        }
        var random = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            let significand = Int64(bitPattern: random.next()) % 1_000_000_000_000
            let value = TWSDecimal(significand: significand, scale: UInt8(random.next() % 11))
            var bytes: [UInt8] = []
            value.append(to: &bytes)
            let parsed = bytes.withUnsafeBytes { TWSDecimal.parse($0, from: 0, to: bytes.count) }
            #expect(parsed == value, "\(value)")
        }
    }
}

private func pow10(_ exponent: Double) -> Double {
    var value = 1.0
    if exponent >= 0 {
        for _ in 0..<Int(exponent) { value *= 10 }
    } else {
        for _ in 0..<Int(-exponent) { value /= 10 }
    }
    return value
}
