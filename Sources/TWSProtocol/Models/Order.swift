/// An order, with IB's field names and IB's defaults (those of ibapi's `Order()`), so an
/// order built here encodes to the same bytes as the same order built with IB's client.
/// `nil` is IB's "unset" (UNSET_INTEGER / UNSET_DOUBLE / UNSET_DECIMAL).
///
/// Its ~140 fields live in one `OrderFields` behind a reference, copied on the first write
/// after a copy (copy-on-write): an order is stored and handed along the order path many
/// times (the strategy's record, the risk check, the simulated broker, events), and each of
/// those copied the fields themselves (a retain per string and array). Encoding still copies
/// them once (the codec writes through `inout`). Fields are read and written by name as
/// before (`order.lmtPrice = 1`).
@dynamicMemberLookup
public struct Order: Sendable, Hashable, CustomReflectable {
    /// The one `OrderFields` of an order and of its unchanged copies, in memory of its own: read
    /// through the pointer, the fields are borrowed where they lie (compared, encoded), never
    /// copied out of the class first (a retain and a release of each of their strings).
    @usableFromInline
    final class Storage: @unchecked Sendable {
        // Sendable: `fields` is written only through `Order.fields`'s and the subscript's
        // `_modify`, after `isKnownUniquelyReferenced` found the writing `Order` to hold the only
        // reference; a `Storage` that another order (another thread's) can reach is never written.
        @usableFromInline let fields: UnsafeMutablePointer<OrderFields>

        @usableFromInline init(_ value: OrderFields) {
            fields = .allocate(capacity: 1)
            fields.initialize(to: value)
        }

        deinit {
            fields.deinitialize(count: 1)
            fields.deallocate()
        }
    }

    @usableFromInline var storage: Storage

    /// The fields of a new order, shared until written (most orders built are written at once).
    private static let defaults = Storage(OrderFields())

    public init() { storage = Self.defaults }

    public init(_ fields: OrderFields) { storage = Storage(fields) }

    public init(action: String, quantity: TWSDecimal, type: String, limit: Double? = nil, stop: Double? = nil, tif: String = "DAY") {
        var fields = OrderFields()
        fields.action = action
        fields.totalQuantity = quantity
        fields.orderType = type
        fields.lmtPrice = limit
        fields.auxPrice = stop
        fields.tif = tif
        self.init(fields)
    }

    /// All the fields, to read or change several at once (a codec's block).
    public var fields: OrderFields {
        @inlinable get { storage.fields.pointee }
        @inlinable _modify {
            makeUnique()
            yield &storage.fields.pointee
        }
    }

    @inlinable
    public subscript<Value>(dynamicMember path: WritableKeyPath<OrderFields, Value>) -> Value {
        get { storage.fields.pointee[keyPath: path] }
        _modify {
            makeUnique()
            yield &storage.fields.pointee[keyPath: path]
        }
    }

    @inlinable
    public subscript<Value>(dynamicMember path: KeyPath<OrderFields, Value>) -> Value { storage.fields.pointee[keyPath: path] }

    /// The fields this order's alone, copied first when another order shares them.
    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields.pointee) }
    }

    /// Whether both are one order value, its copies (one storage): equal without a look at
    /// the fields. Orders equal field by field may still answer false.
    public func isSameValue(as other: Order) -> Bool { storage === other.storage }

    public static func == (lhs: Order, rhs: Order) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields.pointee == rhs.storage.fields.pointee
    }

    public func hash(into hasher: inout Hasher) { storage.fields.pointee.hash(into: &hasher) }

    /// The fields by name, as when they were the order's own (tests flatten messages by it).
    public var customMirror: Mirror { Mirror(reflecting: storage.fields.pointee) }
}

