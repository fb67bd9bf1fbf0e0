// Requests for live market data, bars and history.

public struct ReqMktData: WireMessage {
    public static let id = 1
    public static let name: StaticString = "reqMktData"
    public var reqId = 0
    public var contract = Contract()
    /// Comma list of generic tick ids, e.g. `233,236`.
    public var genericTickList = ""
    public var snapshot = false
    public var regulatorySnapshot = false
    public var mktDataOptions: [TagValue] = []

    public init() {}
    public init(reqId: Int, contract: Contract, genericTickList: String = "", snapshot: Bool = false, regulatorySnapshot: Bool = false) {
        self.reqId = reqId
        self.contract = contract
        self.genericTickList = genericTickList
        self.snapshot = snapshot
        self.regulatorySnapshot = regulatorySnapshot
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(11)
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try contract.codeRequestComboLegs(&c)
        var hasDeltaNeutral = contract.deltaNeutralContract != nil
        try c.bool(&hasDeltaNeutral, "deltaNeutralContractPresent")
        if hasDeltaNeutral {
            var dn = contract.deltaNeutralContract ?? DeltaNeutralContract()
            try c.int(&dn.conId, "deltaNeutralContract.conId")
            try c.double(&dn.delta, "deltaNeutralContract.delta")
            try c.double(&dn.price, "deltaNeutralContract.price")
            contract.deltaNeutralContract = dn
        }
        try c.string(&genericTickList, "genericTickList")
        try c.bool(&snapshot, "snapshot")
        try c.bool(&regulatorySnapshot, "regulatorySnapshot")
        try c.tagValueField(&mktDataOptions, "mktDataOptions")
    }
}

public struct CancelMktData: RequestIDOnly {
    public static let id = 2
    public static let name: StaticString = "cancelMktData"
    public static let versionLiteral: Int? = 2
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqMarketDataType: WireMessage {
    public static let id = 59
    public static let name: StaticString = "reqMarketDataType"
    /// 1 live, 2 frozen, 3 delayed, 4 delayed-frozen.
    public var marketDataType = 1

    public init() {}
    public init(marketDataType: Int) { self.marketDataType = marketDataType }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&marketDataType, "marketDataType")
    }
}

public struct ReqHistoricalData: WireMessage {
    public static let id = 20
    public static let name: StaticString = "reqHistoricalData"
    public var reqId = 0
    public var contract = Contract()
    /// `YYYYMMDD HH:MM:SS <zone>`, `YYYYMMDD-HH:MM:SS` (UTC) or empty for now.
    public var endDateTime = ""
    public var barSizeSetting = "1 min"
    public var durationStr = "1 D"
    public var useRTH = false
    public var whatToShow = "TRADES"
    /// 1: dates as text; 2: epoch seconds.
    public var formatDate = 1
    public var keepUpToDate = false
    public var chartOptions: [TagValue] = []

    public init() {}
    public init(reqId: Int, contract: Contract, endDateTime: String = "", durationStr: String, barSizeSetting: String,
                whatToShow: String = "TRADES", useRTH: Bool = false, formatDate: Int = 1, keepUpToDate: Bool = false)
    {
        self.reqId = reqId
        self.contract = contract
        self.endDateTime = endDateTime
        self.durationStr = durationStr
        self.barSizeSetting = barSizeSetting
        self.whatToShow = whatToShow
        self.useRTH = useRTH
        self.formatDate = formatDate
        self.keepUpToDate = keepUpToDate
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try c.bool(&contract.includeExpired, "includeExpired")
        try c.string(&endDateTime, "endDateTime")
        try c.string(&barSizeSetting, "barSizeSetting")
        try c.string(&durationStr, "durationStr")
        try c.bool(&useRTH, "useRTH")
        try c.string(&whatToShow, "whatToShow")
        try c.int(&formatDate, "formatDate")
        try contract.codeRequestComboLegs(&c)
        try c.bool(&keepUpToDate, "keepUpToDate")
        try c.tagValueField(&chartOptions, "chartOptions")
    }
}

