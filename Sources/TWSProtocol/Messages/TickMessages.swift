// Market data messages (server → client).

/// A price tick. For bid/ask/last (and their delayed forms) it also carries the size, which
/// TWS then repeats in a separate tickSize: handlers must treat sizes idempotently.
public struct TickPrice: WireMessage {
    public static let id = 1
    public static let name: StaticString = "tickPrice"
    public var reqId = 0
    public var tickType = 0
    public var price = 0.0
    public var size: TWSDecimal? = nil
    /// bit 0 canAutoExecute, bit 1 pastLimit, bit 2 preOpen.
    public var attrMask = 0

    public init() {}
    public init(reqId: Int, tickType: Int, price: Double, size: TWSDecimal?, attrMask: Int = 0) {
        self.reqId = reqId
        self.tickType = tickType
        self.price = price
        self.size = size
        self.attrMask = attrMask
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(6)
        try c.int(&reqId, "reqId")
        try c.int(&tickType, "tickType")
        try c.double(&price, "price")
        try c.decimal(&size, "size")
        try c.int(&attrMask, "attrMask")
    }
}

public struct TickSize: WireMessage {
    public static let id = 2
    public static let name: StaticString = "tickSize"
    public var reqId = 0
    public var tickType = 0
    public var size: TWSDecimal? = nil

    public init() {}
    public init(reqId: Int, tickType: Int, size: TWSDecimal?) {
        self.reqId = reqId
        self.tickType = tickType
        self.size = size
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(6)
        try c.int(&reqId, "reqId")
        try c.int(&tickType, "tickType")
        try c.decimal(&size, "size")
    }
}

public struct TickString: WireMessage {
    public static let id = 46
    public static let name: StaticString = "tickString"
    public var reqId = 0
    public var tickType = 0
    public var value = ""

    public init() {}
    public init(reqId: Int, tickType: Int, value: String) {
        self.reqId = reqId
        self.tickType = tickType
        self.value = value
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(6)
        try c.int(&reqId, "reqId")
        try c.int(&tickType, "tickType")
        try c.string(&value, "value")
    }
}

public struct TickGeneric: WireMessage {
    public static let id = 45
    public static let name: StaticString = "tickGeneric"
    public var reqId = 0
    public var tickType = 0
    public var value = 0.0

    public init() {}
    public init(reqId: Int, tickType: Int, value: Double) {
        self.reqId = reqId
        self.tickType = tickType
        self.value = value
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(6)
        try c.int(&reqId, "reqId")
        try c.int(&tickType, "tickType")
        try c.double(&value, "value")
    }
}

public struct TickReqParams: WireMessage {
    public static let id = 81
    public static let name: StaticString = "tickReqParams"
    public var reqId = 0
    public var minTick = 0.0
    public var bboExchange = ""
    public var snapshotPermissions = 0

    public init() {}
    public init(reqId: Int, minTick: Double, bboExchange: String, snapshotPermissions: Int) {
        self.reqId = reqId
        self.minTick = minTick
        self.bboExchange = bboExchange
        self.snapshotPermissions = snapshotPermissions
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.double(&minTick, "minTick")
        try c.string(&bboExchange, "bboExchange")
        try c.int(&snapshotPermissions, "snapshotPermissions")
    }
}

public struct MarketDataType: WireMessage {
    public static let id = 58
    public static let name: StaticString = "marketDataType"
    public var reqId = 0
    public var marketDataType = 1

    public init() {}
    public init(reqId: Int, marketDataType: Int) {
        self.reqId = reqId
        self.marketDataType = marketDataType
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.int(&marketDataType, "marketDataType")
    }
}

/// A message whose only field after its version is a request id (the `...End` markers).
public protocol RequestIDMessage: WireMessage {
    var reqId: Int { get set }
}

extension RequestIDMessage {
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
    }
}

public struct TickSnapshotEnd: RequestIDMessage {
    public static let id = 57
    public static let name: StaticString = "tickSnapshotEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

/// One tick-by-tick event; which fields are present depends on `tickType`.
public struct TickByTick: WireMessage {
    public static let id = 99
    public static let name: StaticString = "tickByTick"
    public var reqId = 0
    /// 1 Last, 2 AllLast, 3 BidAsk, 4 MidPoint.
    public var tickType = 1
    public var time: Int64 = 0
    public var price = 0.0
    public var size: TWSDecimal? = nil
    public var mask = 0
    public var exchange = ""
    public var specialConditions = ""
    public var bidPrice = 0.0
    public var askPrice = 0.0
    public var bidSize: TWSDecimal? = nil
    public var askSize: TWSDecimal? = nil
    public var midPoint = 0.0

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.int(&tickType, "tickType")
        try c.int64(&time, "time")
        switch tickType {
        case 1, 2:
            try c.double(&price, "price")
            try c.decimal(&size, "size")
            try c.int(&mask, "mask")
            try c.string(&exchange, "exchange")
            try c.string(&specialConditions, "specialConditions")
        case 3:
            try c.double(&bidPrice, "bidPrice")
            try c.double(&askPrice, "askPrice")
            try c.decimal(&bidSize, "bidSize")
            try c.decimal(&askSize, "askSize")
            try c.int(&mask, "mask")
        case 4:
            try c.double(&midPoint, "midPoint")
        default:
            break
        }
    }
}
