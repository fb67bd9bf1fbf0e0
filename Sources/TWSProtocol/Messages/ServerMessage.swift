// Generated from the list of server types; one case per message type.

/// Any message a server sends. A gateway encodes these the way TWS does; a client decodes them.
public enum ServerMessage: Sendable, Equatable {
    case tickPrice(TickPrice)
    case tickSize(TickSize)
    case tickString(TickString)
    case tickGeneric(TickGeneric)
    case tickReqParams(TickReqParams)
    case marketDataType(MarketDataType)
    case tickSnapshotEnd(TickSnapshotEnd)
    indirect case tickByTick(TickByTick)
    case orderStatus(OrderStatus)
    indirect case openOrder(OpenOrder)
    case openOrderEnd(OpenOrderEnd)
    case completedOrdersEnd(CompletedOrdersEnd)
    case orderBound(OrderBound)
    indirect case execDetails(ExecDetails)
    case execDetailsEnd(ExecDetailsEnd)
    case commissionReport(CommissionReport)
    case error(ErrorMessage)
    case nextValidId(NextValidId)
    case managedAccounts(ManagedAccounts)
    case currentTime(CurrentTime)
    case currentTimeInMillis(CurrentTimeInMillis)
    indirect case historicalData(HistoricalData)
    case historicalDataEnd(HistoricalDataEnd)
    case historicalDataUpdate(HistoricalDataUpdate)
    case realtimeBar(RealTimeBar)
    indirect case contractData(ContractData)
    case contractDataEnd(ContractDataEnd)
    indirect case position(Position)
    case positionEnd(PositionEnd)
    indirect case positionMulti(PositionMulti)
    case positionMultiEnd(PositionMultiEnd)
    case accountSummary(AccountSummary)
    case accountSummaryEnd(AccountSummaryEnd)
    case updateAccountValue(UpdateAccountValue)
    indirect case updatePortfolio(UpdatePortfolio)
    case updateAccountTime(UpdateAccountTime)
    case accountDownloadEnd(AccountDownloadEnd)
    case accountUpdateMulti(AccountUpdateMulti)
    case accountUpdateMultiEnd(AccountUpdateMultiEnd)
    case pnl(PnL)
    case pnlSingle(PnLSingle)

    /// Every type of this direction, for tests and tools that walk them all.
    public static let allTypes: [any WireMessage.Type] = [
        TickPrice.self,
        TickSize.self,
        TickString.self,
        TickGeneric.self,
        TickReqParams.self,
        MarketDataType.self,
        TickSnapshotEnd.self,
        TickByTick.self,
        OrderStatus.self,
        OpenOrder.self,
        OpenOrderEnd.self,
        CompletedOrdersEnd.self,
        OrderBound.self,
        ExecDetails.self,
        ExecDetailsEnd.self,
        CommissionReport.self,
        ErrorMessage.self,
        NextValidId.self,
        ManagedAccounts.self,
        CurrentTime.self,
        CurrentTimeInMillis.self,
        HistoricalData.self,
        HistoricalDataEnd.self,
        HistoricalDataUpdate.self,
        RealTimeBar.self,
        ContractData.self,
        ContractDataEnd.self,
        Position.self,
        PositionEnd.self,
        PositionMulti.self,
        PositionMultiEnd.self,
        AccountSummary.self,
        AccountSummaryEnd.self,
        UpdateAccountValue.self,
        UpdatePortfolio.self,
        UpdateAccountTime.self,
        AccountDownloadEnd.self,
        AccountUpdateMulti.self,
        AccountUpdateMultiEnd.self,
        PnL.self,
        PnLSingle.self
    ]

