// Requests that place, change, cancel and list orders and executions.

/// placeOrder (id 3): the full layout of ibapi 10.50 `client.placeOrder` for versions
/// 157–200, including BAG legs, delta-neutral, scale, hedge, algo, pegged and conditions.
/// Placing again with the same orderId modifies the order.
public struct PlaceOrder: WireMessage {
    public static let id = 3
    public static let name: StaticString = "placeOrder"
    public var orderId = 0
    public var contract = Contract()
    public var order = Order()

    public init() {}
    public init(orderId: Int, contract: Contract, order: Order) {
        self.orderId = orderId
        self.contract = contract
        self.order = order
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.isDecoding { try refuseFieldsTooNew(serverVersion: c.serverVersion) }
        try c.int(&orderId, "orderId")
        try contract.codeRequestFields(&c)
        try c.string(&contract.secIdType, "secIdType")
        try c.string(&contract.secId, "secId")
        try c.string(&order.action, "action")
        try c.decimal(&order.totalQuantity, "totalQuantity")
        try c.string(&order.orderType, "orderType")
        try c.double(&order.lmtPrice, "lmtPrice", unset: .empty)
        try c.double(&order.auxPrice, "auxPrice", unset: .empty)
        try order.fields.codeTimeInForceThroughOrderRef(&c)
        try c.bool(&order.transmit, "transmit")
        try c.int(&order.parentId, "parentId")
        try c.bool(&order.blockOrder, "blockOrder")
        try c.bool(&order.sweepToFill, "sweepToFill")
        try c.int(&order.displaySize, "displaySize", unset: .sentinel)
        try c.int(&order.triggerMethod, "triggerMethod")
        try c.bool(&order.outsideRth, "outsideRth")
        try c.bool(&order.hidden, "hidden")
        if contract.secType == "BAG" {
            try c.list(&contract.comboLegs, "comboLegsCount")
            var prices = order.orderComboLegPrices.map(OrderComboLegPrice.init)
            try c.list(&prices, "orderComboLegsCount")
            order.orderComboLegPrices = prices.map(\.price)
            try c.list(&order.smartComboRoutingParams, "smartComboRoutingParamsCount")
        }
        try c.fixed("", "sharesAllocation")
        try c.number(&order.discretionaryAmt, "discretionaryAmt")
        try c.string(&order.goodAfterTime, "goodAfterTime")
        try c.string(&order.goodTillDate, "goodTillDate")
        try c.string(&order.faGroup, "faGroup")
        try c.string(&order.faMethod, "faMethod")
        try c.string(&order.faPercentage, "faPercentage")
        if !c.atLeast(ServerVersion.faProfileDesupport) { try c.fixed("", "faProfile") }
        try c.string(&order.modelCode, "modelCode")
        try c.int(&order.shortSaleSlot, "shortSaleSlot")
        try c.string(&order.designatedLocation, "designatedLocation")
        try c.int(&order.exemptCode, "exemptCode")
        try c.int(&order.ocaType, "ocaType")
        try c.string(&order.rule80A, "rule80A")
        try c.string(&order.settlingFirm, "settlingFirm")
        try c.bool(&order.allOrNone, "allOrNone")
        try c.int(&order.minQty, "minQty", unset: .empty)
        try c.double(&order.percentOffset, "percentOffset", unset: .empty)
        try c.fixed("0", "eTradeOnly")
        try c.fixed("0", "firmQuoteOnly")
        try c.fixed("", "nbboPriceCap")
        try c.int(&order.auctionStrategy, "auctionStrategy")
        try order.fields.codeBoxAndPegToStock(&c, unset: .empty)
        try c.bool(&order.overridePercentageConstraints, "overridePercentageConstraints")
        try c.double(&order.volatility, "volatility", unset: .empty)
        try c.int(&order.volatilityType, "volatilityType", unset: .empty)
        try c.string(&order.deltaNeutralOrderType, "deltaNeutralOrderType")
        try c.double(&order.deltaNeutralAuxPrice, "deltaNeutralAuxPrice", unset: .empty)
        try order.fields.codeDeltaNeutralOrderExtension(&c)
        try c.bool(&order.continuousUpdate, "continuousUpdate")
        try c.int(&order.referencePriceType, "referencePriceType", unset: .empty)
        try c.double(&order.trailStopPrice, "trailStopPrice", unset: .empty)
        try c.double(&order.trailingPercent, "trailingPercent", unset: .empty)
        try order.fields.codeScale(&c, unset: .empty)
        try c.string(&order.scaleTable, "scaleTable")
        try c.string(&order.activeStartTime, "activeStartTime")
        try c.string(&order.activeStopTime, "activeStopTime")
        try order.fields.codeHedge(&c)
        try c.bool(&order.optOutSmartRouting, "optOutSmartRouting")
        try c.string(&order.clearingAccount, "clearingAccount")
        try c.string(&order.clearingIntent, "clearingIntent")
        try c.bool(&order.notHeld, "notHeld")
        try codeDeltaNeutralContract(&c, &contract)
        try order.fields.codeAlgo(&c)
        try c.string(&order.algoId, "algoId")
        try c.bool(&order.whatIf, "whatIf")
        try c.tagValueField(&order.orderMiscOptions, "orderMiscOptions")
        try c.bool(&order.solicited, "solicited")
        try c.bool(&order.randomizeSize, "randomizeSize")
        try c.bool(&order.randomizePrice, "randomizePrice")
        try order.fields.codePegBench(&c)
        try order.fields.codeConditions(&c)
        try c.string(&order.adjustedOrderType, "adjustedOrderType")
        try c.double(&order.triggerPrice, "triggerPrice", unset: .sentinel)
        try c.double(&order.lmtPriceOffset, "lmtPriceOffset", unset: .sentinel)
        try c.double(&order.adjustedStopPrice, "adjustedStopPrice", unset: .sentinel)
        try c.double(&order.adjustedStopLimitPrice, "adjustedStopLimitPrice", unset: .sentinel)
        try c.double(&order.adjustedTrailingAmount, "adjustedTrailingAmount", unset: .sentinel)
        try c.int(&order.adjustableTrailingUnit, "adjustableTrailingUnit")
        try c.string(&order.extOperator, "extOperator")
        try c.string(&order.softDollarTier.name, "softDollarTier.name")
        try c.string(&order.softDollarTier.value, "softDollarTier.value")
        try c.double(&order.cashQty, "cashQty", unset: .sentinel)
        try c.string(&order.mifid2DecisionMaker, "mifid2DecisionMaker")
        try c.string(&order.mifid2DecisionAlgo, "mifid2DecisionAlgo")
        try c.string(&order.mifid2ExecutionTrader, "mifid2ExecutionTrader")
        try c.string(&order.mifid2ExecutionAlgo, "mifid2ExecutionAlgo")
        try order.fields.codeHedgeAndContainerFlags(&c)
        try c.bool(&order.usePriceMgmtAlgo, "usePriceMgmtAlgo")
        try order.fields.codeDurationThroughAutoCancelParent(&c)
        if c.atLeast(ServerVersion.advancedOrderReject) {
            try c.string(&order.advancedErrorOverride, "advancedErrorOverride")
        }
        if c.atLeast(ServerVersion.manualOrderTime) { try c.string(&order.manualOrderTime, "manualOrderTime") }
        if c.atLeast(ServerVersion.pegBestPegMidOffsets) {
            if contract.exchange == "IBKRATS" { try c.int(&order.minTradeQty, "minTradeQty", unset: .empty) }
            var sendMidOffsets = order.isPegMid
            if order.isPegBest {
                try c.int(&order.minCompeteSize, "minCompeteSize", unset: .empty)
                try c.double(&order.competeAgainstBestOffset, "competeAgainstBestOffset", unset: .empty)
                // +infinity means "up to mid", which needs the mid offsets too.
                sendMidOffsets = order.competeAgainstBestOffset == .infinity
            }
            if sendMidOffsets {
                try c.double(&order.midOffsetAtWhole, "midOffsetAtWhole", unset: .empty)
                try c.double(&order.midOffsetAtHalf, "midOffsetAtHalf", unset: .empty)
            }
        }
        if c.atLeast(ServerVersion.customerAccount) { try c.string(&order.customerAccount, "customerAccount") }
        if c.atLeast(ServerVersion.professionalCustomer) {
            try c.bool(&order.professionalCustomer, "professionalCustomer")
        }
        if ServerVersion.rfqWindow.contains(c.serverVersion) {
            try c.fixed("", "rfq.externalUserId")
            try c.fixed("2147483647", "rfq.manualOrderIndicator")
        }
        if c.atLeast(ServerVersion.includeOvernight) { try c.bool(&order.includeOvernight, "includeOvernight") }
        if c.atLeast(ServerVersion.cmeTaggingFields) {
            try c.int(&order.manualOrderIndicator, "manualOrderIndicator", unset: .sentinel)
        }
        if c.atLeast(ServerVersion.imbalanceOnly) { try c.bool(&order.imbalanceOnly, "imbalanceOnly") }
    }
}

