// Order and execution messages (server → client).

public struct OrderStatus: WireMessage {
    public static let id = 3
    public static let name: StaticString = "orderStatus"
    public var orderId = 0
    /// PendingSubmit, PendingCancel, PreSubmitted, Submitted, ApiPending, ApiCancelled,
    /// Cancelled, Filled, Inactive.
    public var status = ""
    public var filled: TWSDecimal? = nil
    public var remaining: TWSDecimal? = nil
    public var avgFillPrice = 0.0
    public var permId: Int64 = 0
    public var parentId = 0
    public var lastFillPrice = 0.0
    public var clientId = 0
    public var whyHeld = ""
    public var mktCapPrice = 0.0

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&orderId, "orderId")
        try c.string(&status, "status")
        try c.decimal(&filled, "filled")
        try c.decimal(&remaining, "remaining")
        try c.double(&avgFillPrice, "avgFillPrice")
        try c.int64(&permId, "permId")
        try c.int(&parentId, "parentId")
        try c.double(&lastFillPrice, "lastFillPrice")
        try c.int(&clientId, "clientId")
        try c.string(&whyHeld, "whyHeld")
        try c.double(&mktCapPrice, "mktCapPrice")
    }
}

/// openOrder (id 5): the full layout of ibapi 10.50's decoder for versions 157–200.
public struct OpenOrder: WireMessage {
    public static let id = 5
    public static let name: StaticString = "openOrder"
    public var contract = Contract()
    public var order = Order()
    public var orderState = OrderState()
    /// TWS's description of a combo's legs.
    public var comboLegsDescription = ""

