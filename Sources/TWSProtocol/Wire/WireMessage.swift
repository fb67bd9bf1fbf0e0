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
