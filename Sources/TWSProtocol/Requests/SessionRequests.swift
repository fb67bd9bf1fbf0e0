// Requests that manage the session: start, ids, time, accounts.

public struct StartAPI: WireMessage {
    public static let id = 71
    public static let name: StaticString = "startApi"
    public var clientId = 0
    public var optionalCapabilities = ""

    public init() {}
    public init(clientId: Int, optionalCapabilities: String = "") {
        self.clientId = clientId
        self.optionalCapabilities = optionalCapabilities
    }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(2)
        try c.int(&clientId, "clientId")
        try c.string(&optionalCapabilities, "optionalCapabilities")
    }
}

public struct ReqIds: WireMessage {
    public static let id = 8
    public static let name: StaticString = "reqIds"
    public var numIds = 1

    public init() {}
    public init(numIds: Int) { self.numIds = numIds }

    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        try c.version(1)
        try c.int(&numIds, "numIds")
    }
}

/// A request with nothing but its id and version: reqCurrentTime, reqOpenOrders, ...
public protocol VersionOnlyRequest: WireMessage {}

extension VersionOnlyRequest {
    public mutating func code<C: FieldCoder>(_ c: inout C) throws { try c.version(1) }
}

public struct ReqCurrentTime: VersionOnlyRequest {
    public static let id = 49
    public static let name: StaticString = "reqCurrentTime"
    public init() {}
}

public struct ReqCurrentTimeInMillis: WireMessage {
    public static let id = 105
    public static let name: StaticString = "reqCurrentTimeInMillis"
    public static let minimumServerVersion = ServerVersion.currentTimeInMillis
    public init() {}
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {}
}

public struct ReqManagedAccts: VersionOnlyRequest {
    public static let id = 17
    public static let name: StaticString = "reqManagedAccts"
    public init() {}
}

/// A request whose only field after the version is a request id: the cancels.
public protocol RequestIDOnly: WireMessage {
    var reqId: Int { get set }
    /// The per-message version literal, or nil for requests that have none.
    static var versionLiteral: Int? { get }
}

extension RequestIDOnly {
    public mutating func code<C: FieldCoder>(_ c: inout C) throws {
        if let literal = Self.versionLiteral { try c.version(literal) }
        try c.int(&reqId, "reqId")
    }
}