    public init() {}
    public init(contract: Contract, order: Order, orderState: OrderState) {
        self.contract = contract
        self.order = order
        self.orderState = orderState
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&order.orderId, "orderId")
        try contract.codeReportFields(&c)
        try c.string(&order.action, "action")
        try c.decimal(&order.totalQuantity, "totalQuantity")
        try c.string(&order.orderType, "orderType")
        try c.double(&order.lmtPrice, "lmtPrice", unset: .sentinel)
        try c.double(&order.auxPrice, "auxPrice", unset: .sentinel)
        try order.fields.codeTimeInForceThroughOrderRef(&c)
        try c.int(&order.clientId, "clientId")
        try c.int64(&order.permId, "permId")
        try c.bool(&order.outsideRth, "outsideRth")
        try c.bool(&order.hidden, "hidden")
        try c.double(&order.discretionaryAmt, "discretionaryAmt")
        try c.string(&order.goodAfterTime, "goodAfterTime")
        try c.fixed("", "sharesAllocation")
        try c.string(&order.faGroup, "faGroup")
        try c.string(&order.faMethod, "faMethod")
        try c.string(&order.faPercentage, "faPercentage")
        if !c.atLeast(ServerVersion.faProfileDesupport) { try c.fixed("", "faProfile") }
        try c.string(&order.modelCode, "modelCode")
        try c.string(&order.goodTillDate, "goodTillDate")
        try c.string(&order.rule80A, "rule80A")
        try c.double(&order.percentOffset, "percentOffset", unset: .sentinel)
        try c.string(&order.settlingFirm, "settlingFirm")
        try c.int(&order.shortSaleSlot, "shortSaleSlot")
        try c.string(&order.designatedLocation, "designatedLocation")
        try c.int(&order.exemptCode, "exemptCode")
        try c.int(&order.auctionStrategy, "auctionStrategy")
        try order.fields.codeBoxAndPegToStock(&c, unset: .sentinel)
        try c.int(&order.displaySize, "displaySize", unset: .sentinel)
        try c.bool(&order.blockOrder, "blockOrder")
        try c.bool(&order.sweepToFill, "sweepToFill")
        try c.bool(&order.allOrNone, "allOrNone")
        try c.int(&order.minQty, "minQty", unset: .sentinel)
        try c.int(&order.ocaType, "ocaType")
        try c.fixed("0", "eTradeOnly")
        try c.fixed("0", "firmQuoteOnly")
        try c.fixed("1.7976931348623157E308", "nbboPriceCap")
        try c.int(&order.parentId, "parentId")
        try c.int(&order.triggerMethod, "triggerMethod")
        try order.fields.codeReportedVolatility(&c)
        try order.fields.codeDeltaNeutralOrderExtension(&c)
        try c.bool(&order.continuousUpdate, "continuousUpdate")
        try order.fields.codeReportedReferencePriceType(&c)
        try c.double(&order.trailStopPrice, "trailStopPrice", unset: .sentinel)
        try c.double(&order.trailingPercent, "trailingPercent", unset: .sentinel)
        try c.double(&order.basisPoints, "basisPoints", unset: .sentinel)
        try c.int(&order.basisPointsType, "basisPointsType", unset: .sentinel)
        try codeReportedComboLegs(&c, &contract, &order, &comboLegsDescription)
        try order.fields.codeScale(&c, unset: .sentinel)
        try order.fields.codeHedge(&c)
        try c.bool(&order.optOutSmartRouting, "optOutSmartRouting")
        try c.string(&order.clearingAccount, "clearingAccount")
        try c.string(&order.clearingIntent, "clearingIntent")
        try c.bool(&order.notHeld, "notHeld")
        try codeDeltaNeutralContract(&c, &contract)
        try order.fields.codeAlgo(&c)
        try c.bool(&order.solicited, "solicited")
        try c.bool(&order.whatIf, "whatIf")
        try orderState.codeOpenOrderState(&c)
        try c.bool(&order.randomizeSize, "randomizeSize")
        try c.bool(&order.randomizePrice, "randomizePrice")
        try order.fields.codePegBench(&c)
        try order.fields.codeConditions(&c)
        try c.string(&order.adjustedOrderType, "adjustedOrderType")
        try c.double(&order.triggerPrice, "triggerPrice", unset: .sentinel)
        // TWS repeats trailStopPrice here; the later value wins, as in IB's decoder.
        try c.double(&order.trailStopPrice, "trailStopPrice", unset: .sentinel)
        try c.double(&order.lmtPriceOffset, "lmtPriceOffset", unset: .sentinel)
        try c.double(&order.adjustedStopPrice, "adjustedStopPrice", unset: .sentinel)
        try c.double(&order.adjustedStopLimitPrice, "adjustedStopLimitPrice", unset: .sentinel)
        try c.double(&order.adjustedTrailingAmount, "adjustedTrailingAmount", unset: .sentinel)
        try c.int(&order.adjustableTrailingUnit, "adjustableTrailingUnit")
        try c.string(&order.softDollarTier.name, "softDollarTier.name")
        try c.string(&order.softDollarTier.value, "softDollarTier.value")
        try c.string(&order.softDollarTier.displayName, "softDollarTier.displayName")
        try c.double(&order.cashQty, "cashQty", unset: .sentinel)
        try order.fields.codeHedgeAndContainerFlags(&c)
        var usePriceMgmtAlgo = order.usePriceMgmtAlgo ?? false
        try c.bool(&usePriceMgmtAlgo, "usePriceMgmtAlgo")
        if c.isDecoding { order.usePriceMgmtAlgo = usePriceMgmtAlgo }
        try order.fields.codeDurationThroughAutoCancelParent(&c)
        try order.fields.codeReportedPegOffsetsAndCustomer(&c)
        if c.atLeast(ServerVersion.bondAccruedInterest) {
            try c.string(&order.bondAccruedInterest, "bondAccruedInterest")
        }
        if c.atLeast(ServerVersion.includeOvernight) { try c.bool(&order.includeOvernight, "includeOvernight") }
        if c.atLeast(ServerVersion.cmeTaggingFieldsInOpenOrder) {
            try c.string(&order.extOperator, "extOperator")
            try c.int(&order.manualOrderIndicator, "manualOrderIndicator", unset: .sentinel)
        }
        if c.atLeast(ServerVersion.submitter) { try c.string(&order.submitter, "submitter") }
        if c.atLeast(ServerVersion.imbalanceOnly) { try c.bool(&order.imbalanceOnly, "imbalanceOnly") }
    }
}

