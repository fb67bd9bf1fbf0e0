// Requests for positions, account values and PnL.

public struct ReqPositions: VersionOnlyRequest {
    public static let id = 61
    public static let name: StaticString = "reqPositions"
    public init() {}
}

public struct CancelPositions: VersionOnlyRequest {
    public static let id = 64
    public static let name: StaticString = "cancelPositions"
    public init() {}
}

public struct ReqAccountUpdates: WireMessage {
    public static let id = 6
    public static let name: StaticString = "reqAccountUpdates"
    public var subscribe = true
    public var acctCode = ""

    public init() {}
    public init(subscribe: Bool, acctCode: String) {
        self.subscribe = subscribe
        self.acctCode = acctCode
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(2)
        try c.bool(&subscribe, "subscribe")
        try c.string(&acctCode, "acctCode")
    }
}

public struct ReqAccountSummary: WireMessage {
    public static let id = 62
    public static let name: StaticString = "reqAccountSummary"
    public var reqId = 0
    public var groupName = "All"
    /// Comma list of tags, or `$LEDGER`, `$LEDGER:CCY`, `$LEDGER:ALL`.
    public var tags = ""

    public init() {}
    public init(reqId: Int, groupName: String = "All", tags: String) {
        self.reqId = reqId
        self.groupName = groupName
        self.tags = tags
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&groupName, "groupName")
        try c.string(&tags, "tags")
    }
}

public struct CancelAccountSummary: RequestIDOnly {
    public static let id = 63
    public static let name: StaticString = "cancelAccountSummary"
    public static let versionLiteral: Int? = 1
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqPnL: WireMessage {
    public static let id = 92
    public static let name: StaticString = "reqPnL"
    public var reqId = 0
    public var account = ""
    public var modelCode = ""

    public init() {}
    public init(reqId: Int, account: String, modelCode: String = "") {
        self.reqId = reqId
        self.account = account
        self.modelCode = modelCode
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&modelCode, "modelCode")
    }
}

public struct CancelPnL: RequestIDOnly {
    public static let id = 93
    public static let name: StaticString = "cancelPnL"
    public static let versionLiteral: Int? = nil
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqPnLSingle: WireMessage {
    public static let id = 94
    public static let name: StaticString = "reqPnLSingle"
    public var reqId = 0
    public var account = ""
    public var modelCode = ""
    public var conId = 0

    public init() {}
    public init(reqId: Int, account: String, modelCode: String = "", conId: Int) {
        self.reqId = reqId
        self.account = account
        self.modelCode = modelCode
        self.conId = conId
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&modelCode, "modelCode")
        try c.int(&conId, "conId")
    }
}

public struct CancelPnLSingle: RequestIDOnly {
    public static let id = 95
    public static let name: StaticString = "cancelPnLSingle"
    public static let versionLiteral: Int? = nil
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqAccountUpdatesMulti: WireMessage {
    public static let id = 76
    public static let name: StaticString = "reqAccountUpdatesMulti"
    public var reqId = 0
    public var account = ""
    public var modelCode = ""
    public var ledgerAndNLV = false

    public init() {}
    public init(reqId: Int, account: String, modelCode: String = "", ledgerAndNLV: Bool = false) {
        self.reqId = reqId
        self.account = account
        self.modelCode = modelCode
        self.ledgerAndNLV = ledgerAndNLV
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&modelCode, "modelCode")
        try c.bool(&ledgerAndNLV, "ledgerAndNLV")
    }
}

public struct CancelAccountUpdatesMulti: RequestIDOnly {
    public static let id = 77
    public static let name: StaticString = "cancelAccountUpdatesMulti"
    public static let versionLiteral: Int? = 1
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}

public struct ReqPositionsMulti: WireMessage {
    public static let id = 74
    public static let name: StaticString = "reqPositionsMulti"
    public var reqId = 0
    public var account = ""
    public var modelCode = ""

    public init() {}
    public init(reqId: Int, account: String, modelCode: String = "") {
        self.reqId = reqId
        self.account = account
        self.modelCode = modelCode
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&reqId, "reqId")
        try c.string(&account, "account")
        try c.string(&modelCode, "modelCode")
    }
}

public struct CancelPositionsMulti: RequestIDOnly {
    public static let id = 75
    public static let name: StaticString = "cancelPositionsMulti"
    public static let versionLiteral: Int? = 1
    public var reqId = 0
    public init() {}
    public init(reqId: Int) { self.reqId = reqId }
}
