import Testing
@testable import TWSProtocol

@Suite("Field encodings of protocol.md §1.3")
struct FieldEncodingTests {
    private func written(_ style: NumberStyle, _ body: (inout FieldWriter) throws -> Void) rethrows -> String {
        var writer = FieldWriter(serverVersion: 200, style: style)
        try body(&writer)
        return String(decoding: writer.bytes.dropLast(), as: UTF8.self)
    }

    @Test("doubles are written as Python's str(float)", arguments: [
        (187.5, "187.5"), (180.0, "180.0"), (1e-07, "1e-07"), (1.5e-07, "1.5e-07"), (0.0001, "0.0001"), (0.00001, "1e-05"),
        (1234567.0, "1234567.0"), (1e15, "1000000000000000.0"), (1e16, "1e+16"), (-2.25, "-2.25"), (0.0, "0.0"),
        (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"), (Double.leastNonzeroMagnitude, "5e-324"), (0.1, "0.1"), (12.35, "12.35"),
    ])
    func pythonDoubles(_ value: Double, _ text: String) {
        var v = value
        #expect(written(.python) { try! $0.double(&v, "x") } == text)
    }

    @Test("doubles are written as Java's Double.toString", arguments: [
        (187.25, "187.25"), (0.0, "0.0"), (100.0, "100.0"), (1e7, "1.0E7"), (12345678.0, "1.2345678E7"), (0.001, "0.001"),
        (0.0001, "1.0E-4"), (1234567.0, "1234567.0"), (-0.5, "-0.5"), (Double.greatestFiniteMagnitude, "1.7976931348623157E308"),
    ])
    func javaDoubles(_ value: Double, _ text: String) {
        var v = value
        #expect(written(.java) { try! $0.double(&v, "x") } == text)
    }

    @Test("unset numbers: empty or the sentinel, as the field says")
    func unsetSpellings() throws {
        var none: Double? = nil
        var noInt: Int? = nil
        #expect(try written(.python) { try $0.double(&none, "x", unset: .empty) } == "")
        #expect(try written(.python) { try $0.double(&none, "x", unset: .sentinel) } == "1.7976931348623157e+308")
        #expect(try written(.java) { try $0.double(&none, "x", unset: .sentinel) } == "1.7976931348623157E308")
        #expect(try written(.python) { try $0.int(&noInt, "x", unset: .sentinel) } == "2147483647")
        #expect(try written(.python) { try $0.int(&noInt, "x", unset: .empty) } == "")
        var infinite: Double? = .infinity
        #expect(try written(.python) { try $0.double(&infinite, "x", unset: .empty) } == "Infinity")
        var whole = 0.0
        #expect(try written(.python) { try $0.number(&whole, "x") } == "0")
    }

    private func read<T>(_ text: String, version: Int = 200, _ body: (inout FieldReader) throws -> T) throws -> T {
        let bytes = Array(text.utf8) + [0]
        return try bytes.withUnsafeBytes { raw in
            var reader = FieldReader(bytes: raw, serverVersion: version, message: "test")
            return try body(&reader)
        }
    }

    @Test("every unset spelling reads as unset")
    func readsUnset() throws {
        for text in ["", "1.7976931348623157E308", "1.7976931348623157e+308"] {
            #expect(try read(text) { r -> Double? in var v: Double? = 1; try r.double(&v, "x", unset: .empty); return v } == nil)
        }
        for text in ["", "2147483647", "9223372036854775807"] {
            #expect(try read(text) { r -> Int? in var v: Int? = 1; try r.int(&v, "x", unset: .empty); return v } == nil)
        }
        for text in ["", "2147483647", "9223372036854775807", "-9223372036854775808", "1.7976931348623157E308"] {
            #expect(try read(text) { r -> TWSDecimal? in var v: TWSDecimal? = 1; try r.decimal(&v, "x"); return v } == nil)
        }
    }

    @Test("numbers in Java and Python spellings, exponents and infinity", arguments: [
        ("187.25", 187.25), ("0.0", 0.0), ("1e-07", 1e-07), ("1.0E-4", 0.0001), ("1.7E10", 1.7e10), ("-3", -3.0),
        ("Infinity", Double.infinity), ("Infinite", Double.infinity), ("-Infinity", -Double.infinity),
    ])
    func readsDoubles(_ text: String, _ value: Double) throws {
        #expect(try read(text) { r -> Double in var v = 0.0; try r.double(&v, "x"); return v } == value)
    }

    @Test("decimal quantities", arguments: [
        ("100", "100"), ("0.5", "0.5"), ("-1.25", "-1.25"), ("100.0", "100"), ("1E+2", "100"), ("0.0001", "0.0001"),
        ("12345678901.5", "12345678901.5"),
    ])
    func decimals(_ text: String, _ normalized: String) throws {
        let value = try read(text) { r -> TWSDecimal? in var v: TWSDecimal? = nil; try r.decimal(&v, "x"); return v }
        #expect(value?.description == normalized)
    }

    @Test("decimal arithmetic keeps exact quantities")
    func decimalArithmetic() {
        let a: TWSDecimal = 100
        let b = TWSDecimal(significand: 5, scale: 1)
        #expect((a + b).description == "100.5")
        #expect((a - b).description == "99.5")
        #expect((-b).description == "-0.5")
        #expect(TWSDecimal(approximating: 0.1).description == "0.1")
        #expect(b < a)
    }

    @Test("booleans: 1/0, empty, true/false")
    func booleans() throws {
        for (text, value) in [("1", true), ("0", false), ("", false), ("true", true), ("False", false), ("2", true)] {
            #expect(try read(text) { r -> Bool in var v = !value; try r.bool(&v, "x"); return v } == value)
        }
    }

    @Test("\\uXXXX escapes are undone on read and made on a gateway's write")
    func unicodeEscapes() throws {
        #expect(try read("caf\\u00e9 \\ud83d\\ude00") { r -> String in var v = ""; try r.string(&v, "x"); return v } == "café 😀")
        #expect(try read("C:\\path\\users") { r -> String in var v = ""; try r.string(&v, "x"); return v } == "C:\\path\\users")
        var text = "café 😀"
        #expect(try written(.java) { try $0.string(&text, "x") } == "caf\\u00e9 \\ud83d\\ude00")
    }

    @Test("a gateway's backslash goes out as \\u005c: text that looks like an escape reads back as written")
    func backslashEscaped() throws {
        var text = "bad '\\u0000\\ud800' C:\\x"
        let wire = try written(.java) { try $0.string(&text, "x") }
        #expect(wire == "bad '\\u005cu0000\\u005cud800' C:\\u005cx")
        #expect(try read(wire) { r -> String in var v = ""; try r.string(&v, "x"); return v } == text)
    }

    @Test("a client refuses non-ASCII text, as IB's client does (579)")
    func clientRefusesNonASCII() {
        var text = "café"
        #expect(throws: TWSProtocolError.invalidValue(message: "message", field: "symbol",
                                                      reason: "contains a character TWS does not accept (only printable ASCII): \"café\"")) {
            _ = try written(.python) { try $0.string(&text, "symbol") }
        }
    }

    @Test("tag/value lists are one field")
    func tagValues() {
        #expect(TagValue.joined([TagValue("a", "1"), TagValue("b", "x=y")]) == "a=1;b=x=y;")
        #expect(TagValue.split("a=1;b=x=y;") == [TagValue("a", "1"), TagValue("b", "x=y")])
    }
}