extension PlaceOrder {
    /// Like IB's client (its error 503), refuse an order that sets a field the negotiated
    /// version does not have, instead of silently dropping what the caller asked for.
    func refuseFieldsTooNew(serverVersion v: Int) throws {
        let checks: [(Int, Bool, String)] = [
            (ServerVersion.duration, order.duration != nil, "duration"),
            (ServerVersion.postToATS, order.postToAts != nil, "postToAts"),
            (ServerVersion.autoCancelParent, order.autoCancelParent, "autoCancelParent"),
            (ServerVersion.advancedOrderReject, !order.advancedErrorOverride.isEmpty, "advancedErrorOverride"),
            (ServerVersion.manualOrderTime, !order.manualOrderTime.isEmpty, "manualOrderTime"),
            (ServerVersion.pegBestPegMidOffsets,
             order.minTradeQty != nil || order.minCompeteSize != nil || order.competeAgainstBestOffset != nil
                || order.midOffsetAtWhole != nil || order.midOffsetAtHalf != nil,
             "PEG BEST / PEG MID parameters"),
            (ServerVersion.customerAccount, !order.customerAccount.isEmpty, "customerAccount"),
            (ServerVersion.professionalCustomer, order.professionalCustomer, "professionalCustomer"),
            (ServerVersion.includeOvernight, order.includeOvernight, "includeOvernight"),
            (ServerVersion.cmeTaggingFields, order.manualOrderIndicator != nil, "manualOrderIndicator"),
            (ServerVersion.imbalanceOnly, order.imbalanceOnly, "imbalanceOnly"),
        ]
        for (threshold, isSet, field) in checks where isSet && v < threshold {
            throw TWSProtocolError.invalidValue(
                message: "placeOrder", field: field,
                reason: "needs server version \(threshold); this TWS speaks \(v) (upgrade TWS/IB Gateway)")
        }
    }
}