/// The combo block of openOrder and completedOrder: description, legs, leg prices, routing params.
func codeReportedComboLegs<C: FieldCoder>(_ c: inout C, _ contract: inout Contract, _ order: inout Order, _ description: inout String) throws {
    try c.string(&description, "comboLegsDescrip")
    try c.list(&contract.comboLegs, "comboLegsCount")
    var prices = order.orderComboLegPrices.map(OrderComboLegPrice.init)
    try c.list(&prices, "orderComboLegsCount")
    order.orderComboLegPrices = prices.map(\.price)
    try c.list(&order.smartComboRoutingParams, "smartComboRoutingParamsCount")
}

extension OrderFields {
    /// volatility · volatilityType (a plain int in reports) · deltaNeutralOrderType · deltaNeutralAuxPrice.
    mutating func codeReportedVolatility<C: FieldCoder>(_ c: inout C) throws {
        try c.double(&volatility, "volatility", unset: .sentinel)
        var type = volatilityType ?? 0
        try c.int(&type, "volatilityType")
        if c.isDecoding { volatilityType = type }
        try c.string(&deltaNeutralOrderType, "deltaNeutralOrderType")
        try c.double(&deltaNeutralAuxPrice, "deltaNeutralAuxPrice", unset: .sentinel)
    }

    mutating func codeReportedReferencePriceType<C: FieldCoder>(_ c: inout C) throws {
        var type = referencePriceType ?? 0
        try c.int(&type, "referencePriceType")
        if c.isDecoding { referencePriceType = type }
    }

    /// The PEG BEST/MID block (≥ 170, always present in reports) and the customer fields.
    mutating func codeReportedPegOffsetsAndCustomer<C: FieldCoder>(_ c: inout C) throws {
        if c.atLeast(ServerVersion.pegBestPegMidOffsets) {
            try c.int(&minTradeQty, "minTradeQty", unset: .sentinel)
            try c.int(&minCompeteSize, "minCompeteSize", unset: .sentinel)
            try c.double(&competeAgainstBestOffset, "competeAgainstBestOffset", unset: .sentinel)
            try c.double(&midOffsetAtWhole, "midOffsetAtWhole", unset: .sentinel)
            try c.double(&midOffsetAtHalf, "midOffsetAtHalf", unset: .sentinel)
        }
        if c.atLeast(ServerVersion.customerAccount) { try c.string(&customerAccount, "customerAccount") }
        if c.atLeast(ServerVersion.professionalCustomer) { try c.bool(&professionalCustomer, "professionalCustomer") }
    }
}

