// Bars: history, its live updates and 5-second real-time bars.

public struct Bar: Sendable, Hashable, FieldCodable {
    /// `YYYYMMDD`, `YYYYMMDD HH:MM:SS <zone>` or epoch seconds, as requested by formatDate.
    public var date = ""
    public var open = 0.0
    public var high = 0.0
    public var low = 0.0
    public var close = 0.0
    public var volume: TWSDecimal? = nil
    public var wap: TWSDecimal? = nil
    public var barCount = 0

    public init() {}
    public init(date: String, open: Double, high: Double, low: Double, close: Double,
                volume: TWSDecimal?, wap: TWSDecimal?, barCount: Int)
    {
        self.date = date
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.wap = wap
        self.barCount = barCount
    }

    /// The layout inside historicalData (17).
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&date, "bar.date")
        try c.double(&open, "bar.open")
        try c.double(&high, "bar.high")
        try c.double(&low, "bar.low")
        try c.double(&close, "bar.close")
        try c.decimal(&volume, "bar.volume")
        try c.decimal(&wap, "bar.wap")
        try c.int(&barCount, "bar.barCount")
    }
}

public struct HistoricalData: WireMessage {
    public static let id = 17
    public static let name: StaticString = "historicalData"
    public var reqId = 0
    /// Sent here only below version 196; from 196 on they travel in historicalDataEnd.
    public var startDate = ""
    public var endDate = ""
    public var bars: [Bar] = []

    public init() {}
    public init(reqId: Int, startDate: String, endDate: String, bars: [Bar]) {
        self.reqId = reqId
        self.startDate = startDate
        self.endDate = endDate
        self.bars = bars
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        if !c.atLeast(ServerVersion.historicalDataEnd) {
            try c.string(&startDate, "startDateStr")
            try c.string(&endDate, "endDateStr")
        }
        try c.list(&bars, "itemCount")
    }
}

public struct HistoricalDataEnd: WireMessage {
    public static let id = 108
    public static let name: StaticString = "historicalDataEnd"
    public static let minimumServerVersion = ServerVersion.historicalDataEnd
    public var reqId = 0
    public var startDate = ""
    public var endDate = ""

    public init() {}
    public init(reqId: Int, startDate: String, endDate: String) {
        self.reqId = reqId
        self.startDate = startDate
        self.endDate = endDate
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.string(&startDate, "startDateStr")
        try c.string(&endDate, "endDateStr")
    }
}

/// A keepUpToDate update: note the field order differs from historicalData.
public struct HistoricalDataUpdate: WireMessage {
    public static let id = 90
    public static let name: StaticString = "historicalDataUpdate"
    public var reqId = 0
    public var bar = Bar()

    public init() {}
    public init(reqId: Int, bar: Bar) {
        self.reqId = reqId
        self.bar = bar
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.int(&bar.barCount, "bar.barCount")
        try c.string(&bar.date, "bar.date")
        try c.double(&bar.open, "bar.open")
        try c.double(&bar.close, "bar.close")
        try c.double(&bar.high, "bar.high")
        try c.double(&bar.low, "bar.low")
        try c.decimal(&bar.wap, "bar.wap")
        try c.decimal(&bar.volume, "bar.volume")
    }
}

public struct RealTimeBar: WireMessage {
    public static let id = 50
    public static let name: StaticString = "realtimeBar"
    public var reqId = 0
    /// Bar start, epoch seconds.
    public var time: Int64 = 0
    public var open = 0.0
    public var high = 0.0
    public var low = 0.0
    public var close = 0.0
    public var volume: TWSDecimal? = nil
    public var wap: TWSDecimal? = nil
    public var count = 0

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(3)
        try c.int(&reqId, "reqId")
        try c.int64(&time, "time")
        try c.double(&open, "open")
        try c.double(&high, "high")
        try c.double(&low, "low")
        try c.double(&close, "close")
        try c.decimal(&volume, "volume")
        try c.decimal(&wap, "wap")
        try c.int(&count, "count")
    }
}

/// The answer to reqHeadTimeStamp: the earliest data point, as text or epoch seconds.
public struct HeadTimestamp: WireMessage {
    public static let id = 88
    public static let name: StaticString = "headTimestamp"
    public var reqId = 0
    public var headTimestamp = ""

    public init() {}
    public init(reqId: Int, headTimestamp: String) {
        self.reqId = reqId
        self.headTimestamp = headTimestamp
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.string(&headTimestamp, "headTimestamp")
    }
}
