import NIOCore
import NIOEmbedded
import Testing
import TWSProtocol
import TWSWire

@Suite("Handshake and NIO framing")
struct HandshakeTests {
    @Test("the client hello is API\\0 and one unterminated frame, as protocol.md §1.1 shows")
    func clientHello() throws {
        let bytes = Handshake.ClientHello().encode()
        #expect(bytes == [0x41, 0x50, 0x49, 0x00, 0x00, 0x00, 0x00, 0x09] + Array("v100..200".utf8))
        let withOptions = try Handshake.ClientHello.decode(payload: Array("v100..226 +PACEAPI".utf8))
        #expect(withOptions == Handshake.ClientHello(versions: 100...226, options: "+PACEAPI"))
        #expect(throws: TWSProtocolError.self) { try Handshake.ClientHello.decode(payload: Array("hello".utf8)) }
        #expect(throws: TWSProtocolError.self) { try Handshake.ClientHello.decode(payload: Array("v200..100".utf8)) }
    }

    @Test("the server hello keeps a multi-word time zone")
    func serverHello() throws {
        let hello = Handshake.ServerHello(serverVersion: 200, connectionTime: "20250625 09:26:58 Central European Standard Time")
        let frame = hello.encode()
        let decoded = try Handshake.ServerHello.decode(payload: Array(frame.dropFirst(4)))
        #expect(decoded == hello)
        #expect(decoded?.timeZone == "Central European Standard Time")
        // Frames that are not the hello (news before the version) are skipped, as ibapi does.
        #expect(try Handshake.ServerHello.decode(payload: Array("1\u{0}2\u{0}3\u{0}".utf8)) == nil)
        #expect(throws: TWSProtocolError.self) { try Handshake.ServerHello.decode(payload: Array("x\u{0}t\u{0}".utf8)) }
    }

    @Test("negotiation and the versions we accept")
    func negotiation() throws {
        #expect(Handshake.negotiate(client: 100...226) == 200)
        #expect(Handshake.negotiate(client: 157...178) == 178)
        try Handshake.validate(serverVersion: 157)
        try Handshake.validate(serverVersion: 188)  // the RFQ window is implemented
        try Handshake.validate(serverVersion: 200)
        #expect(throws: TWSProtocolError.self) { try Handshake.validate(serverVersion: 156) }
        #expect(throws: TWSProtocolError.self) { try Handshake.validate(serverVersion: 201) }
    }

    @Test("startApi bytes match protocol.md's worked example")
    func startApi() throws {
        let frame = try ClientRequest.startAPI(StartAPI(clientId: 7)).frame(serverVersion: 200)
        #expect(frame == [0, 0, 0, 8] + Array("71\u{0}2\u{0}7\u{0}\u{0}".utf8))
    }

    @Test("the NIO decoder cuts frames from a byte stream split anywhere")
    func nioFrames() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(TWSFrameDecoder()))
        let stream = Framing.frame(Array("1\u{0}6\u{0}1001\u{0}1\u{0}187.25\u{0}300\u{0}0\u{0}".utf8))
            + Framing.frame(Array("9\u{0}1\u{0}5\u{0}".utf8))
        for byte in stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        let first = try #require(try channel.readInbound(as: ByteBuffer.self))
        let second = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(try ServerMessage.decode(payload: first, serverVersion: 200)
            == .tickPrice(TickPrice(reqId: 1001, tickType: 1, price: 187.25, size: 300)))
        #expect(try ServerMessage.decode(payload: second, serverVersion: 200) == .nextValidId(NextValidId(orderId: 5)))
        #expect(try channel.finish().isClean)
    }

    @Test("the NIO decoder rejects an oversized length and a stream cut mid-frame")
    func nioBadFrames() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(TWSFrameDecoder()))
        #expect(throws: TWSProtocolError.frameTooLong(length: 0x0100_0000)) {
            try channel.writeInbound(ByteBuffer(bytes: [0x01, 0x00, 0x00, 0x00, 0x41]))
        }
        _ = try? channel.finish()

        let cut = EmbeddedChannel(handler: ByteToMessageHandler(TWSFrameDecoder()))
        try cut.writeInbound(ByteBuffer(bytes: [0, 0, 0, 10, 0x39, 0]))
        #expect(throws: TWSProtocolError.truncatedFrame(expected: 10, available: 2)) { try cut.finish() }
    }

    @Test("the NIO encoder prefixes the length")
    func nioEncoder() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(TWSFrameEncoder()))
        try channel.writeOutbound(ByteBuffer(bytes: Array("49\u{0}1\u{0}".utf8)))
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(out.readableBytesView) == [0, 0, 0, 5] + Array("49\u{0}1\u{0}".utf8))
        _ = try channel.finish()
    }
}