extension OrderState {
    /// The order state block of openOrder, after `whatIf`.
    mutating func codeOpenOrderState<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&status, "status")
        try codeMargin(&c, \.initMarginBefore, "initMarginBefore")
        try codeMargin(&c, \.maintMarginBefore, "maintMarginBefore")
        try codeMargin(&c, \.equityWithLoanBefore, "equityWithLoanBefore")
        try codeMargin(&c, \.initMarginChange, "initMarginChange")
        try codeMargin(&c, \.maintMarginChange, "maintMarginChange")
        try codeMargin(&c, \.equityWithLoanChange, "equityWithLoanChange")
        try codeMargin(&c, \.initMarginAfter, "initMarginAfter")
        try codeMargin(&c, \.maintMarginAfter, "maintMarginAfter")
        try codeMargin(&c, \.equityWithLoanAfter, "equityWithLoanAfter")
        try c.double(&commissionAndFees, "commissionAndFees", unset: .sentinel)
        try c.double(&minCommissionAndFees, "minCommissionAndFees", unset: .sentinel)
        try c.double(&maxCommissionAndFees, "maxCommissionAndFees", unset: .sentinel)
        try c.string(&commissionAndFeesCurrency, "commissionAndFeesCurrency")
        if c.atLeast(ServerVersion.fullOrderPreviewFields) {
            try c.string(&marginCurrency, "marginCurrency")
            try c.double(&initMarginBeforeOutsideRTH, "initMarginBeforeOutsideRTH", unset: .sentinel)
            try c.double(&maintMarginBeforeOutsideRTH, "maintMarginBeforeOutsideRTH", unset: .sentinel)
            try c.double(&equityWithLoanBeforeOutsideRTH, "equityWithLoanBeforeOutsideRTH", unset: .sentinel)
            try c.double(&initMarginChangeOutsideRTH, "initMarginChangeOutsideRTH", unset: .sentinel)
            try c.double(&maintMarginChangeOutsideRTH, "maintMarginChangeOutsideRTH", unset: .sentinel)
            try c.double(&equityWithLoanChangeOutsideRTH, "equityWithLoanChangeOutsideRTH", unset: .sentinel)
            try c.double(&initMarginAfterOutsideRTH, "initMarginAfterOutsideRTH", unset: .sentinel)
            try c.double(&maintMarginAfterOutsideRTH, "maintMarginAfterOutsideRTH", unset: .sentinel)
            try c.double(&equityWithLoanAfterOutsideRTH, "equityWithLoanAfterOutsideRTH", unset: .sentinel)
            try c.decimal(&suggestedSize, "suggestedSize")
            try c.string(&rejectReason, "rejectReason")
            try c.list(&orderAllocations, "orderAllocationsCount")
        }
        try c.string(&warningText, "warningText")
    }

    /// Margin values travel as strings; TWS writes DBL_MAX when there is none, which we
    /// model as "".
    private mutating func codeMargin<C: FieldCoder>(_ c: inout C, _ path: WritableKeyPath<OrderState, String>, _ field: StaticString) throws {
        let none = "1.7976931348623157E308"
        var value = self[keyPath: path].isEmpty ? none : self[keyPath: path]
        try c.string(&value, field)
        if c.isDecoding { self[keyPath: path] = value == none ? "" : value }
    }
}

/// completedOrder (id 101): a filled or cancelled order, answering reqCompletedOrders. Its
/// layout is openOrder's cousin, not its copy: ibapi's decoder (processCompletedOrderMsg) is
/// the reference.
public struct CompletedOrder: WireMessage {
    public static let id = 101
    public static let name: StaticString = "completedOrder"
    public var contract = Contract()
    public var order = Order()
    public var orderState = OrderState()
    public var comboLegsDescription = ""