/// The fields of an `Order` (IB's names and defaults).
public struct OrderFields: Sendable, Hashable {
    // Identity
    public var orderId = 0
    public var clientId = 0
    public var permId: Int64 = 0
    public var parentId = 0
    // Main fields
    public var action = ""
    public var totalQuantity: TWSDecimal? = nil
    public var orderType = ""
    public var lmtPrice: Double? = nil
    public var auxPrice: Double? = nil
    public var tif = ""
    public var activeStartTime = ""
    public var activeStopTime = ""
    public var ocaGroup = ""
    public var ocaType = 0
    public var orderRef = ""
    public var transmit = true
    public var blockOrder = false
    public var sweepToFill = false
    public var displaySize: Int? = 0
    public var triggerMethod = 0
    public var outsideRth = false
    public var hidden = false
    public var goodAfterTime = ""
    public var goodTillDate = ""
    public var rule80A = ""
    public var allOrNone = false
    public var minQty: Int? = nil
    public var percentOffset: Double? = nil
    public var overridePercentageConstraints = false
    public var trailStopPrice: Double? = nil
    public var trailingPercent: Double? = nil
    // Financial advisors
    public var faGroup = ""
    public var faMethod = ""
    public var faPercentage = ""
    // Institutional
    public var designatedLocation = ""
    public var openClose = ""
    public var origin = 0
    public var shortSaleSlot = 0
    public var exemptCode = -1
    // SMART routing
    public var discretionaryAmt = 0.0
    public var optOutSmartRouting = false
    // Box and volatility orders
    public var auctionStrategy = 0
    public var startingPrice: Double? = nil
    public var stockRefPrice: Double? = nil
    public var delta: Double? = nil
    public var stockRangeLower: Double? = nil
    public var stockRangeUpper: Double? = nil
    public var randomizePrice = false
    public var randomizeSize = false
    public var volatility: Double? = nil
    public var volatilityType: Int? = nil
    public var deltaNeutralOrderType = ""
    public var deltaNeutralAuxPrice: Double? = nil
    public var deltaNeutralConId = 0
    public var deltaNeutralSettlingFirm = ""
    public var deltaNeutralClearingAccount = ""
    public var deltaNeutralClearingIntent = ""
    public var deltaNeutralOpenClose = ""
    public var deltaNeutralShortSale = false
    public var deltaNeutralShortSaleSlot = 0
    public var deltaNeutralDesignatedLocation = ""
    public var continuousUpdate = false
    public var referencePriceType: Int? = nil
    // EFP
    public var basisPoints: Double? = nil
    public var basisPointsType: Int? = nil
    // Scale orders
    public var scaleInitLevelSize: Int? = nil
    public var scaleSubsLevelSize: Int? = nil
    public var scalePriceIncrement: Double? = nil
    public var scalePriceAdjustValue: Double? = nil
    public var scalePriceAdjustInterval: Int? = nil
    public var scaleProfitOffset: Double? = nil
    public var scaleAutoReset = false
    public var scaleInitPosition: Int? = nil
    public var scaleInitFillQty: Int? = nil
    public var scaleRandomPercent = false
    public var scaleTable = ""
    // Hedge
    public var hedgeType = ""
    public var hedgeParam = ""
    // Clearing
    public var account = ""
    public var settlingFirm = ""
    public var clearingAccount = ""
    public var clearingIntent = ""
    // Algos
    public var algoStrategy = ""
    public var algoParams: [TagValue] = []
    public var smartComboRoutingParams: [TagValue] = []
    public var algoId = ""
    // Misc
    public var whatIf = false
    public var notHeld = false
    public var solicited = false
    public var modelCode = ""
    /// Per-leg prices of a BAG order (nil: unset).
    public var orderComboLegPrices: [Double?] = []
    public var orderMiscOptions: [TagValue] = []
    // Pegged to benchmark
    public var referenceContractId = 0
    public var peggedChangeAmount = 0.0
    public var isPeggedChangeAmountDecrease = false
    public var referenceChangeAmount = 0.0
    public var referenceExchangeId = ""
    public var adjustedOrderType = ""
    public var triggerPrice: Double? = nil
    public var adjustedStopPrice: Double? = nil
    public var adjustedStopLimitPrice: Double? = nil
    public var adjustedTrailingAmount: Double? = nil
    public var adjustableTrailingUnit = 0
    public var lmtPriceOffset: Double? = nil
    // Conditions
    public var conditions: [OrderCondition] = []
    public var conditionsCancelOrder = false
    public var conditionsIgnoreRth = false
    // Later additions
    public var extOperator = ""
    public var softDollarTier = SoftDollarTier()
    public var cashQty: Double? = nil
    public var mifid2DecisionMaker = ""
    public var mifid2DecisionAlgo = ""
    public var mifid2ExecutionTrader = ""
    public var mifid2ExecutionAlgo = ""
    public var dontUseAutoPriceForHedge = false
    public var isOmsContainer = false
    public var discretionaryUpToLimitPrice = false
    public var usePriceMgmtAlgo: Bool? = nil
    public var duration: Int? = nil
    public var postToAts: Int? = nil
    public var autoCancelParent = false
    public var advancedErrorOverride = ""
    public var manualOrderTime = ""
    public var minTradeQty: Int? = nil
    public var minCompeteSize: Int? = nil
    public var competeAgainstBestOffset: Double? = nil
    public var midOffsetAtWhole: Double? = nil
    public var midOffsetAtHalf: Double? = nil
    public var customerAccount = ""
    public var professionalCustomer = false
    public var bondAccruedInterest = ""
    public var includeOvernight = false
    public var manualOrderIndicator: Int? = nil
    public var submitter = ""
    public var imbalanceOnly = false
    // Reported in completedOrder only
    public var autoCancelDate = ""
    public var filledQuantity: TWSDecimal? = nil
    public var refFuturesConId = 0
    public var shareholder = ""
    public var routeMarketableToBbo = false
    public var parentPermId: Int64 = 0

