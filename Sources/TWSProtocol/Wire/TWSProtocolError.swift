/// Everything that can go wrong while reading or writing TWS bytes.
///
/// Each case names what was being decoded (the message) and, where there is one, the field,
/// so a log line says exactly which part of which frame was bad.
public enum TWSProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame ended before this field.
    case missingField(message: String, field: String)
    /// A field that must hold a number held something else.
    case invalidNumber(message: String, field: String, text: String)
    /// A string field was not valid UTF-8 (after `\uXXXX` un-escaping).
    case invalidUTF8(message: String, field: String)
    /// A value that cannot be put on the wire (e.g. a non-ASCII character in an outgoing string).
    case invalidValue(message: String, field: String, reason: String)
    /// A message id this codec does not know.
    case unknownMessageID(direction: String, id: Int)
    /// A request that a server must refuse at this negotiated version.
    case notSupportedAtVersion(message: String, serverVersion: Int)
    /// The fields of a request went on after its layout ended.
    case unexpectedTrailingFields(message: String, count: Int)
    /// A length prefix over the 16 MiB − 1 limit IB's client enforces (error 507).
    case frameTooLong(length: Int)
    /// A frame with no payload at all.
    case emptyFrame
    /// The stream ended in the middle of a frame.
    case truncatedFrame(expected: Int, available: Int)
    /// The connection handshake was not what the protocol says.
    case badHandshake(String)
    /// The server answered with a version this codec cannot speak.
    case unsupportedServerVersion(Int, reason: String)

    public var description: String {
        switch self {
        case let .missingField(message, field):
            return "\(message): field '\(field)' is missing (the frame ended early)"
        case let .invalidNumber(message, field, text):
            // At most 80 bytes of the field, escaped: a client's 100 KB field is neither
            // logged nor sent back (error 320) whole.
            return "\(message): field '\(field)' should be a number, got '\(ShownText.shown(text, limit: 80))'"
        case let .invalidUTF8(message, field):
            return "\(message): field '\(field)' is not valid UTF-8"
        case let .invalidValue(message, field, reason):
            return "\(message): field '\(field)' \(reason)"
        case let .unknownMessageID(direction, id):
            return "unknown \(direction) message id \(id)"
        case let .notSupportedAtVersion(message, version):
            return "\(message) does not exist at server version \(version)"
        case let .unexpectedTrailingFields(message, count):
            return "\(message): \(count) unexpected field(s) after the end of the message"
        case let .frameTooLong(length):
            return "frame length \(length) exceeds the maximum of \(Framing.maxPayloadLength) bytes"
        case .emptyFrame:
            return "empty frame (length 0)"
        case let .truncatedFrame(expected, available):
            return "truncated frame: \(expected) payload bytes announced, \(available) received"
        case let .badHandshake(reason):
            return "bad handshake: \(reason)"
        case let .unsupportedServerVersion(version, reason):
            return "server version \(version) is not supported: \(reason)"
        }
    }
}
