/// Length-prefixed frames: a big-endian UInt32 length, then that many payload bytes.
public enum Framing {
    /// IB's client treats a longer frame as a protocol error (its error 507).
    public static let maxPayloadLength = 0xFF_FFFF

    /// Prefixes `payload` with its length.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 4)
        appendLength(payload.count, to: &out)
        out.append(contentsOf: payload)
        return out
    }

    public static func appendLength(_ length: Int, to out: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: length)
        out.append(UInt8(value >> 24))
        out.append(UInt8((value >> 16) & 0xFF))
        out.append(UInt8((value >> 8) & 0xFF))
        out.append(UInt8(value & 0xFF))
    }

    /// Reads the length prefix at `offset`, or nil when fewer than 4 bytes are there.
    /// Throws for a length IB would reject, so a garbage stream fails fast instead of
    /// waiting for 4 GiB that never come.
    public static func payloadLength(in bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws -> Int? {
        guard bytes.count - offset >= 4 else { return nil }
        let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        guard length <= maxPayloadLength else { throw TWSProtocolError.frameTooLong(length: length) }
        return length
    }

    /// The next complete frame in `bytes` starting at `offset`: its payload range and the
    /// number of bytes it took. Nil when the frame is not complete yet.
    public static func nextFrame(in bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws -> (payload: Range<Int>, consumed: Int)? {
        guard let length = try payloadLength(in: bytes, at: offset) else { return nil }
        guard bytes.count - offset - 4 >= length else { return nil }
        let start = offset + 4
        return (start..<(start + length), length + 4)
    }
}

/// Cuts frames out of a byte stream that arrives in arbitrary pieces (no SwiftNIO needed:
/// the fuzzer and plain-socket tools use this; NIO code uses `TWSFrameDecoder`).
public struct FrameSplitter: Sendable {
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, or nil when more bytes are needed.
    public mutating func next() throws -> [UInt8]? {
        let found = try buffer.withUnsafeBytes { try Framing.nextFrame(in: $0, at: readIndex) }
        guard let found else {
            compact()
            return nil
        }
        let payload = Array(buffer[found.payload])
        readIndex += found.consumed
        return payload
    }

    /// Bytes received but not yet returned as a frame.
    public var pendingByteCount: Int { buffer.count - readIndex }

    /// Call when the stream ends: a partial frame left over is an error.
    public func finish() throws {
        guard pendingByteCount > 0 else { return }
        let expected = buffer.withUnsafeBytes { (try? Framing.payloadLength(in: $0, at: readIndex)) ?? nil } ?? 4
        throw TWSProtocolError.truncatedFrame(expected: expected, available: max(0, pendingByteCount - 4))
    }

    private mutating func compact() {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