    public init() {}

    var isPegBench: Bool { orderType == "PEG BENCH" || orderType == "PEGBENCH" }
    var isPegBest: Bool { orderType == "PEG BEST" || orderType == "PEGBEST" }
    var isPegMid: Bool { orderType == "PEG MID" || orderType == "PEGMID" }
    /// Scale orders carry 7 more fields only when the increment is set and positive.
    var hasScaleExtension: Bool { (scalePriceIncrement ?? 0) > 0 }

    // Blocks whose layout is the same in placeOrder and openOrder.

    mutating func codeTimeInForceThroughOrderRef<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&tif, "tif")
        try c.string(&ocaGroup, "ocaGroup")
        try c.string(&account, "account")
        try c.string(&openClose, "openClose")
        try c.int(&origin, "origin")
        try c.string(&orderRef, "orderRef")
    }

    mutating func codeHedgeAndContainerFlags<C: FieldCoder>(_ c: inout C) throws {
        try c.bool(&dontUseAutoPriceForHedge, "dontUseAutoPriceForHedge")
        try c.bool(&isOmsContainer, "isOmsContainer")
        try c.bool(&discretionaryUpToLimitPrice, "discretionaryUpToLimitPrice")
    }

    mutating func codeDurationThroughAutoCancelParent<C: FieldCoder>(_ c: inout C) throws {
        if c.atLeast(ServerVersion.duration) { try c.int(&duration, "duration", unset: .sentinel) }
        if c.atLeast(ServerVersion.postToATS) { try c.int(&postToAts, "postToAts", unset: .sentinel) }
        if c.atLeast(ServerVersion.autoCancelParent) { try c.bool(&autoCancelParent, "autoCancelParent") }
    }

    mutating func codeDeltaNeutralOrderExtension<C: FieldCoder>(_ c: inout C) throws {
        guard !deltaNeutralOrderType.isEmpty else { return }
        try c.int(&deltaNeutralConId, "deltaNeutralConId")
        try c.string(&deltaNeutralSettlingFirm, "deltaNeutralSettlingFirm")
        try c.string(&deltaNeutralClearingAccount, "deltaNeutralClearingAccount")
        try c.string(&deltaNeutralClearingIntent, "deltaNeutralClearingIntent")
        try c.string(&deltaNeutralOpenClose, "deltaNeutralOpenClose")
        try c.bool(&deltaNeutralShortSale, "deltaNeutralShortSale")
        try c.int(&deltaNeutralShortSaleSlot, "deltaNeutralShortSaleSlot")
        try c.string(&deltaNeutralDesignatedLocation, "deltaNeutralDesignatedLocation")
    }

    mutating func codeBoxAndPegToStock<C: FieldCoder>(_ c: inout C, unset: Unset) throws {
        try c.double(&startingPrice, "startingPrice", unset: unset)
        try c.double(&stockRefPrice, "stockRefPrice", unset: unset)
        try c.double(&delta, "delta", unset: unset)
        try c.double(&stockRangeLower, "stockRangeLower", unset: unset)
        try c.double(&stockRangeUpper, "stockRangeUpper", unset: unset)
    }

    mutating func codeScale<C: FieldCoder>(_ c: inout C, unset: Unset) throws {
        try c.int(&scaleInitLevelSize, "scaleInitLevelSize", unset: unset)
        try c.int(&scaleSubsLevelSize, "scaleSubsLevelSize", unset: unset)
        try c.double(&scalePriceIncrement, "scalePriceIncrement", unset: unset)
        try codeScaleExtension(&c)
    }

    mutating func codeScaleExtension<C: FieldCoder>(_ c: inout C) throws {
        guard hasScaleExtension else { return }
        try c.double(&scalePriceAdjustValue, "scalePriceAdjustValue", unset: .empty)
        try c.int(&scalePriceAdjustInterval, "scalePriceAdjustInterval", unset: .empty)
        try c.double(&scaleProfitOffset, "scaleProfitOffset", unset: .empty)
        try c.bool(&scaleAutoReset, "scaleAutoReset")
        try c.int(&scaleInitPosition, "scaleInitPosition", unset: .empty)
        try c.int(&scaleInitFillQty, "scaleInitFillQty", unset: .empty)
        try c.bool(&scaleRandomPercent, "scaleRandomPercent")
    }

    mutating func codeHedge<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&hedgeType, "hedgeType")
        if !hedgeType.isEmpty { try c.string(&hedgeParam, "hedgeParam") }
    }

    mutating func codeAlgo<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&algoStrategy, "algoStrategy")
        if !algoStrategy.isEmpty { try c.list(&algoParams, "algoParamsCount") }
    }

    mutating func codePegBench<C: FieldCoder>(_ c: inout C) throws {
        guard isPegBench else { return }
        try c.int(&referenceContractId, "referenceContractId")
        try c.bool(&isPeggedChangeAmountDecrease, "isPeggedChangeAmountDecrease")
        try c.double(&peggedChangeAmount, "peggedChangeAmount")
        try c.double(&referenceChangeAmount, "referenceChangeAmount")
        try c.string(&referenceExchangeId, "referenceExchangeId")
    }

    mutating func codeConditions<C: FieldCoder>(_ c: inout C) throws {
        try c.list(&conditions, "conditionsCount")
        if !conditions.isEmpty {
            try c.bool(&conditionsIgnoreRth, "conditionsIgnoreRth")
            try c.bool(&conditionsCancelOrder, "conditionsCancelOrder")
        }
    }
}

