/// An instrument, with IB's field names.
public struct Contract: Sendable, Hashable {
    public var conId = 0
    public var symbol = ""
    public var secType = ""
    public var lastTradeDateOrContractMonth = ""
    /// nil: no strike (IB's unset; TWS also sends 0 for "none").
    public var strike: Double? = nil
    public var right = ""
    public var multiplier = ""
    public var exchange = ""
    public var primaryExchange = ""
    public var currency = ""
    public var localSymbol = ""
    public var tradingClass = ""
    public var includeExpired = false
    public var secIdType = ""
    public var secId = ""
    public var issuerId = ""
    public var comboLegs: [ComboLeg] = []
    public var deltaNeutralContract: DeltaNeutralContract? = nil

    public init() {}

    public init(symbol: String, secType: String = "STK", exchange: String = "SMART",
                primaryExchange: String = "", currency: String = "USD", conId: Int = 0)
    {
        self.symbol = symbol
        self.secType = secType
        self.exchange = exchange
        self.primaryExchange = primaryExchange
        self.currency = currency
        self.conId = conId
    }

    /// The 12-field block every data request carries.
    mutating func codeRequestFields<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&conId, "conId")
        try codeSymbolThroughMultiplier(&c)
        try c.string(&exchange, "exchange")
        try c.string(&primaryExchange, "primaryExchange")
        try c.string(&currency, "currency")
        try c.string(&localSymbol, "localSymbol")
        try c.string(&tradingClass, "tradingClass")
    }

    /// symbol · secType · lastTradeDateOrContractMonth · strike · right · multiplier.
    mutating func codeSymbolThroughMultiplier<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&symbol, "symbol")
        try c.string(&secType, "secType")
        try c.string(&lastTradeDateOrContractMonth, "lastTradeDateOrContractMonth")
        try c.double(&strike, "strike", unset: .empty)
        try c.string(&right, "right")
        try c.string(&multiplier, "multiplier")
    }

    /// The 11-field block of openOrder, execDetails and position: no primaryExchange,
    /// and a strike TWS always writes as a number (0 for none).
    mutating func codeReportFields<C: FieldCoder>(_ c: inout C, exchangeSlot: ExchangeSlot = .exchange) throws {
        try c.int(&conId, "conId")
        try c.string(&symbol, "symbol")
        try c.string(&secType, "secType")
        try c.string(&lastTradeDateOrContractMonth, "lastTradeDateOrContractMonth")
        try codeReportedStrike(&c)
        try c.string(&right, "right")
        try c.string(&multiplier, "multiplier")
        switch exchangeSlot {
        case .exchange: try c.string(&exchange, "exchange")
        case .primaryExchange: try c.string(&primaryExchange, "primaryExchange")
        }
        try c.string(&currency, "currency")
        try c.string(&localSymbol, "localSymbol")
        try c.string(&tradingClass, "tradingClass")
    }

    /// updatePortfolio puts primaryExchange where the others put exchange.
    enum ExchangeSlot { case exchange, primaryExchange }

    mutating func codeReportedStrike<C: FieldCoder>(_ c: inout C) throws {
        var value = strike ?? 0
        try c.double(&value, "strike")
        if c.isDecoding { strike = value == 0 ? nil : value }
    }

    /// Legs of a BAG, as data requests send them (4 fields a leg).
    mutating func codeRequestComboLegs<C: FieldCoder>(_ c: inout C) throws {
        guard secType == "BAG" else { return }
        var count = comboLegs.count
        try c.int(&count, "comboLegsCount")
        if c.isDecoding { comboLegs = Array(repeating: ComboLeg(), count: try boundedCount(count, "comboLegsCount")) }
        for index in comboLegs.indices {
            try c.int(&comboLegs[index].conId, "comboLeg.conId")
            try c.int(&comboLegs[index].ratio, "comboLeg.ratio")
            try c.string(&comboLegs[index].action, "comboLeg.action")
            try c.string(&comboLegs[index].exchange, "comboLeg.exchange")
        }
    }
}

/// Validates a count read from the wire before it sizes an allocation.
func boundedCount(_ count: Int, _ field: StaticString) throws -> Int {
    guard count >= 0 && count <= 100_000 else {
        throw TWSProtocolError.invalidValue(message: "list", field: "\(field)", reason: "has an impossible count \(count)")
    }
    return count
}

public struct ComboLeg: Sendable, Hashable, FieldCodable {
    public var conId = 0
    public var ratio = 0
    public var action = ""
    public var exchange = ""
    public var openClose = 0
    public var shortSaleSlot = 0
    public var designatedLocation = ""
    public var exemptCode = -1

    public init() {}

    /// The 8-field leg of placeOrder and openOrder.
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&conId, "comboLeg.conId")
        try c.int(&ratio, "comboLeg.ratio")
        try c.string(&action, "comboLeg.action")
        try c.string(&exchange, "comboLeg.exchange")
        try c.int(&openClose, "comboLeg.openClose")
        try c.int(&shortSaleSlot, "comboLeg.shortSaleSlot")
        try c.string(&designatedLocation, "comboLeg.designatedLocation")
        try c.int(&exemptCode, "comboLeg.exemptCode")
    }
}

public struct DeltaNeutralContract: Sendable, Hashable {
    public var conId = 0
    public var delta = 0.0
    public var price = 0.0
    public init() {}
}

/// One `tag=value` pair of IB's TagValue lists.
public struct TagValue: Sendable, Hashable, FieldCodable {
    public var tag = ""
    public var value = ""

    public init() {}
    public init(_ tag: String, _ value: String) {
        self.tag = tag
        self.value = value
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.string(&tag, "tag")
        try c.string(&value, "value")
    }

    /// IB's one-field spelling of a list: `tag=value;tag2=value2;`.
    public static func joined(_ list: [TagValue]) -> String {
        list.map { "\($0.tag)=\($0.value);" }.joined()
    }

    public static func split(_ text: String) -> [TagValue] {
        text.split(separator: ";").compactMap { (item: Substring) -> TagValue? in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return TagValue(String(parts[0]), String(parts[1]))
        }
    }
}

extension FieldCoder {
    /// A TagValue list sent as one `tag=value;` field.
    mutating func tagValueField(_ list: inout [TagValue], _ field: StaticString) throws {
        var text = TagValue.joined(list)
        try string(&text, field)
        if isDecoding { list = TagValue.split(text) }
    }
}
