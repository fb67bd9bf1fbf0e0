import NIOCore
import TWSProtocol

/// Cuts length-prefixed TWS frames out of the inbound byte stream.
///
/// Emits each payload as a `ByteBuffer` slice (no copy); decoding into a typed message is
/// left to the next step, which knows the negotiated server version. As a single-step
/// decoder it also runs inside a handler through `NIOSingleStepByteToMessageProcessor`
/// (the client does this: no pipeline hop per frame).
public struct TWSFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) <= Framing.maxPayloadLength else {
            throw TWSProtocolError.frameTooLong(length: Int(length))
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))!
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 {
            let announced = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map(Int.init) ?? 4
            let available = max(0, buffer.readableBytes - 4)
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            throw TWSProtocolError.truncatedFrame(expected: announced, available: available)
        }
        return nil
    }
}

/// Prefixes each outbound payload with its length.
public struct TWSFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard data.readableBytes <= Framing.maxPayloadLength else {
            throw TWSProtocolError.frameTooLong(length: data.readableBytes)
        }
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}

extension ServerMessage {
    /// Decodes a frame payload held in a `ByteBuffer`, reading the bytes in place.
    public static func decode(payload: ByteBuffer, serverVersion: Int) throws -> ServerMessage {
        try payload.withUnsafeReadableBytes { try decode(payload: $0, serverVersion: serverVersion) }
    }
}

extension ClientRequest {
    /// Decodes a frame payload held in a `ByteBuffer`, reading the bytes in place.
    public static func decode(payload: ByteBuffer, serverVersion: Int) throws -> ClientRequest {
        try payload.withUnsafeReadableBytes { try decode(payload: $0, serverVersion: serverVersion) }
    }
}
