// Contract details (server → client).

/// contractData (id 10): one instrument matching a reqContractDetails.
public struct ContractData: WireMessage {
    public static let id = 10
    public static let name: StaticString = "contractData"
    public var reqId = 0
    public var details = ContractDetails()

    public init() {}
    public init(reqId: Int, details: ContractDetails) {
        self.reqId = reqId
        self.details = details
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.atLeast(ServerVersion.sizeRules) { try c.version(8) }
        try c.int(&reqId, "reqId")
        try c.string(&details.contract.symbol, "symbol")
        try c.string(&details.contract.secType, "secType")
        try c.string(&details.contract.lastTradeDateOrContractMonth, "lastTradeDateOrContractMonth")
        if c.atLeast(ServerVersion.lastTradeDate) { try c.string(&details.lastTradeDate, "lastTradeDate") }
        try details.contract.codeReportedStrike(&c)
        try c.string(&details.contract.right, "right")
        try c.string(&details.contract.exchange, "exchange")
        try c.string(&details.contract.currency, "currency")
        try c.string(&details.contract.localSymbol, "localSymbol")
        try c.string(&details.marketName, "marketName")
        try c.string(&details.contract.tradingClass, "tradingClass")
        try c.int(&details.contract.conId, "conId")
        try c.double(&details.minTick, "minTick")
        if !c.atLeast(ServerVersion.sizeRules) { try c.fixed("1", "mdSizeMultiplier") }
        try c.string(&details.contract.multiplier, "multiplier")
        try c.string(&details.orderTypes, "orderTypes")
        try c.string(&details.validExchanges, "validExchanges")
        try c.int(&details.priceMagnifier, "priceMagnifier")
        try c.int(&details.underConId, "underConId")
        try c.string(&details.longName, "longName")
        try c.string(&details.contract.primaryExchange, "primaryExchange")
        try c.string(&details.contractMonth, "contractMonth")
        try c.string(&details.industry, "industry")
        try c.string(&details.category, "category")
        try c.string(&details.subcategory, "subcategory")
        try c.string(&details.timeZoneId, "timeZoneId")
        try c.string(&details.tradingHours, "tradingHours")
        try c.string(&details.liquidHours, "liquidHours")
        try c.string(&details.evRule, "evRule")
        try c.int(&details.evMultiplier, "evMultiplier")
        try c.list(&details.secIdList, "secIdListCount")
        try c.int(&details.aggGroup, "aggGroup")
        try c.string(&details.underSymbol, "underSymbol")
        try c.string(&details.underSecType, "underSecType")
        try c.string(&details.marketRuleIds, "marketRuleIds")
        try c.string(&details.realExpirationDate, "realExpirationDate")
        try c.string(&details.stockType, "stockType")
        if c.serverVersion == ServerVersion.fractionalSizeSupport { try c.fixed("0.0001", "sizeMinTick") }
        if c.atLeast(ServerVersion.sizeRules) {
            try c.decimal(&details.minSize, "minSize")
            try c.decimal(&details.sizeIncrement, "sizeIncrement")
            try c.decimal(&details.suggestedSizeIncrement, "suggestedSizeIncrement")
        }
        if c.atLeast(ServerVersion.fundDataFields) && details.contract.secType == "FUND" {
            try details.fund.code(&c)
        }
        if c.atLeast(ServerVersion.ineligibilityReasons) {
            try c.list(&details.ineligibilityReasons, "ineligibilityReasonCount")
        }
    }
}

public struct ContractDataEnd: RequestIDMessage {
    public static let id = 52
    public static let name: StaticString = "contractDataEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}