    public init() {}
    public init(contract: Contract, order: Order, orderState: OrderState) {
        self.contract = contract
        self.order = order
        self.orderState = orderState
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try contract.codeReportFields(&c)
        try c.string(&order.action, "action")
        try c.decimal(&order.totalQuantity, "totalQuantity")
        try c.string(&order.orderType, "orderType")
        try c.double(&order.lmtPrice, "lmtPrice", unset: .sentinel)
        try c.double(&order.auxPrice, "auxPrice", unset: .sentinel)
        try order.fields.codeTimeInForceThroughOrderRef(&c)
        try c.int64(&order.permId, "permId")
        try c.bool(&order.outsideRth, "outsideRth")
        try c.bool(&order.hidden, "hidden")
        try c.double(&order.discretionaryAmt, "discretionaryAmt")
        try c.string(&order.goodAfterTime, "goodAfterTime")
        try c.string(&order.faGroup, "faGroup")
        try c.string(&order.faMethod, "faMethod")
        try c.string(&order.faPercentage, "faPercentage")
        if !c.atLeast(ServerVersion.faProfileDesupport) { try c.fixed("", "faProfile") }
        try c.string(&order.modelCode, "modelCode")
        try c.string(&order.goodTillDate, "goodTillDate")
        try c.string(&order.rule80A, "rule80A")
        try c.double(&order.percentOffset, "percentOffset", unset: .sentinel)
        try c.string(&order.settlingFirm, "settlingFirm")
        try c.int(&order.shortSaleSlot, "shortSaleSlot")
        try c.string(&order.designatedLocation, "designatedLocation")
        try c.int(&order.exemptCode, "exemptCode")
        try order.fields.codeBoxAndPegToStock(&c, unset: .sentinel)
        try c.int(&order.displaySize, "displaySize", unset: .sentinel)
        try c.bool(&order.sweepToFill, "sweepToFill")
        try c.bool(&order.allOrNone, "allOrNone")
        try c.int(&order.minQty, "minQty", unset: .sentinel)
        try c.int(&order.ocaType, "ocaType")
        try c.int(&order.triggerMethod, "triggerMethod")
        try order.fields.codeReportedVolatility(&c)
        if !order.deltaNeutralOrderType.isEmpty {
            // Without the settling firm, clearing and open/close fields openOrder has.
            try c.int(&order.deltaNeutralConId, "deltaNeutralConId")
            try c.bool(&order.deltaNeutralShortSale, "deltaNeutralShortSale")
            try c.int(&order.deltaNeutralShortSaleSlot, "deltaNeutralShortSaleSlot")
            try c.string(&order.deltaNeutralDesignatedLocation, "deltaNeutralDesignatedLocation")
        }
        try c.bool(&order.continuousUpdate, "continuousUpdate")
        try order.fields.codeReportedReferencePriceType(&c)
        try c.double(&order.trailStopPrice, "trailStopPrice", unset: .sentinel)
        try c.double(&order.trailingPercent, "trailingPercent", unset: .sentinel)
        try codeReportedComboLegs(&c, &contract, &order, &comboLegsDescription)
        try order.fields.codeScale(&c, unset: .sentinel)
        try order.fields.codeHedge(&c)
        try c.string(&order.clearingAccount, "clearingAccount")
        try c.string(&order.clearingIntent, "clearingIntent")
        try c.bool(&order.notHeld, "notHeld")
        try codeDeltaNeutralContract(&c, &contract)
        try order.fields.codeAlgo(&c)
        try c.bool(&order.solicited, "solicited")
        try c.string(&orderState.status, "status")
        try c.bool(&order.randomizeSize, "randomizeSize")
        try c.bool(&order.randomizePrice, "randomizePrice")
        try order.fields.codePegBench(&c)
        try order.fields.codeConditions(&c)
        try c.double(&order.trailStopPrice, "trailStopPrice", unset: .sentinel)
        try c.double(&order.lmtPriceOffset, "lmtPriceOffset", unset: .sentinel)
        try c.double(&order.cashQty, "cashQty", unset: .sentinel)
        try c.bool(&order.dontUseAutoPriceForHedge, "dontUseAutoPriceForHedge")
        try c.bool(&order.isOmsContainer, "isOmsContainer")
        try c.string(&order.autoCancelDate, "autoCancelDate")
        try c.decimal(&order.filledQuantity, "filledQuantity")
        try c.int(&order.refFuturesConId, "refFuturesConId")
        try c.bool(&order.autoCancelParent, "autoCancelParent")
        try c.string(&order.shareholder, "shareholder")
        try c.bool(&order.imbalanceOnly, "imbalanceOnly")
        try c.bool(&order.routeMarketableToBbo, "routeMarketableToBbo")
        try c.int64(&order.parentPermId, "parentPermId")
        try c.string(&orderState.completedTime, "completedTime")
        try c.string(&orderState.completedStatus, "completedStatus")
        try order.fields.codeReportedPegOffsetsAndCustomer(&c)
        if c.atLeast(ServerVersion.submitter) { try c.string(&order.submitter, "submitter") }
    }
}

public struct OpenOrderEnd: WireMessage {
    public static let id = 53
    public static let name: StaticString = "openOrderEnd"
    public init() {}
    public mutating func code<C: FieldCoder>(_ c: inout C) throws { try c.version(1) }
}

public struct CompletedOrdersEnd: WireMessage {
    public static let id = 102
    public static let name: StaticString = "completedOrdersEnd"
    public init() {}
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {}
}

