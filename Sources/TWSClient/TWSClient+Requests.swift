import Foundation
import NIOCore
import TWSProtocol

/// The requests, as async calls that end in a value or a typed error.
extension TWSClient {
    public func currentTime() async throws -> Int64 {
        try await perform("reqCurrentTime", byKind: "currentTime", initial: Int64(0), make: { _ in .reqCurrentTime(ReqCurrentTime()) }) { time, message in
            guard case let .currentTime(m) = message else { return false }
            time = m.time
            return true
        }
    }

    /// Every instrument matching `contract` (error 200 when none does).
    public func contractDetails(_ contract: Contract) async throws -> [ContractDetails] {
        try await perform("reqContractDetails", initial: [ContractDetails](),
                          make: { .reqContractDetails(ReqContractDetails(reqId: $0, contract: contract)) }) { found, message in
            switch message {
            case let .contractData(m): found.append(m.details); return false
            case .contractDataEnd: return true
            default: return false
            }
        }
    }

    /// The earliest data point TWS has for `contract` (epoch seconds, UTC): where its history starts.
    public func headTimestamp(_ contract: Contract, whatToShow: String = "TRADES", useRTH: Bool = false) async throws -> Int64 {
        try await perform("reqHeadTimeStamp", initial: Int64(0),
                          make: { .reqHeadTimeStamp(ReqHeadTimestamp(reqId: $0, contract: contract, whatToShow: whatToShow, useRTH: useRTH,
                                                                     formatDate: 2)) }) { head, message in
            guard case let .headTimestamp(m) = message else { return false }
            head = Int64(m.headTimestamp) ?? Self.parseDate(m.headTimestamp).map { Int64($0.timeIntervalSince1970) } ?? 0
            return true
        }
    }

    /// Places a new order; returns its id once TWS has acknowledged it (openOrder or
    /// orderStatus). A rejection ends in `TWSError.ib` with IB's code.
    public func placeOrder(contract: Contract, order: Order) async throws -> Int {
        let id = try await loop.submit { self.takeId() }.get()
        _ = try await startOrder(orderId: id, contract: contract, order: order).get()
        return id
    }

    /// An id for an order that is yet to be sent: journal it first, then `transmitOrder`.
    public func reserveId() async throws -> Int {
        try await loop.submit { self.takeId() }.get()
    }

    /// Sends an order under an id from `reserveId` and waits for TWS to acknowledge it.
    public func transmitOrder(id: Int, contract: Contract, order: Order) async throws {
        _ = try await startOrder(orderId: id, contract: contract, order: order, name: "placeOrder").get()
    }

    /// Modifies a working order: the same id with the new terms.
    public func modifyOrder(id: Int, contract: Contract, order: Order) async throws {
        _ = try await startOrder(orderId: id, contract: contract, order: order, name: "modifyOrder").get()
    }

    /// Queues an order (new, or a modification under its id) for sending before it returns;
    /// the future completes when TWS acknowledges it (openOrder or orderStatus) or fails with
    /// the rejection. Orders started one after the other leave in that order, and none waits
    /// for another's answer.
    /// A modification is acknowledged only by an openOrder carrying its terms: reports of the
    /// order made before TWS took the change (a fill's status, the placement's own
    /// acknowledgement, a cancel's) answer something else.
    public func startOrder(orderId: Int, contract: Contract, order: Order, name: String = "placeOrder") -> EventLoopFuture<Bool> {
        let modifying = name == "modifyOrder"
        return start(name, key: orderId, initial: false,
                     make: { .placeOrder(PlaceOrder(orderId: $0, contract: contract, order: order)) }) { _, message in
            switch message {
            case let .openOrder(m): return !modifying || Self.carries(m.order, order)
            case .orderStatus: return !modifying
            default: return false
            }
        } onError: { code, text, json in
            // Warnings about a live order do not end it; a rejection does.
            let category = IBErrorCategory.of(code: code, message: text)
            guard category != .orderWarning && category != .notice else { return nil }
            return .ib(code: code, message: text, advancedOrderRejectJson: json)
        }
    }

