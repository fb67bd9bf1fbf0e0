/// The three messages a quote is built from, decoded on their own.
///
/// Market data is most of what TWS sends, so a client reads these first, without going
/// through `ServerMessage` (a large enum whose copies cost more than the tick itself), and
/// decodes everything else with `ServerMessage.decode`.
public enum MarketTick: Sendable, Equatable {
    case price(TickPrice)
    case size(TickSize)
    case string(TickString)

    public var reqId: Int {
        switch self {
        case let .price(t): return t.reqId
        case let .size(t): return t.reqId
        case let .string(t): return t.reqId
        }
    }

    /// The same tick as a general message.
    public var message: ServerMessage {
        switch self {
        case let .price(t): return .tickPrice(t)
        case let .size(t): return .tickSize(t)
        case let .string(t): return .tickString(t)
        }
    }

    /// Decodes `payload` when it is a tickPrice, tickSize or tickString; nil for any other message.
    public static func decode(payload: UnsafeRawBufferPointer, serverVersion: Int) throws -> MarketTick? {
        // The id is the first field: "1", "2" or "46", then NUL. Peek at it before any parsing.
        guard payload.count >= 2 else { return nil }
        let first = payload[0], second = payload[1]
        let id: Int
        if second == 0 && first == UInt8(ascii: "1") {
            id = TickPrice.id
        } else if second == 0 && first == UInt8(ascii: "2") {
            id = TickSize.id
        } else if first == UInt8(ascii: "4") && second == UInt8(ascii: "6") && payload.count >= 3 && payload[2] == 0 {
            id = TickString.id
        } else {
            return nil
        }
        var reader = FieldReader(bytes: payload, serverVersion: serverVersion, message: "message id")
        _ = try readMessageID(&reader)
        switch id {
        case TickPrice.id: return .price(try TickPrice.decodeBody(&reader))
        case TickSize.id: return .size(try TickSize.decodeBody(&reader))
        default: return .string(try TickString.decodeBody(&reader))
        }
    }
}