/// One per-leg price of a BAG order.
struct OrderComboLegPrice: FieldCodable {
    var price: Double?
    init() { price = nil }
    init(_ price: Double?) { self.price = price }
    mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.double(&price, "orderComboLeg.price", unset: .empty)
    }
}

/// The delta-neutral contract block of placeOrder and openOrder: a flag, then 3 fields.
func codeDeltaNeutralContract<C: FieldCoder>(_ c: inout C, _ contract: inout Contract) throws {
    var present = contract.deltaNeutralContract != nil
    try c.bool(&present, "deltaNeutralContractPresent")
    guard present else { return }
    var dn = contract.deltaNeutralContract ?? DeltaNeutralContract()
    try c.int(&dn.conId, "deltaNeutralContract.conId")
    try c.double(&dn.delta, "deltaNeutralContract.delta")
    try c.double(&dn.price, "deltaNeutralContract.price")
    contract.deltaNeutralContract = dn
}

public struct CancelOrder: WireMessage {
    public static let id = 4
    public static let name: StaticString = "cancelOrder"
    public var orderId = 0
    public var manualOrderCancelTime = ""
    public var extOperator = ""
    public var manualOrderIndicator: Int? = nil

    public init() {}
    public init(orderId: Int) { self.orderId = orderId }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.isDecoding {
            if !manualOrderCancelTime.isEmpty && !c.atLeast(ServerVersion.manualOrderTime) {
                throw TWSProtocolError.invalidValue(
                    message: "cancelOrder", field: "manualOrderCancelTime",
                    reason: "needs server version \(ServerVersion.manualOrderTime); this TWS speaks \(c.serverVersion)")
            }
            if (!extOperator.isEmpty || manualOrderIndicator != nil) && !c.atLeast(ServerVersion.cmeTaggingFields) {
                throw TWSProtocolError.invalidValue(
                    message: "cancelOrder", field: "manualOrderIndicator",
                    reason: "needs server version \(ServerVersion.cmeTaggingFields); this TWS speaks \(c.serverVersion)")
            }
        }
        if !c.atLeast(ServerVersion.cmeTaggingFields) { try c.version(1) }
        try c.int(&orderId, "orderId")
        if c.atLeast(ServerVersion.manualOrderTime) {
            try c.string(&manualOrderCancelTime, "manualOrderCancelTime")
        }
        if ServerVersion.rfqWindow.contains(c.serverVersion) {
            try c.fixed("", "rfq.extOperator")
            try c.fixed("", "rfq.externalUserId")
            try c.fixed("2147483647", "rfq.manualOrderIndicator")
        }
        if c.atLeast(ServerVersion.cmeTaggingFields) {
            try c.string(&extOperator, "extOperator")
            try c.int(&manualOrderIndicator, "manualOrderIndicator", unset: .sentinel)
        }
    }
}