public struct SoftDollarTier: Sendable, Hashable {
    public var name = ""
    public var value = ""
    public var displayName = ""
    public init() {}
}

/// An order condition. IB's condition classes share one field sequence, so one struct
/// with the type deciding which parts are present covers them all.
public struct OrderCondition: Sendable, Hashable, FieldCodable {
    public enum Kind: Int, Sendable {
        case price = 1, time = 3, margin = 4, execution = 5, volume = 6, percentChange = 7
    }

    public var type = Kind.price.rawValue
    /// true: AND with the next condition; false: OR.
    public var isConjunction = true
    public var isMore = false
    /// The compared value as IB spells it (a price, a time, a percent, a volume).
    public var value = ""
    public var conId = 0
    public var exchange = ""
    public var triggerMethod = 0
    public var secType = ""
    public var symbol = ""

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&type, "condition.type")
        guard let kind = Kind(rawValue: type) else {
            throw TWSProtocolError.invalidValue(message: "order condition", field: "condition.type",
                                                reason: "is \(type), which is not a known condition type")
        }
        var connector = isConjunction ? "a" : "o"
        try c.string(&connector, "condition.conjunction")
        if c.isDecoding { isConjunction = connector == "a" }
        if kind == .execution {
            try c.string(&secType, "condition.secType")
            try c.string(&exchange, "condition.exchange")
            try c.string(&symbol, "condition.symbol")
            return
        }
        try c.bool(&isMore, "condition.isMore")
        try c.string(&value, "condition.value")
        if kind == .price || kind == .volume || kind == .percentChange {
            try c.int(&conId, "condition.conId")
            try c.string(&exchange, "condition.exchange")
        }
        if kind == .price { try c.int(&triggerMethod, "condition.triggerMethod") }
    }
}