    /// IB's name of the message.
    public var name: String {
        switch self {
        case .tickPrice: return "\(TickPrice.name)"
        case .tickSize: return "\(TickSize.name)"
        case .tickString: return "\(TickString.name)"
        case .tickGeneric: return "\(TickGeneric.name)"
        case .tickReqParams: return "\(TickReqParams.name)"
        case .marketDataType: return "\(MarketDataType.name)"
        case .tickSnapshotEnd: return "\(TickSnapshotEnd.name)"
        case .tickByTick: return "\(TickByTick.name)"
        case .orderStatus: return "\(OrderStatus.name)"
        case .openOrder: return "\(OpenOrder.name)"
        case .openOrderEnd: return "\(OpenOrderEnd.name)"
        case .completedOrdersEnd: return "\(CompletedOrdersEnd.name)"
        case .orderBound: return "\(OrderBound.name)"
        case .execDetails: return "\(ExecDetails.name)"
        case .execDetailsEnd: return "\(ExecDetailsEnd.name)"
        case .commissionReport: return "\(CommissionReport.name)"
        case .error: return "\(ErrorMessage.name)"
        case .nextValidId: return "\(NextValidId.name)"
        case .managedAccounts: return "\(ManagedAccounts.name)"
        case .currentTime: return "\(CurrentTime.name)"
        case .currentTimeInMillis: return "\(CurrentTimeInMillis.name)"
        case .historicalData: return "\(HistoricalData.name)"
        case .historicalDataEnd: return "\(HistoricalDataEnd.name)"
        case .historicalDataUpdate: return "\(HistoricalDataUpdate.name)"
        case .realtimeBar: return "\(RealTimeBar.name)"
        case .contractData: return "\(ContractData.name)"
        case .contractDataEnd: return "\(ContractDataEnd.name)"
        case .position: return "\(Position.name)"
        case .positionEnd: return "\(PositionEnd.name)"
        case .positionMulti: return "\(PositionMulti.name)"
        case .positionMultiEnd: return "\(PositionMultiEnd.name)"
        case .accountSummary: return "\(AccountSummary.name)"
        case .accountSummaryEnd: return "\(AccountSummaryEnd.name)"
        case .updateAccountValue: return "\(UpdateAccountValue.name)"
        case .updatePortfolio: return "\(UpdatePortfolio.name)"
        case .updateAccountTime: return "\(UpdateAccountTime.name)"
        case .accountDownloadEnd: return "\(AccountDownloadEnd.name)"
        case .accountUpdateMulti: return "\(AccountUpdateMulti.name)"
        case .accountUpdateMultiEnd: return "\(AccountUpdateMultiEnd.name)"
        case .pnl: return "\(PnL.name)"
        case .pnlSingle: return "\(PnLSingle.name)"
        }
    }

