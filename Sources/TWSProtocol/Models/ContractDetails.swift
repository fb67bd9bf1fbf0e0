/// Everything reqContractDetails tells about an instrument.
public struct ContractDetails: Sendable, Hashable {
    public var contract = Contract()
    /// The date part of lastTradeDateOrContractMonth when TWS appends a time (v ≥ 182 also
    /// sends it on its own).
    public var lastTradeDate = ""
    public var marketName = ""
    public var minTick = 0.0
    public var orderTypes = ""
    public var validExchanges = ""
    public var priceMagnifier = 0
    public var underConId = 0
    public var longName = ""
    public var contractMonth = ""
    public var industry = ""
    public var category = ""
    public var subcategory = ""
    public var timeZoneId = ""
    /// `YYYYMMDD:HHMM-YYYYMMDD:HHMM;...` or `YYYYMMDD:CLOSED`.
    public var tradingHours = ""
    public var liquidHours = ""
    public var evRule = ""
    public var evMultiplier = 0
    public var secIdList: [TagValue] = []
    public var aggGroup = 0
    public var underSymbol = ""
    public var underSecType = ""
    public var marketRuleIds = ""
    public var realExpirationDate = ""
    /// COMMON, ETF, ADR, REIT...
    public var stockType = ""
    public var minSize: TWSDecimal? = nil
    public var sizeIncrement: TWSDecimal? = nil
    public var suggestedSizeIncrement: TWSDecimal? = nil
    public var fund = FundData()
    public var ineligibilityReasons: [TagValue] = []

    public init() {}
}

/// The 17 fields TWS adds for `FUND` contracts (v ≥ 179).
public struct FundData: Sendable, Hashable {
    public var name = ""
    public var family = ""
    public var type = ""
    public var frontLoad = ""
    public var backLoad = ""
    public var backLoadTimeInterval = ""
    public var managementFee = ""
    public var closed = false
    public var closedForNewInvestors = false
    public var closedForNewMoney = false
    public var notifyAmount = ""
    public var minimumInitialPurchase = ""
    public var subsequentMinimumPurchase = ""
    public var blueSkyStates = ""
    public var blueSkyTerritories = ""
    public var distributionPolicyIndicator = ""
    public var assetType = ""

    public init() {}

    mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&name, "fundName")
        try c.string(&family, "fundFamily")
        try c.string(&type, "fundType")
        try c.string(&frontLoad, "fundFrontLoad")
        try c.string(&backLoad, "fundBackLoad")
        try c.string(&backLoadTimeInterval, "fundBackLoadTimeInterval")
        try c.string(&managementFee, "fundManagementFee")
        try c.bool(&closed, "fundClosed")
        try c.bool(&closedForNewInvestors, "fundClosedForNewInvestors")
        try c.bool(&closedForNewMoney, "fundClosedForNewMoney")
        try c.string(&notifyAmount, "fundNotifyAmount")
        try c.string(&minimumInitialPurchase, "fundMinimumInitialPurchase")
        try c.string(&subsequentMinimumPurchase, "fundSubsequentMinimumPurchase")
        try c.string(&blueSkyStates, "fundBlueSkyStates")
        try c.string(&blueSkyTerritories, "fundBlueSkyTerritories")
        try c.string(&distributionPolicyIndicator, "fundDistributionPolicyIndicator")
        try c.string(&assetType, "fundAssetType")
    }
}