/// What TWS says about an order: its status and, for what-if orders, margin figures.
public struct OrderState: Sendable, Hashable {
    public var status = ""
    public var initMarginBefore = ""
    public var maintMarginBefore = ""
    public var equityWithLoanBefore = ""
    public var initMarginChange = ""
    public var maintMarginChange = ""
    public var equityWithLoanChange = ""
    public var initMarginAfter = ""
    public var maintMarginAfter = ""
    public var equityWithLoanAfter = ""
    public var commissionAndFees: Double? = nil
    public var minCommissionAndFees: Double? = nil
    public var maxCommissionAndFees: Double? = nil
    public var commissionAndFeesCurrency = ""
    public var marginCurrency = ""
    public var initMarginBeforeOutsideRTH: Double? = nil
    public var maintMarginBeforeOutsideRTH: Double? = nil
    public var equityWithLoanBeforeOutsideRTH: Double? = nil
    public var initMarginChangeOutsideRTH: Double? = nil
    public var maintMarginChangeOutsideRTH: Double? = nil
    public var equityWithLoanChangeOutsideRTH: Double? = nil
    public var initMarginAfterOutsideRTH: Double? = nil
    public var maintMarginAfterOutsideRTH: Double? = nil
    public var equityWithLoanAfterOutsideRTH: Double? = nil
    public var suggestedSize: TWSDecimal? = nil
    public var rejectReason = ""
    public var orderAllocations: [OrderAllocation] = []
    public var warningText = ""
    public var completedTime = ""
    public var completedStatus = ""

    public init() {}
    public init(status: String) { self.status = status }
}

public struct OrderAllocation: Sendable, Hashable, FieldCodable {
    public var account = ""
    public var position: TWSDecimal? = nil
    public var positionDesired: TWSDecimal? = nil
    public var positionAfter: TWSDecimal? = nil
    public var desiredAllocQty: TWSDecimal? = nil
    public var allowedAllocQty: TWSDecimal? = nil
    public var isMonetary = false

    public init() {}

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&account, "allocation.account")
        try c.decimal(&position, "allocation.position")
        try c.decimal(&positionDesired, "allocation.positionDesired")
        try c.decimal(&positionAfter, "allocation.positionAfter")
        try c.decimal(&desiredAllocQty, "allocation.desiredAllocQty")
        try c.decimal(&allowedAllocQty, "allocation.allowedAllocQty")
        try c.bool(&isMonetary, "allocation.isMonetary")
    }
}
