// Generated from the list of request types; one case per message type.

/// Any request a client sends. A client encodes these the way IB's Python client does;
/// a gateway decodes them.
public enum ClientRequest: Sendable, Equatable {
    case startAPI(StartAPI)
    case reqIds(ReqIds)
    case reqCurrentTime(ReqCurrentTime)
    case reqCurrentTimeInMillis(ReqCurrentTimeInMillis)
    case reqManagedAccts(ReqManagedAccts)
    indirect case reqMktData(ReqMktData)
    case cancelMktData(CancelMktData)
    case reqMarketDataType(ReqMarketDataType)
    indirect case reqHistoricalData(ReqHistoricalData)
    case cancelHistoricalData(CancelHistoricalData)
    indirect case reqRealTimeBars(ReqRealTimeBars)
    case cancelRealTimeBars(CancelRealTimeBars)
    indirect case reqContractDetails(ReqContractDetails)
    indirect case reqTickByTickData(ReqTickByTickData)
    case cancelTickByTickData(CancelTickByTickData)
    indirect case placeOrder(PlaceOrder)
    case cancelOrder(CancelOrder)
    case reqGlobalCancel(ReqGlobalCancel)
    case reqOpenOrders(ReqOpenOrders)
    case reqAllOpenOrders(ReqAllOpenOrders)
    case reqAutoOpenOrders(ReqAutoOpenOrders)
    case reqCompletedOrders(ReqCompletedOrders)
    indirect case reqExecutions(ReqExecutions)
    case reqPositions(ReqPositions)
    case cancelPositions(CancelPositions)
    case reqAccountUpdates(ReqAccountUpdates)
    case reqAccountSummary(ReqAccountSummary)
    case cancelAccountSummary(CancelAccountSummary)
    case reqPnL(ReqPnL)
    case cancelPnL(CancelPnL)
    case reqPnLSingle(ReqPnLSingle)
    case cancelPnLSingle(CancelPnLSingle)
    case reqAccountUpdatesMulti(ReqAccountUpdatesMulti)
    case cancelAccountUpdatesMulti(CancelAccountUpdatesMulti)
    case reqPositionsMulti(ReqPositionsMulti)
    case cancelPositionsMulti(CancelPositionsMulti)

    /// Every type of this direction, for tests and tools that walk them all.
    public static let allTypes: [any WireMessage.Type] = [
        StartAPI.self,
        ReqIds.self,
        ReqCurrentTime.self,
        ReqCurrentTimeInMillis.self,
        ReqManagedAccts.self,
        ReqMktData.self,
        CancelMktData.self,
        ReqMarketDataType.self,
        ReqHistoricalData.self,
        CancelHistoricalData.self,
        ReqRealTimeBars.self,
        CancelRealTimeBars.self,
        ReqContractDetails.self,
        ReqTickByTickData.self,
        CancelTickByTickData.self,
        PlaceOrder.self,
        CancelOrder.self,
        ReqGlobalCancel.self,
        ReqOpenOrders.self,
        ReqAllOpenOrders.self,
        ReqAutoOpenOrders.self,
        ReqCompletedOrders.self,
        ReqExecutions.self,
        ReqPositions.self,
        CancelPositions.self,
        ReqAccountUpdates.self,
        ReqAccountSummary.self,
        CancelAccountSummary.self,
        ReqPnL.self,
        CancelPnL.self,
        ReqPnLSingle.self,
        CancelPnLSingle.self,
        ReqAccountUpdatesMulti.self,
        CancelAccountUpdatesMulti.self,
        ReqPositionsMulti.self,
        CancelPositionsMulti.self
    ]