public struct CancelHistoricalData: RequestIDOnly {
    public static let id = 25
    public static let name: StaticString = "cancelHistoricalData"
    public static let versionLiteral: Int? = 1
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqRealTimeBars: WireMessage {
    public static let id = 50
    public static let name: StaticString = "reqRealTimeBars"
    public var reqId = 0
    public var contract = Contract()
    /// Only 5-second bars exist.
    public var barSize = 5
    public var whatToShow = "TRADES"
    public var useRTH = false
    public var realTimeBarsOptions: [TagValue] = []

    public init() {}
    public init(reqId: Int, contract: Contract, whatToShow: String = "TRADES", useRTH: Bool = false) {
        self.reqId = reqId
        self.contract = contract
        self.whatToShow = whatToShow
        self.useRTH = useRTH
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(3)
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try c.int(&barSize, "barSize")
        try c.string(&whatToShow, "whatToShow")
        try c.bool(&useRTH, "useRTH")
        try c.tagValueField(&realTimeBarsOptions, "realTimeBarsOptions")
    }
}

public struct CancelRealTimeBars: RequestIDOnly {
    public static let id = 51
    public static let name: StaticString = "cancelRealTimeBars"
    public static let versionLiteral: Int? = 1
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqContractDetails: WireMessage {
    public static let id = 9
    public static let name: StaticString = "reqContractDetails"
    public var reqId = 0
    public var contract = Contract()

    public init() {}
    public init(reqId: Int, contract: Contract) {
        self.reqId = reqId
        self.contract = contract
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(8)
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try c.bool(&contract.includeExpired, "includeExpired")
        try c.string(&contract.secIdType, "secIdType")
        try c.string(&contract.secId, "secId")
        if c.atLeast(ServerVersion.bondIssuerID) { try c.string(&contract.issuerId, "issuerId") }
    }
}

public struct ReqTickByTickData: WireMessage {
    public static let id = 97
    public static let name: StaticString = "reqTickByTickData"
    public var reqId = 0
    public var contract = Contract()
    /// `Last`, `AllLast`, `BidAsk` or `MidPoint`.
    public var tickType = "Last"
    public var numberOfTicks = 0
    public var ignoreSize = false

    public init() {}
    public init(reqId: Int, contract: Contract, tickType: String, numberOfTicks: Int = 0, ignoreSize: Bool = false) {
        self.reqId = reqId
        self.contract = contract
        self.tickType = tickType
        self.numberOfTicks = numberOfTicks
        self.ignoreSize = ignoreSize
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try c.string(&tickType, "tickType")
        try c.int(&numberOfTicks, "numberOfTicks")
        try c.bool(&ignoreSize, "ignoreSize")
    }
}

public struct CancelTickByTickData: RequestIDOnly {
    public static let id = 98
    public static let name: StaticString = "cancelTickByTickData"
    public static let versionLiteral: Int? = nil
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

/// The earliest data point TWS has for a contract (server version 118+): where history starts.
public struct ReqHeadTimestamp: WireMessage {
    public static let id = 87
    public static let name: StaticString = "reqHeadTimeStamp"
    public var reqId = 0
    public var contract = Contract()
    public var useRTH = false
    public var whatToShow = "TRADES"
    /// 1: the date as text; 2: epoch seconds.
    public var formatDate = 1

    public init() {}
    public init(reqId: Int, contract: Contract, whatToShow: String = "TRADES", useRTH: Bool = false, formatDate: Int = 1) {
        self.reqId = reqId
        self.contract = contract
        self.whatToShow = whatToShow
        self.useRTH = useRTH
        self.formatDate = formatDate
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try contract.codeRequestFields(&c)
        try c.bool(&contract.includeExpired, "includeExpired")
        try c.bool(&useRTH, "useRTH")
        try c.string(&whatToShow, "whatToShow")
        try c.int(&formatDate, "formatDate")
    }
}

public struct CancelHeadTimestamp: RequestIDOnly {
    public static let id = 90
    public static let name: StaticString = "cancelHeadTimeStamp"
    public static let versionLiteral: Int? = nil
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}