    /// Whether TWS's report of an order shows the terms a modification asked for (quantity,
    /// limit and stop price; prices compared to a billionth).
    static func carries(_ reported: Order, _ asked: Order) -> Bool {
        func same(_ a: Double?, _ b: Double?) -> Bool {
            switch (a, b) {
            case (nil, nil): return true
            case let (x?, y?): return abs(x - y) <= 1e-9 * max(1, abs(y))
            case let (nil, y?), let (y?, nil): return y == 0  // an unset price reads as nothing or 0
            }
        }
        return same(reported.totalQuantity?.doubleValue, asked.totalQuantity?.doubleValue)
            && same(reported.lmtPrice, asked.lmtPrice) && same(reported.auxPrice, asked.auxPrice)
    }

    /// Cancels an order; ends when TWS reports it cancelled (or refuses: 10147, 10148).
    public func cancelOrder(id: Int) async throws {
        _ = try await startCancel(id: id).get()
    }

    /// Queues a cancel before it returns; the future completes when TWS reports the order
    /// cancelled (or refuses). A slow cancel delays nothing else.
    public func startCancel(id: Int) -> EventLoopFuture<Bool> {
        start("cancelOrder", key: id, initial: false, make: { .cancelOrder(CancelOrder(orderId: $0)) }) { _, message in
            if case let .orderStatus(m) = message, m.status == "Cancelled" || m.status == "ApiCancelled" { return true }
            return false
        } onError: { code, text, json in
            code == 202 ? nil : .ib(code: code, message: text, advancedOrderRejectJson: json)
        }
    }

    /// Cancels every open order of every client. TWS does not answer it as a whole; the
    /// orders report their cancellation one by one.
    public func globalCancel() async throws {
        try await loop.submit { try self.send(.reqGlobalCancel(ReqGlobalCancel())) }.get()
    }

    public struct OpenOrderReport: Sendable, Equatable {
        public var openOrder: OpenOrder
        public var status: OrderStatus?
    }

    /// This client's open orders (all clients' with `allClients`). `timeout`, here and in the
    /// other reports the reconciliation asks for: seconds to wait for the whole answer (nil:
    /// the configuration's `requestTimeout`).
    public func openOrders(allClients: Bool = false, timeout: Double? = nil) async throws -> [OpenOrderReport] {
        try await perform(allClients ? "reqAllOpenOrders" : "reqOpenOrders", timeout: timeout, byKind: "openOrders", initial: [OpenOrderReport](),
                          make: { _ in allClients ? .reqAllOpenOrders(ReqAllOpenOrders()) : .reqOpenOrders(ReqOpenOrders()) }) { reports, message in
            switch message {
            case let .openOrder(m):
                reports.removeAll { $0.openOrder.order.orderId == m.order.orderId && $0.openOrder.order.permId == m.order.permId }
                reports.append(OpenOrderReport(openOrder: m, status: nil))
                return false
            case let .orderStatus(m):
                if let index = reports.lastIndex(where: { $0.openOrder.order.orderId == m.orderId }) { reports[index].status = m }
                return false
            case .openOrderEnd: return true
            default: return false
            }
        }
    }

    public func completedOrders(apiOnly: Bool = false, timeout: Double? = nil) async throws -> [CompletedOrder] {
        try await perform("reqCompletedOrders", timeout: timeout, byKind: "completedOrders", initial: [CompletedOrder](),
                          make: { _ in .reqCompletedOrders(ReqCompletedOrders(apiOnly: apiOnly)) }) { orders, message in
            switch message {
            case let .completedOrder(m): orders.append(m); return false
            case .completedOrdersEnd: return true
            default: return false
            }
        }
    }

    public struct ExecutionReport: Sendable, Equatable {
        public var details: ExecDetails
        public var commission: CommissionReport?
    }