    /// IB's name of the message.
    public var name: String {
        switch self {
        case .startAPI: return "\(StartAPI.name)"
        case .reqIds: return "\(ReqIds.name)"
        case .reqCurrentTime: return "\(ReqCurrentTime.name)"
        case .reqCurrentTimeInMillis: return "\(ReqCurrentTimeInMillis.name)"
        case .reqManagedAccts: return "\(ReqManagedAccts.name)"
        case .reqMktData: return "\(ReqMktData.name)"
        case .cancelMktData: return "\(CancelMktData.name)"
        case .reqMarketDataType: return "\(ReqMarketDataType.name)"
        case .reqHistoricalData: return "\(ReqHistoricalData.name)"
        case .cancelHistoricalData: return "\(CancelHistoricalData.name)"
        case .reqRealTimeBars: return "\(ReqRealTimeBars.name)"
        case .cancelRealTimeBars: return "\(CancelRealTimeBars.name)"
        case .reqContractDetails: return "\(ReqContractDetails.name)"
        case .reqTickByTickData: return "\(ReqTickByTickData.name)"
        case .cancelTickByTickData: return "\(CancelTickByTickData.name)"
        case .placeOrder: return "\(PlaceOrder.name)"
        case .cancelOrder: return "\(CancelOrder.name)"
        case .reqGlobalCancel: return "\(ReqGlobalCancel.name)"
        case .reqOpenOrders: return "\(ReqOpenOrders.name)"
        case .reqAllOpenOrders: return "\(ReqAllOpenOrders.name)"
        case .reqAutoOpenOrders: return "\(ReqAutoOpenOrders.name)"
        case .reqCompletedOrders: return "\(ReqCompletedOrders.name)"
        case .reqExecutions: return "\(ReqExecutions.name)"
        case .reqPositions: return "\(ReqPositions.name)"
        case .cancelPositions: return "\(CancelPositions.name)"
        case .reqAccountUpdates: return "\(ReqAccountUpdates.name)"
        case .reqAccountSummary: return "\(ReqAccountSummary.name)"
        case .cancelAccountSummary: return "\(CancelAccountSummary.name)"
        case .reqPnL: return "\(ReqPnL.name)"
        case .cancelPnL: return "\(CancelPnL.name)"
        case .reqPnLSingle: return "\(ReqPnLSingle.name)"
        case .cancelPnLSingle: return "\(CancelPnLSingle.name)"
        case .reqAccountUpdatesMulti: return "\(ReqAccountUpdatesMulti.name)"
        case .cancelAccountUpdatesMulti: return "\(CancelAccountUpdatesMulti.name)"
        case .reqPositionsMulti: return "\(ReqPositionsMulti.name)"
        case .cancelPositionsMulti: return "\(CancelPositionsMulti.name)"
        }
    }

