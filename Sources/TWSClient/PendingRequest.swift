import NIOCore
import TWSProtocol

/// A request in flight: collects its answer from the messages routed to it and completes
/// exactly once, with a value, a TWS error, a timeout or a lost connection.
/// Lives on the client's loop only.
protocol PendingRequest: AnyObject {
    var name: String { get }
    /// Its message has been written to the socket (set for orders by the client's gate, which
    /// must tell a placement on its way from a modification of it stopped behind it).
    var written: Bool { get set }
    /// Returns true when the message completed the request.
    func deliver(_ message: ServerMessage)
    /// An IB error with this request's id. Returns true when handled (e.g. retried).
    func error(code: Int, message: String, json: String)
    func fail(_ error: TWSError)
}

/// Touched on the client's loop only; `@unchecked` because its timer closure is @Sendable.
final class Pending<T: Sendable>: PendingRequest, @unchecked Sendable {
    let name: String
    var written = false
    private var state: T
    private let handle: (inout T, ServerMessage) -> Bool
    private let promise: EventLoopPromise<T>
    var timer: Scheduled<Void>?
    /// Removes the request from the client's tables.
    var onDone: () -> Void = {}
    /// Decides what an IB error means for this request; by default it fails it.
    var onError: ((Int, String, String) -> TWSError?)?
    private var done = false

    init(name: String, initial: T, promise: EventLoopPromise<T>, handle: @escaping (inout T, ServerMessage) -> Bool) {
        self.name = name
        self.state = initial
        self.promise = promise
        self.handle = handle
    }

    func deliver(_ message: ServerMessage) {
        guard !done else { return }
        if handle(&state, message) { complete(.success(state)) }
    }

    func error(code: Int, message: String, json: String) {
        guard !done else { return }
        if let onError {
            if let failure = onError(code, message, json) { complete(.failure(failure)) }
            return
        }
        complete(.failure(.ib(code: code, message: message, advancedOrderRejectJson: json)))
    }

    func fail(_ error: TWSError) {
        guard !done else { return }
        complete(.failure(error))
    }

    private func complete(_ result: Result<T, TWSError>) {
        done = true
        timer?.cancel()
        onDone()
        switch result {
        case let .success(value): promise.succeed(value)
        case let .failure(error): promise.fail(error)
        }
    }
}

extension ServerMessage {
    /// The request id a message answers, when it carries one.
    var requestId: Int? {
        switch self {
        case let .tickPrice(m): return m.reqId
        case let .tickSize(m): return m.reqId
        case let .tickString(m): return m.reqId
        case let .tickGeneric(m): return m.reqId
        case let .tickReqParams(m): return m.reqId
        case let .marketDataType(m): return m.reqId
        case let .tickSnapshotEnd(m): return m.reqId
        case let .tickByTick(m): return m.reqId
        case let .contractData(m): return m.reqId
        case let .contractDataEnd(m): return m.reqId
        case let .historicalData(m): return m.reqId
        case let .historicalDataEnd(m): return m.reqId
        case let .headTimestamp(m): return m.reqId
        case let .historicalDataUpdate(m): return m.reqId
        case let .realtimeBar(m): return m.reqId
        case let .execDetails(m): return m.reqId == -1 ? nil : m.reqId
        case let .execDetailsEnd(m): return m.reqId
        case let .accountSummary(m): return m.reqId
        case let .accountSummaryEnd(m): return m.reqId
        case let .pnl(m): return m.reqId
        case let .pnlSingle(m): return m.reqId
        case let .positionMulti(m): return m.reqId
        case let .positionMultiEnd(m): return m.reqId
        case let .accountUpdateMulti(m): return m.reqId
        case let .accountUpdateMultiEnd(m): return m.reqId
        // Order acknowledgements are keyed by the order id.
        case let .openOrder(m): return m.order.orderId
        case let .orderStatus(m): return m.orderId
        default: return nil
        }
    }

    /// The request kind answered by messages that carry no request id.
    var requestKind: String? {
        switch self {
        case .position, .positionEnd: return "positions"
        case .openOrder, .orderStatus, .openOrderEnd: return "openOrders"
        case .completedOrder, .completedOrdersEnd: return "completedOrders"
        case .currentTime: return "currentTime"
        case .currentTimeInMillis: return "currentTimeInMillis"
        case .updateAccountValue, .updatePortfolio, .updateAccountTime, .accountDownloadEnd: return "accountUpdates"
        case .nextValidId: return "reqIds"
        default: return nil
        }
    }

    /// Messages TradingState keeps: orders, executions, positions, the account.
    var isTradingState: Bool {
        switch self {
        case .openOrder, .orderStatus, .openOrderEnd, .completedOrder, .completedOrdersEnd, .execDetails, .execDetailsEnd,
             .commissionReport, .position, .positionEnd, .updateAccountValue, .updatePortfolio, .updateAccountTime,
             .accountDownloadEnd, .accountSummary, .accountSummaryEnd, .pnl, .pnlSingle, .orderBound:
            return true
        default:
            return false
        }
    }
}