    /// The frame payload: message id and fields, without the length prefix.
    public func payload(serverVersion: Int) throws -> [UInt8] {
        switch self {
        case let .tickPrice(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickSize(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickString(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickGeneric(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickReqParams(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .marketDataType(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickSnapshotEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .tickByTick(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .orderStatus(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .openOrder(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .openOrderEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .completedOrdersEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .orderBound(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .execDetails(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .execDetailsEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .commissionReport(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .error(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .nextValidId(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .managedAccounts(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .currentTime(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .currentTimeInMillis(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .historicalData(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .historicalDataEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .historicalDataUpdate(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .realtimeBar(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .contractData(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .contractDataEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .position(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .positionEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .positionMulti(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .positionMultiEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .accountSummary(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .accountSummaryEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .updateAccountValue(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .updatePortfolio(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .updateAccountTime(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .accountDownloadEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .accountUpdateMulti(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .accountUpdateMultiEnd(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .pnl(value): return try value.payload(serverVersion: serverVersion, style: .java)
        case let .pnlSingle(value): return try value.payload(serverVersion: serverVersion, style: .java)
        }
    }

    /// The payload with its length prefix, ready for the socket.
    public func frame(serverVersion: Int) throws -> [UInt8] {
        Framing.frame(try payload(serverVersion: serverVersion))
    }

    /// Decodes one frame payload.
    /// Extra trailing fields are tolerated (a newer server may append fields); missing ones are an error.
    public static func decode(payload: UnsafeRawBufferPointer, serverVersion: Int) throws -> Self {
        var reader = FieldReader(bytes: payload, serverVersion: serverVersion, message: "message id")
        let id = try readMessageID(&reader)
        let value: Self
        switch id {
        case TickPrice.id: value = .tickPrice(try TickPrice.decodeBody(&reader))
        case TickSize.id: value = .tickSize(try TickSize.decodeBody(&reader))
        case TickString.id: value = .tickString(try TickString.decodeBody(&reader))
        case TickGeneric.id: value = .tickGeneric(try TickGeneric.decodeBody(&reader))
        case TickReqParams.id: value = .tickReqParams(try TickReqParams.decodeBody(&reader))
        case MarketDataType.id: value = .marketDataType(try MarketDataType.decodeBody(&reader))
        case TickSnapshotEnd.id: value = .tickSnapshotEnd(try TickSnapshotEnd.decodeBody(&reader))
        case TickByTick.id: value = .tickByTick(try TickByTick.decodeBody(&reader))
        case OrderStatus.id: value = .orderStatus(try OrderStatus.decodeBody(&reader))
        case OpenOrder.id: value = .openOrder(try OpenOrder.decodeBody(&reader))
        case OpenOrderEnd.id: value = .openOrderEnd(try OpenOrderEnd.decodeBody(&reader))
        case CompletedOrdersEnd.id: value = .completedOrdersEnd(try CompletedOrdersEnd.decodeBody(&reader))
        case OrderBound.id: value = .orderBound(try OrderBound.decodeBody(&reader))
        case ExecDetails.id: value = .execDetails(try ExecDetails.decodeBody(&reader))
        case ExecDetailsEnd.id: value = .execDetailsEnd(try ExecDetailsEnd.decodeBody(&reader))
        case CommissionReport.id: value = .commissionReport(try CommissionReport.decodeBody(&reader))
        case ErrorMessage.id: value = .error(try ErrorMessage.decodeBody(&reader))
        case NextValidId.id: value = .nextValidId(try NextValidId.decodeBody(&reader))
        case ManagedAccounts.id: value = .managedAccounts(try ManagedAccounts.decodeBody(&reader))
        case CurrentTime.id: value = .currentTime(try CurrentTime.decodeBody(&reader))
        case CurrentTimeInMillis.id: value = .currentTimeInMillis(try CurrentTimeInMillis.decodeBody(&reader))
        case HistoricalData.id: value = .historicalData(try HistoricalData.decodeBody(&reader))
        case HistoricalDataEnd.id: value = .historicalDataEnd(try HistoricalDataEnd.decodeBody(&reader))
        case HistoricalDataUpdate.id: value = .historicalDataUpdate(try HistoricalDataUpdate.decodeBody(&reader))
        case RealTimeBar.id: value = .realtimeBar(try RealTimeBar.decodeBody(&reader))
        case ContractData.id: value = .contractData(try ContractData.decodeBody(&reader))
        case ContractDataEnd.id: value = .contractDataEnd(try ContractDataEnd.decodeBody(&reader))
        case Position.id: value = .position(try Position.decodeBody(&reader))
        case PositionEnd.id: value = .positionEnd(try PositionEnd.decodeBody(&reader))
        case PositionMulti.id: value = .positionMulti(try PositionMulti.decodeBody(&reader))
        case PositionMultiEnd.id: value = .positionMultiEnd(try PositionMultiEnd.decodeBody(&reader))
        case AccountSummary.id: value = .accountSummary(try AccountSummary.decodeBody(&reader))
        case AccountSummaryEnd.id: value = .accountSummaryEnd(try AccountSummaryEnd.decodeBody(&reader))
        case UpdateAccountValue.id: value = .updateAccountValue(try UpdateAccountValue.decodeBody(&reader))
        case UpdatePortfolio.id: value = .updatePortfolio(try UpdatePortfolio.decodeBody(&reader))
        case UpdateAccountTime.id: value = .updateAccountTime(try UpdateAccountTime.decodeBody(&reader))
        case AccountDownloadEnd.id: value = .accountDownloadEnd(try AccountDownloadEnd.decodeBody(&reader))
        case AccountUpdateMulti.id: value = .accountUpdateMulti(try AccountUpdateMulti.decodeBody(&reader))
        case AccountUpdateMultiEnd.id: value = .accountUpdateMultiEnd(try AccountUpdateMultiEnd.decodeBody(&reader))
        case PnL.id: value = .pnl(try PnL.decodeBody(&reader))
        case PnLSingle.id: value = .pnlSingle(try PnLSingle.decodeBody(&reader))
        default: throw TWSProtocolError.unknownMessageID(direction: "server", id: id)
        }
        return value
    }

    public static func decode(payload: [UInt8], serverVersion: Int) throws -> Self {
        try payload.withUnsafeBytes { try decode(payload: $0, serverVersion: serverVersion) }
    }
}