    /// The frame payload: message id and fields, without the length prefix.
    public func payload(serverVersion: Int) throws -> [UInt8] {
        switch self {
        case let .startAPI(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqIds(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqCurrentTime(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqCurrentTimeInMillis(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqManagedAccts(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqMktData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelMktData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqMarketDataType(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqHistoricalData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelHistoricalData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqRealTimeBars(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelRealTimeBars(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqContractDetails(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqTickByTickData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelTickByTickData(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .placeOrder(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelOrder(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqGlobalCancel(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqOpenOrders(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqAllOpenOrders(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqAutoOpenOrders(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqCompletedOrders(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqExecutions(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqPositions(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelPositions(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqAccountUpdates(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqAccountSummary(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelAccountSummary(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqPnL(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelPnL(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqPnLSingle(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelPnLSingle(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqAccountUpdatesMulti(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelAccountUpdatesMulti(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .reqPositionsMulti(value): return try value.payload(serverVersion: serverVersion, style: .python)
        case let .cancelPositionsMulti(value): return try value.payload(serverVersion: serverVersion, style: .python)
        }
    }

    /// The payload with its length prefix, ready for the socket.
    public func frame(serverVersion: Int) throws -> [UInt8] {
        Framing.frame(try payload(serverVersion: serverVersion))
    }

    /// Decodes one frame payload.
    /// Fields left over after the layout are an error: a server must not guess at a request.
    public static func decode(payload: UnsafeRawBufferPointer, serverVersion: Int) throws -> Self {
        var reader = FieldReader(bytes: payload, serverVersion: serverVersion, message: "message id")
        let id = try readMessageID(&reader)
        let value: Self
        switch id {
        case StartAPI.id: value = .startAPI(try StartAPI.decodeBody(&reader))
        case ReqIds.id: value = .reqIds(try ReqIds.decodeBody(&reader))
        case ReqCurrentTime.id: value = .reqCurrentTime(try ReqCurrentTime.decodeBody(&reader))
        case ReqCurrentTimeInMillis.id: value = .reqCurrentTimeInMillis(try ReqCurrentTimeInMillis.decodeBody(&reader))
        case ReqManagedAccts.id: value = .reqManagedAccts(try ReqManagedAccts.decodeBody(&reader))
        case ReqMktData.id: value = .reqMktData(try ReqMktData.decodeBody(&reader))
        case CancelMktData.id: value = .cancelMktData(try CancelMktData.decodeBody(&reader))
        case ReqMarketDataType.id: value = .reqMarketDataType(try ReqMarketDataType.decodeBody(&reader))
        case ReqHistoricalData.id: value = .reqHistoricalData(try ReqHistoricalData.decodeBody(&reader))
        case CancelHistoricalData.id: value = .cancelHistoricalData(try CancelHistoricalData.decodeBody(&reader))
        case ReqRealTimeBars.id: value = .reqRealTimeBars(try ReqRealTimeBars.decodeBody(&reader))
        case CancelRealTimeBars.id: value = .cancelRealTimeBars(try CancelRealTimeBars.decodeBody(&reader))
        case ReqContractDetails.id: value = .reqContractDetails(try ReqContractDetails.decodeBody(&reader))
        case ReqTickByTickData.id: value = .reqTickByTickData(try ReqTickByTickData.decodeBody(&reader))
        case CancelTickByTickData.id: value = .cancelTickByTickData(try CancelTickByTickData.decodeBody(&reader))
        case PlaceOrder.id: value = .placeOrder(try PlaceOrder.decodeBody(&reader))
        case CancelOrder.id: value = .cancelOrder(try CancelOrder.decodeBody(&reader))
        case ReqGlobalCancel.id: value = .reqGlobalCancel(try ReqGlobalCancel.decodeBody(&reader))
        case ReqOpenOrders.id: value = .reqOpenOrders(try ReqOpenOrders.decodeBody(&reader))
        case ReqAllOpenOrders.id: value = .reqAllOpenOrders(try ReqAllOpenOrders.decodeBody(&reader))
        case ReqAutoOpenOrders.id: value = .reqAutoOpenOrders(try ReqAutoOpenOrders.decodeBody(&reader))
        case ReqCompletedOrders.id: value = .reqCompletedOrders(try ReqCompletedOrders.decodeBody(&reader))
        case ReqExecutions.id: value = .reqExecutions(try ReqExecutions.decodeBody(&reader))
        case ReqPositions.id: value = .reqPositions(try ReqPositions.decodeBody(&reader))
        case CancelPositions.id: value = .cancelPositions(try CancelPositions.decodeBody(&reader))
        case ReqAccountUpdates.id: value = .reqAccountUpdates(try ReqAccountUpdates.decodeBody(&reader))
        case ReqAccountSummary.id: value = .reqAccountSummary(try ReqAccountSummary.decodeBody(&reader))
        case CancelAccountSummary.id: value = .cancelAccountSummary(try CancelAccountSummary.decodeBody(&reader))
        case ReqPnL.id: value = .reqPnL(try ReqPnL.decodeBody(&reader))
        case CancelPnL.id: value = .cancelPnL(try CancelPnL.decodeBody(&reader))
        case ReqPnLSingle.id: value = .reqPnLSingle(try ReqPnLSingle.decodeBody(&reader))
        case CancelPnLSingle.id: value = .cancelPnLSingle(try CancelPnLSingle.decodeBody(&reader))
        case ReqAccountUpdatesMulti.id: value = .reqAccountUpdatesMulti(try ReqAccountUpdatesMulti.decodeBody(&reader))
        case CancelAccountUpdatesMulti.id: value = .cancelAccountUpdatesMulti(try CancelAccountUpdatesMulti.decodeBody(&reader))
        case ReqPositionsMulti.id: value = .reqPositionsMulti(try ReqPositionsMulti.decodeBody(&reader))
        case CancelPositionsMulti.id: value = .cancelPositionsMulti(try CancelPositionsMulti.decodeBody(&reader))
        default: throw TWSProtocolError.unknownMessageID(direction: "request", id: id)
        }
        let extra = reader.remainingFieldCount
        if extra > 0 { throw TWSProtocolError.unexpectedTrailingFields(message: value.name, count: extra) }
        return value
    }

    public static func decode(payload: [UInt8], serverVersion: Int) throws -> Self {
        try payload.withUnsafeBytes { try decode(payload: $0, serverVersion: serverVersion) }
    }
}
