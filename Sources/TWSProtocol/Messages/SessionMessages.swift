// Session messages: ids, accounts, time, errors (server → client).

public struct NextValidId: WireMessage {
    public static let id = 9
    public static let name: StaticString = "nextValidId"
    public var orderId = 0

    public init() {}
    public init(orderId: Int) { self.orderId = orderId }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&orderId, "orderId")
    }
}

public struct ManagedAccounts: WireMessage {
    public static let id = 15
    public static let name: StaticString = "managedAccounts"
    /// Comma separated; may carry a trailing comma.
    public var accountsList = ""

    public init() {}
    public init(accountsList: String) { self.accountsList = accountsList }

    /// The account ids, without empty items.
    public var accounts: [String] {
        accountsList.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.string(&accountsList, "accountsList")
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

public struct CurrentTime: WireMessage {
    public static let id = 49
    public static let name: StaticString = "currentTime"
    /// Epoch seconds.
    public var time: Int64 = 0

    public init() {}
    public init(time: Int64) { self.time = time }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int64(&time, "time")
    }
}

public struct CurrentTimeInMillis: WireMessage {
    public static let id = 109
    public static let name: StaticString = "currentTimeInMillis"
    public static let minimumServerVersion = ServerVersion.currentTimeInMillis
    public var timeInMillis: Int64 = 0

    public init() {}
    public init(timeInMillis: Int64) { self.timeInMillis = timeInMillis }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.int64(&timeInMillis, "timeInMillis")
    }
}

/// An error or notice. `id` is the request or order it is about, −1 for system notices.
public struct ErrorMessage: WireMessage {
    public static let id = 4
    public static let name: StaticString = "error"
    public var reqId = -1
    public var errorCode = 0
    public var errorString = ""
    public var advancedOrderRejectJson = ""
    /// Epoch milliseconds (server version ≥ 194).
    public var errorTime: Int64 = 0

    public init() {}
    public init(reqId: Int, errorCode: Int, errorString: String, advancedOrderRejectJson: String = "", errorTime: Int64 = 0) {
        self.reqId = reqId
        self.errorCode = errorCode
        self.errorString = errorString
        self.advancedOrderRejectJson = advancedOrderRejectJson
        self.errorTime = errorTime
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if !c.atLeast(ServerVersion.errorTime) { try c.version(2) }
        try c.int(&reqId, "id")
        try c.int(&errorCode, "errorCode")
        try c.string(&errorString, "errorString")
        if c.atLeast(ServerVersion.advancedOrderReject) {
            try c.string(&advancedOrderRejectJson, "advancedOrderRejectJson")
        }
        if c.atLeast(ServerVersion.errorTime) { try c.int64(&errorTime, "errorTime") }
    }
}