    /// Executions matching `filter`, each with its commission report when TWS sent one.
    public func executions(_ filter: ExecutionFilter = ExecutionFilter(), timeout: Double? = nil) async throws -> [ExecutionReport] {
        try await perform("reqExecutions", timeout: timeout, initial: [ExecutionReport](),
                          make: { .reqExecutions(ReqExecutions(reqId: $0, filter: filter)) }) { reports, message in
            switch message {
            case let .execDetails(m):
                reports.append(ExecutionReport(details: m, commission: nil))
                return false
            case let .commissionReport(m):
                if let index = reports.firstIndex(where: { $0.details.execution.execId == m.execId }) { reports[index].commission = m }
                return false
            case .execDetailsEnd:
                return true
            default:
                return false
            }
        }
    }

    public func positions(timeout: Double? = nil) async throws -> [Position] {
        try await perform("reqPositions", timeout: timeout, byKind: "positions", initial: [Position](),
                          make: { _ in .reqPositions(ReqPositions()) }) { positions, message in
            switch message {
            case let .position(m): positions.append(m); return false
            case .positionEnd: return true
            default: return false
            }
        }
    }

    public struct AccountSnapshot: Sendable, Equatable {
        public var values: [UpdateAccountValue] = []
        public var portfolio: [UpdatePortfolio] = []
    }

    /// Subscribes to an account's updates; returns the first full download. Later updates
    /// reach observers as `.message`.
    public func accountUpdates(account: String, timeout: Double? = nil) async throws -> AccountSnapshot {
        try await perform("reqAccountUpdates", timeout: timeout, byKind: "accountUpdates", initial: AccountSnapshot(),
                          make: { _ in .reqAccountUpdates(ReqAccountUpdates(subscribe: true, acctCode: account)) }) { snapshot, message in
            switch message {
            case let .updateAccountValue(m): snapshot.values.append(m); return false
            case let .updatePortfolio(m): snapshot.portfolio.append(m); return false
            case .accountDownloadEnd: return true
            default: return false
            }
        }
    }

    /// One account summary (the subscription is cancelled once it has arrived).
    public func accountSummary(tags: [String], group: String = "All", timeout: Double? = nil) async throws -> [AccountSummary] {
        let values = try await perform("reqAccountSummary", timeout: timeout, initial: [AccountSummary](),
                                       make: { .reqAccountSummary(ReqAccountSummary(reqId: $0, groupName: group, tags: tags.joined(separator: ","))) }) { values, message in
            switch message {
            case let .accountSummary(m): values.append(m); return false
            case .accountSummaryEnd: return true
            default: return false
            }
        }
        if let reqId = values.first?.reqId {
            try? await loop.submit { try self.send(.cancelAccountSummary(CancelAccountSummary(reqId: reqId))) }.get()
        }
        return values
    }

    /// The first PnL figures of an account (the subscription then keeps reporting to observers).
    public func pnl(account: String) async throws -> PnL {
        try await perform("reqPnL", initial: PnL(), make: { .reqPnL(ReqPnL(reqId: $0, account: account)) }) { value, message in
            guard case let .pnl(m) = message else { return false }
            value = m
            return true
        }
    }
}

extension TWSClient {
    /// One quote of `contract` as TWS has it now (reqMktData with snapshot = true, answered
    /// until tickSnapshotEnd; IB allows about 11 s for it).
    public func snapshotQuote(_ contract: Contract, timeout: Double = 11) async throws -> MarketQuote {
        try await perform("reqMktData snapshot", timeout: timeout, initial: MarketQuote(symbol: contract.symbol),
                          make: { .reqMktData(ReqMktData(reqId: $0, contract: contract, snapshot: true)) }) { quote, message in
            switch message {
            case let .tickPrice(tick):
                _ = quote.apply(priceTick: tick.tickType, price: tick.price, size: tick.size)
                return false
            case .tickSnapshotEnd:
                return true
            default:
                return false
            }
        }
    }
}