public struct ReqGlobalCancel: WireMessage {
    public static let id = 58
    public static let name: StaticString = "reqGlobalCancel"
    public var extOperator = ""
    public var manualOrderIndicator: Int? = nil

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.atLeast(ServerVersion.cmeTaggingFields) { try c.version(1) }
        if c.atLeast(ServerVersion.cmeTaggingFields) {
            try c.string(&extOperator, "extOperator")
            try c.int(&manualOrderIndicator, "manualOrderIndicator", unset: .sentinel)
        }
    }
}

public struct ReqOpenOrders: VersionOnlyRequest {
    public static let id = 5
    public static let name: StaticString = "reqOpenOrders"
    public init() {}
}

public struct ReqAllOpenOrders: VersionOnlyRequest {
    public static let id = 16
    public static let name: StaticString = "reqAllOpenOrders"
    public init() {}
}

public struct ReqAutoOpenOrders: WireMessage {
    public static let id = 15
    public static let name: StaticString = "reqAutoOpenOrders"
    public var autoBind = false

    public init() {}
    public init(autoBind: Bool) { self.autoBind = autoBind }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.bool(&autoBind, "autoBind")
    }
}

public struct ReqCompletedOrders: WireMessage {
    public static let id = 99
    public static let name: StaticString = "reqCompletedOrders"
    public var apiOnly = false

    public init() {}
    public init(apiOnly: Bool) { self.apiOnly = apiOnly }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.bool(&apiOnly, "apiOnly")
    }
}

/// Which executions reqExecutions asks for.
public struct ExecutionFilter: Sendable, Hashable {
    public var clientId = 0
    public var acctCode = ""
    /// `yyyymmdd-hh:mm:ss`: executions at or after.
    public var time = ""
    public var symbol = ""
    public var secType = ""
    public var exchange = ""
    public var side = ""
    public var lastNDays: Int? = nil
    /// Dates as `yyyymmdd` integers.
    public var specificDates: [Int] = []

    public init() {}
}

public struct ReqExecutions: WireMessage {
    public static let id = 7
    public static let name: StaticString = "reqExecutions"
    public var reqId = 0
    public var filter = ExecutionFilter()

    public init() {}
    public init(reqId: Int, filter: ExecutionFilter = ExecutionFilter()) {
        self.reqId = reqId
        self.filter = filter
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.isDecoding && (filter.lastNDays != nil || !filter.specificDates.isEmpty)
            && !c.atLeast(ServerVersion.parametrizedDaysOfExecutions)
        {
            throw TWSProtocolError.invalidValue(
                message: "reqExecutions", field: "lastNDays",
                reason: "needs server version \(ServerVersion.parametrizedDaysOfExecutions); this TWS speaks \(c.serverVersion)")
        }
        try c.version(3)
        try c.int(&reqId, "reqId")
        try c.int(&filter.clientId, "clientId")
        try c.string(&filter.acctCode, "acctCode")
        try c.string(&filter.time, "time")
        try c.string(&filter.symbol, "symbol")
        try c.string(&filter.secType, "secType")
        try c.string(&filter.exchange, "exchange")
        try c.string(&filter.side, "side")
        if c.atLeast(ServerVersion.parametrizedDaysOfExecutions) {
            try c.int(&filter.lastNDays, "lastNDays", unset: .sentinel)
            var dates = filter.specificDates.map(SpecificDate.init)
            try c.list(&dates, "specificDatesCount")
            filter.specificDates = dates.map(\.date)
        }
    }
}

struct SpecificDate: FieldCodable {
    var date = 0
    init() {}
    init(_ date: Int) { self.date = date }
    mutating func code<C: FieldCoder>(_ c: inout C) throws { try c.int(&date, "specificDate") }
}
