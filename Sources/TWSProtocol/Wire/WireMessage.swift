/// A request or message type: its id, its name and its layout.
public protocol WireMessage: FieldCodable, Sendable, Equatable {
    /// The message id, the first field of the frame.
    static var id: Int { get }
    /// IB's name for it, used in errors and logs.
    static var name: StaticString { get }
    /// The first server version at which it exists (0: all we speak).
    static var minimumServerVersion: Int { get }
}

extension WireMessage {
    public static var minimumServerVersion: Int { 0 }

    /// The frame payload (id and fields, no length prefix).
    public func payload(serverVersion: Int, style: NumberStyle) throws -> [UInt8] {
        guard serverVersion >= Self.minimumServerVersion else {
            throw TWSProtocolError.notSupportedAtVersion(message: "\(Self.name)", serverVersion: serverVersion)
        }
        var writer = FieldWriter(serverVersion: serverVersion, style: style, message: Self.name)
        var id = Self.id
        try writer.int(&id, "msgId")
        var copy = self
        try copy.code(&writer)
        return writer.bytes
    }

    /// Appends the whole frame (length prefix, id, fields) to `buffer`, so a sender batching
    /// many messages (a gateway's ticks) fills one buffer instead of allocating per message.
    /// On error nothing is appended.
    public func appendFrame(to buffer: inout [UInt8], serverVersion: Int, style: NumberStyle) throws {
        guard serverVersion >= Self.minimumServerVersion else {
            throw TWSProtocolError.notSupportedAtVersion(message: "\(Self.name)", serverVersion: serverVersion)
        }
        var writer = FieldWriter(serverVersion: serverVersion, style: style, message: Self.name, capacity: 0)
        // The writer takes the buffer's storage for the duration (a swap, not a copy).
        swap(&writer.bytes, &buffer)
        defer { swap(&writer.bytes, &buffer) }
        let start = writer.bytes.count
        do {
            for _ in 0..<4 { writer.bytes.append(0) }
            var id = Self.id
            try writer.int(&id, "msgId")
            var copy = self
            try copy.code(&writer)
            let length = writer.bytes.count - start - 4
            guard length <= Framing.maxPayloadLength else { throw TWSProtocolError.frameTooLong(length: length) }
            writer.bytes[start] = UInt8(truncatingIfNeeded: length >> 24)
            writer.bytes[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
            writer.bytes[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
            writer.bytes[start + 3] = UInt8(truncatingIfNeeded: length)
        } catch {
            writer.bytes.removeSubrange(start...)
            throw error
        }
    }

    /// Reads the fields after the id.
    static func decodeBody(_ reader: inout FieldReader) throws -> Self {
        guard reader.serverVersion >= minimumServerVersion else {
            throw TWSProtocolError.notSupportedAtVersion(message: "\(name)", serverVersion: reader.serverVersion)
        }
        reader.message = name
        var value = Self()
        try value.code(&reader)
        return value
    }
}

/// Reads the message id, the first field of every frame.
func readMessageID(_ reader: inout FieldReader) throws -> Int {
    var id = 0
    try reader.int(&id, "msgId")
    return id
}
