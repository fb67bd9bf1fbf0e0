import Testing
@testable import TWSProtocol

/// Bad bytes give a typed error naming the message and the field; nothing traps.
@Suite("Bad input")
struct BadInputTests {
    private func decode(_ fields: [String], version: Int = 200) throws -> ServerMessage {
        try ServerMessage.decode(payload: Array(fields.map { $0 + "\u{0}" }.joined().utf8), serverVersion: version)
    }

    @Test("a missing field names the message and the field")
    func missingField() {
        #expect(throws: TWSProtocolError.missingField(message: "tickPrice", field: "tickType")) {
            try decode(["1", "6", "1001"])
        }
        #expect(throws: TWSProtocolError.missingField(message: "message id", field: "msgId")) {
            try ServerMessage.decode(payload: [], serverVersion: 200)
        }
    }

    @Test("a non-numeric int names the field and shows the text")
    func nonNumeric() {
        #expect(throws: TWSProtocolError.invalidNumber(message: "tickPrice", field: "reqId", text: "10x1")) {
            try decode(["1", "6", "10x1", "1", "187.25", "300", "0"])
        }
        #expect(throws: TWSProtocolError.invalidNumber(message: "tickPrice", field: "price", text: "nan")) {
            try decode(["1", "6", "1001", "1", "nan", "300", "0"])
        }
        #expect(throws: TWSProtocolError.invalidNumber(message: "tickPrice", field: "size", text: "3 00")) {
            try decode(["1", "6", "1001", "1", "187.25", "3 00", "0"])
        }
        #expect(throws: TWSProtocolError.invalidNumber(message: "message id", field: "msgId", text: "abc")) {
            try decode(["abc"])
        }
        #expect(throws: TWSProtocolError.invalidNumber(message: "nextValidId", field: "orderId", text: "99999999999999999999")) {
            try decode(["9", "1", "99999999999999999999"])
        }
    }

    @Test("an unknown message id is a typed error")
    func unknownID() {
        #expect(throws: TWSProtocolError.unknownMessageID(direction: "server", id: 999)) { try decode(["999", "1"]) }
        #expect(throws: TWSProtocolError.unknownMessageID(direction: "request", id: 12345)) {
            try ClientRequest.decode(payload: Array("12345\u{0}".utf8), serverVersion: 200)
        }
    }

    @Test("invalid UTF-8 names the field")
    func invalidUTF8() {
        let payload = Array("46\u{0}6\u{0}1001\u{0}45\u{0}".utf8) + [0xFF, 0xFE, 0]
        #expect(throws: TWSProtocolError.invalidUTF8(message: "tickString", field: "value")) {
            try ServerMessage.decode(payload: payload, serverVersion: 200)
        }
        // An escape that makes a lone surrogate is not text either.
        #expect(throws: TWSProtocolError.invalidUTF8(message: "tickString", field: "value")) {
            try decode(["46", "6", "1001", "45", "\\ud83d"])
        }
    }

    @Test("impossible list counts are refused before they allocate")
    func impossibleCounts() {
        #expect(throws: TWSProtocolError.self) { try decode(["17", "2002", "-1"]) }
        #expect(throws: TWSProtocolError.self) { try decode(["17", "2002", "999999999"]) }
    }

    @Test("a gateway refuses a request with fields after its layout")
    func trailingRequestFields() {
        #expect(throws: TWSProtocolError.unexpectedTrailingFields(message: "reqCurrentTime", count: 2)) {
            try ClientRequest.decode(payload: Array("49\u{0}1\u{0}x\u{0}y\u{0}".utf8), serverVersion: 200)
        }
    }

    @Test("a client tolerates extra trailing fields from a newer server")
    func trailingMessageFields() throws {
        #expect(try decode(["9", "1", "42", "extra"]) == .nextValidId(NextValidId(orderId: 42)))
    }

    @Test("a message that does not exist at the negotiated version is refused")
    func tooNew() {
        #expect(throws: TWSProtocolError.notSupportedAtVersion(message: "historicalDataEnd", serverVersion: 195)) {
            try decode(["108", "1", "a", "b"], version: 195)
        }
        #expect(throws: TWSProtocolError.notSupportedAtVersion(message: "reqCurrentTimeInMillis", serverVersion: 196)) {
            try ClientRequest.reqCurrentTimeInMillis(ReqCurrentTimeInMillis()).payload(serverVersion: 196)
        }
    }

    @Test("frames: too long, truncated, split anywhere")
    func frames() throws {
        var splitter = FrameSplitter()
        splitter.append([0x01, 0x00, 0x00, 0x00])
        #expect(throws: TWSProtocolError.frameTooLong(length: 0x0100_0000)) { try splitter.next() }

        var partial = FrameSplitter()
        partial.append(Framing.frame(Array("9\u{0}1\u{0}1\u{0}".utf8)).dropLast(2))
        #expect(try partial.next() == nil)
        #expect(throws: TWSProtocolError.truncatedFrame(expected: 6, available: 4)) { try partial.finish() }

        // Byte by byte, two frames come out whole and in order.
        let stream = Framing.frame(Array("9\u{0}1\u{0}1\u{0}".utf8)) + Framing.frame(Array("49\u{0}1\u{0}1763910901\u{0}".utf8))
        var drip = FrameSplitter()
        var frames: [[UInt8]] = []
        for byte in stream {
            drip.append([byte])
            while let frame = try drip.next() { frames.append(frame) }
        }
        #expect(frames.count == 2)
        #expect(try ServerMessage.decode(payload: frames[1], serverVersion: 200) == .currentTime(CurrentTime(time: 1_763_910_901)))
        try drip.finish()
    }

    @Test("random bytes never trap (seeded, 20,000 inputs)")
    func randomBytes() {
        var generator = SplitMix64(seed: 0x5EED)
        let alphabet = Array("0123456789-.E\u{0}\u{0}\u{0}abc\\u".utf8) + [0xFF, 0x80]
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 64)
            var payload: [UInt8] = []
            let id = [1, 2, 3, 4, 5, 9, 10, 11, 17, 46, 59, 61, 99][Int(generator.next() % 13)]
            payload.append(contentsOf: Array("\(id)\u{0}".utf8))
            for _ in 0..<length { payload.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
            _ = try? ServerMessage.decode(payload: payload, serverVersion: 157 + Int(generator.next() % 44))
            _ = try? ClientRequest.decode(payload: payload, serverVersion: 157 + Int(generator.next() % 44))
        }
    }
}

/// A small deterministic generator, so random-input tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