public struct OrderBound: WireMessage {
    public static let id = 100
    public static let name: StaticString = "orderBound"
    public var permId: Int64 = 0
    public var clientId = 0
    public var orderId = 0

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int64(&permId, "permId")
        try c.int(&clientId, "clientId")
        try c.int(&orderId, "orderId")
    }
}

public struct Execution: Sendable, Hashable {
    public var orderId = 0
    public var execId = ""
    /// `YYYYMMDD HH:MM:SS <zone>`.
    public var time = ""
    public var acctNumber = ""
    public var exchange = ""
    /// `BOT` or `SLD`.
    public var side = ""
    public var shares: TWSDecimal? = nil
    public var price = 0.0
    public var permId: Int64 = 0
    public var clientId = 0
    public var liquidation = 0
    public var cumQty: TWSDecimal? = nil
    public var avgPrice = 0.0
    public var orderRef = ""
    public var evRule = ""
    public var evMultiplier = 0.0
    public var modelCode = ""
    /// 1 added, 2 removed, 3 routed out.
    public var lastLiquidity = 0
    public var pendingPriceRevision = false
    public var submitter = ""

    public init() {}
}

public struct ExecDetails: WireMessage {
    public static let id = 11
    public static let name: StaticString = "execDetails"
    /// −1 for an unsolicited fill; the request id when answering reqExecutions.
    public var reqId = -1
    public var contract = Contract()
    public var execution = Execution()

    public init() {}
    public init(reqId: Int, contract: Contract, execution: Execution) {
        self.reqId = reqId
        self.contract = contract
        self.execution = execution
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.int(&execution.orderId, "orderId")
        try contract.codeReportFields(&c)
        try c.string(&execution.execId, "execId")
        try c.string(&execution.time, "time")
        try c.string(&execution.acctNumber, "acctNumber")
        try c.string(&execution.exchange, "exchange")
        try c.string(&execution.side, "side")
        try c.decimal(&execution.shares, "shares")
        try c.double(&execution.price, "price")
        try c.int64(&execution.permId, "permId")
        try c.int(&execution.clientId, "clientId")
        try c.int(&execution.liquidation, "liquidation")
        try c.decimal(&execution.cumQty, "cumQty")
        try c.double(&execution.avgPrice, "avgPrice")
        try c.string(&execution.orderRef, "orderRef")
        try c.string(&execution.evRule, "evRule")
        try c.double(&execution.evMultiplier, "evMultiplier")
        try c.string(&execution.modelCode, "modelCode")
        try c.int(&execution.lastLiquidity, "lastLiquidity")
        if c.atLeast(ServerVersion.pendingPriceRevision) {
            try c.bool(&execution.pendingPriceRevision, "pendingPriceRevision")
        }
        if c.atLeast(ServerVersion.submitter) { try c.string(&execution.submitter, "submitter") }
    }
}

public struct ExecDetailsEnd: RequestIDMessage {
    public static let id = 55
    public static let name: StaticString = "execDetailsEnd"
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct CommissionReport: WireMessage {
    public static let id = 59
    public static let name: StaticString = "commissionReport"
    public var execId = ""
    public var commission = 0.0
    public var currency = ""
    /// nil when not applicable (TWS sends DBL_MAX).
    public var realizedPNL: Double? = nil
    public var yield: Double? = nil
    /// yyyymmdd, 0 when none.
    public var yieldRedemptionDate = 0

    public init() {}
    public init(execId: String, commission: Double, currency: String, realizedPNL: Double?) {
        self.execId = execId
        self.commission = commission
        self.currency = currency
        self.realizedPNL = realizedPNL
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.string(&execId, "execId")
        try c.double(&commission, "commission")
        try c.string(&currency, "currency")
        try c.double(&realizedPNL, "realizedPNL", unset: .sentinel)
        try c.double(&yield, "yield", unset: .sentinel)
        try c.int(&yieldRedemptionDate, "yieldRedemptionDate")
    }
}
