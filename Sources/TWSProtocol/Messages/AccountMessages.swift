// Positions, account values and PnL (server → client).

public struct Position: WireMessage {
    public static let id = 61
    public static let name: StaticString = "position"
    public var account = ""
    public var contract = Contract()
    public var position: TWSDecimal? = nil
    public var avgCost = 0.0

    public init() {}
    public init(account: String, contract: Contract, position: TWSDecimal?, avgCost: Double) {
        self.account = account
        self.contract = contract
        self.position = position
        self.avgCost = avgCost
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        // The value 3 matters: IB's decoder reads tradingClass and avgCost only from 2 and 3.
        try c.version(3)
        try c.string(&account, "account")
        try contract.codeReportFields(&c)
        try c.decimal(&position, "position")
        try c.double(&avgCost, "avgCost")
    }
}

public struct PositionEnd: WireMessage {
    public static let id = 62
    public static let name: StaticString = "positionEnd"
    public init() {}
    public mutating func code<C: FieldCoder>(_ c: inout C) throws { try c.version(1) }
}

public struct PositionMulti: WireMessage {
    public static let id = 71
    public static let name: StaticString = "positionMulti"
    public var reqId = 0
    public var account = ""
    public var contract = Contract()
    public var position: TWSDecimal? = nil
    public var avgCost = 0.0
    public var modelCode = ""

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try contract.codeReportFields(&c)
        try c.decimal(&position, "position")
        try c.double(&avgCost, "avgCost")
        try c.string(&modelCode, "modelCode")
    }
}

public struct PositionMultiEnd: RequestIDMessage {
    public static let id = 72
    public static let name: StaticString = "positionMultiEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct AccountSummary: WireMessage {
    public static let id = 63
    public static let name: StaticString = "accountSummary"
    public var reqId = 0
    public var account = ""
    public var tag = ""
    public var value = ""
    public var currency = ""

    public init() {}
    public init(reqId: Int, account: String, tag: String, value: String, currency: String) {
        self.reqId = reqId
        self.account = account
        self.tag = tag
        self.value = value
        self.currency = currency
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&tag, "tag")
        try c.string(&value, "value")
        try c.string(&currency, "currency")
    }
}

public struct AccountSummaryEnd: RequestIDMessage {
    public static let id = 64
    public static let name: StaticString = "accountSummaryEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct UpdateAccountValue: WireMessage {
    public static let id = 6
    public static let name: StaticString = "updateAccountValue"
    public var key = ""
    public var value = ""
    public var currency = ""
    public var accountName = ""

    public init() {}
    public init(key: String, value: String, currency: String, accountName: String) {
        self.key = key
        self.value = value
        self.currency = currency
        self.accountName = accountName
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(2)
        try c.string(&key, "key")
        try c.string(&value, "value")
        try c.string(&currency, "currency")
        try c.string(&accountName, "accountName")
    }
}

public struct UpdatePortfolio: WireMessage {
    public static let id = 7
    public static let name: StaticString = "updatePortfolio"
    public var contract = Contract()
    public var position: TWSDecimal? = nil
    public var marketPrice = 0.0
    public var marketValue = 0.0
    public var averageCost = 0.0
    public var unrealizedPNL = 0.0
    public var realizedPNL = 0.0
    public var accountName = ""

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        // The value 8 matters: IB's decoder reads multiplier/primaryExchange from 7, tradingClass from 8.
        try c.version(8)
        try contract.codeReportFields(&c, exchangeSlot: .primaryExchange)
        try c.decimal(&position, "position")
        try c.double(&marketPrice, "marketPrice")
        try c.double(&marketValue, "marketValue")
        try c.double(&averageCost, "averageCost")
        try c.double(&unrealizedPNL, "unrealizedPNL")
        try c.double(&realizedPNL, "realizedPNL")
        try c.string(&accountName, "accountName")
    }
}

public struct UpdateAccountTime: WireMessage {
    public static let id = 8
    public static let name: StaticString = "updateAccountTime"
    /// `HH:MM`.
    public var timeStamp = ""

    public init() {}
    public init(timeStamp: String) { self.timeStamp = timeStamp }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.string(&timeStamp, "timeStamp")
    }
}

public struct AccountDownloadEnd: WireMessage {
    public static let id = 54
    public static let name: StaticString = "accountDownloadEnd"
    public var accountName = ""

    public init() {}
    public init(accountName: String) { self.accountName = accountName }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.string(&accountName, "accountName")
    }
}

public struct AccountUpdateMulti: WireMessage {
    public static let id = 73
    public static let name: StaticString = "accountUpdateMulti"
    public var reqId = 0
    public var account = ""
    public var modelCode = ""
    public var key = ""
    public var value = ""
    public var currency = ""

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&modelCode, "modelCode")
        try c.string(&key, "key")
        try c.string(&value, "value")
        try c.string(&currency, "currency")
    }
}

public struct AccountUpdateMultiEnd: RequestIDMessage {
    public static let id = 74
    public static let name: StaticString = "accountUpdateMultiEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct PnL: WireMessage {
    public static let id = 94
    public static let name: StaticString = "pnl"
    public var reqId = 0
    /// nil: not known yet (TWS sends DBL_MAX).
    public var dailyPnL: Double? = nil
    public var unrealizedPnL: Double? = nil
    public var realizedPnL: Double? = nil

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.double(&dailyPnL, "dailyPnL", unset: .sentinel)
        try c.double(&unrealizedPnL, "unrealizedPnL", unset: .sentinel)
        try c.double(&realizedPnL, "realizedPnL", unset: .sentinel)
    }
}

public struct PnLSingle: WireMessage {
    public static let id = 95
    public static let name: StaticString = "pnlSingle"
    public var reqId = 0
    public var position: TWSDecimal? = nil
    public var dailyPnL: Double? = nil
    public var unrealizedPnL: Double? = nil
    public var realizedPnL: Double? = nil
    public var value: Double? = nil

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.decimal(&position, "pos")
        try c.double(&dailyPnL, "dailyPnL", unset: .sentinel)
        try c.double(&unrealizedPnL, "unrealizedPnL", unset: .sentinel)
        try c.double(&realizedPnL, "realizedPnL", unset: .sentinel)
        try c.double(&value, "value", unset: .sentinel)
    }
}
