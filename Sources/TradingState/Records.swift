import Foundation
import TWSProtocol

/// One order as Moonwire knows it: what was asked, and what TWS has reported since.
public struct OrderRecord: Sendable, Equatable {
    /// Where the order stands, driven only by what TWS reports.
    public enum Status: String, Sendable, Equatable {
        /// Journaled and sent; TWS has not acknowledged it yet.
        case pending
        /// Working at TWS (PreSubmitted, Submitted, PendingSubmit, ApiPending, PendingCancel).
        case submitted
        case filled
        case cancelled
        /// Refused before it ever worked (201, 110, 434...).
        case rejected
        /// TWS reports it Inactive: held, not working; not terminal (it may work again, and
        /// it can be cancelled).
        case inactive
        /// Not found at TWS after a restart: it never got there, or was lost. Never resent.
        case unknown
        /// Never left Moonwire (the socket was down, or the kill switch closed the gate before
        /// it was written): TWS never saw it, so it is over and holds no exposure.
        case notSent = "not_sent"

        public var isTerminal: Bool { self == .filled || self == .cancelled || self == .rejected || self == .notSent }

        /// The status TWS names, in our terms (see `OrderLifecycle`).
        public static func from(tws: String) -> Status? { OrderLifecycle.status(tws: tws) }
    }

    /// Moonwire's own key, journaled before the order is sent and carried to TWS in orderRef.
    public var clientKey: String
    public var orderId: Int
    public var strategy: String
    /// The contract and the order's terms are kept in a shared box, copied only when one of
    /// them changes: a record is copied at every step of an order's life (journal, state,
    /// the strategy's view, events), and the two together are 3 KB of fields and strings.
    private var terms: Terms
    public var contract: Contract {
        _read { yield terms.value.contract }
        _modify {
            if !isKnownUniquelyReferenced(&terms) { terms = Terms(terms.value) }
            yield &terms.value.contract
        }
    }
    public var order: Order {
        _read { yield terms.value.order }
        _modify {
            if !isKnownUniquelyReferenced(&terms) { terms = Terms(terms.value) }
            yield &terms.value.order
        }
    }
    /// Whether `other` reports the same state as this record: status, fills, average price,
    /// size and prices, and, while the order works, the reason (a refused modify or a warning
    /// is news about a working order). TWS often reports an ended order twice (orderStatus
    /// Cancelled, then error 202 with a reason): a strategy and the event stream are told each
    /// state once.
    public func reportsSameState(as other: OrderRecord) -> Bool {
        status == other.status && filled == other.filled && remaining == other.remaining && averageFillPrice == other.averageFillPrice
            && quantity == other.quantity && order.lmtPrice == other.order.lmtPrice && order.auxPrice == other.order.auxPrice
            && (status.isTerminal || reason == other.reason)
    }

    public var status: Status = .pending
    /// Shares filled, from executions (a fill counts even if no orderStatus ever says so).
    public var filled = 0.0
    public var averageFillPrice = 0.0
    public var permId: Int64 = 0
    /// Why it was rejected or cancelled, or the last warning TWS gave.
    public var reason = ""
    public var createdAt: Double
    public var updatedAt: Double

    public init(clientKey: String, orderId: Int, strategy: String, contract: Contract, order: Order, createdAt: Double) {
        self.clientKey = clientKey
        self.orderId = orderId
        self.strategy = strategy
        self.terms = Terms((contract, order))
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// Copy-on-write storage of the contract and the order: never mutated while shared.
    private final class Terms: @unchecked Sendable {
        var value: (contract: Contract, order: Order)
        init(_ value: (contract: Contract, order: Order)) { self.value = value }
    }

    public static func == (lhs: OrderRecord, rhs: OrderRecord) -> Bool {
        lhs.clientKey == rhs.clientKey && lhs.orderId == rhs.orderId && lhs.strategy == rhs.strategy && lhs.status == rhs.status
            && lhs.filled == rhs.filled && lhs.averageFillPrice == rhs.averageFillPrice && lhs.permId == rhs.permId && lhs.reason == rhs.reason
            && lhs.createdAt == rhs.createdAt && lhs.updatedAt == rhs.updatedAt
            && (lhs.terms === rhs.terms || (lhs.contract == rhs.contract && lhs.order == rhs.order))
    }

    public var quantity: Double { order.totalQuantity?.doubleValue ?? 0 }
    public var remaining: Double { max(0, quantity - filled) }
    public var isBuy: Bool { order.action == "BUY" }
    /// The instrument's key (`Contract.instrumentKey`): the symbol for a stock.
    public var instrumentKey: String { contract.instrumentKey }

    /// The orderRef prefix that marks Moonwire's orders.
    public static let refPrefix = "mw:"

    public static func clientKey(fromOrderRef ref: String) -> String? {
        ref.hasPrefix(refPrefix) ? String(ref.dropFirst(refPrefix.count)) : nil
    }
}

/// One execution, unique by execId, with its commission once that has arrived.
public struct ExecutionRecord: Sendable, Equatable {
    public var details: ExecDetails
    public var clientKey: String?
    public var commission: CommissionReport?
    public var receivedAt: Double

    public init(details: ExecDetails, clientKey: String?, receivedAt: Double) {
        self.details = details
        self.clientKey = clientKey
        self.receivedAt = receivedAt
    }

    public var execId: String { details.execution.execId }
    public var orderId: Int { details.execution.orderId }
    /// The instrument's key (`Contract.instrumentKey`): the symbol for a stock.
    public var symbol: String { details.contract.instrumentKey }
    /// The contract size: the multiplier of a future or option, else 1.
    public var multiplier: Double { details.contract.size }
    public var side: String { details.execution.side }
    public var shares: Double { details.execution.shares?.doubleValue ?? 0 }
    public var price: Double { details.execution.price }
    /// +shares for a buy, −shares for a sale.
    public var signedShares: Double { side == "BOT" ? shares : -shares }
    /// When this execution corrects an earlier one (IB reuses the execId with a higher last
    /// part: `...01.01` is corrected by `...01.02`): that one's execId and signed shares,
    /// which this one replaces (counted once: the correction's figures only).
    public var corrects: (execId: String, signedShares: Double)?

    /// The execId without its correction number, and that number.
    public static func correction(of execId: String) -> (base: Substring, number: Int)? {
        guard let dot = execId.lastIndex(of: "."), let number = Int(execId[execId.index(after: dot)...]) else { return nil }
        return (execId[..<dot], number)
    }

    public static func == (lhs: ExecutionRecord, rhs: ExecutionRecord) -> Bool {
        lhs.details == rhs.details && lhs.clientKey == rhs.clientKey && lhs.receivedAt == rhs.receivedAt && lhs.commission == rhs.commission
            && lhs.corrects?.execId == rhs.corrects?.execId && lhs.corrects?.signedShares == rhs.corrects?.signedShares
    }
}

/// A holding as TWS reports it.
public struct PositionRecord: Sendable, Equatable {
    public var account: String
    public var symbol: String
    public var conId: Int
    public var quantity: Double
    public var averageCost: Double
}

/// What the trading state tells its consumers, after the journal has it.
public enum TradingEvent: Sendable {
    case order(OrderRecord)
    case fill(ExecutionRecord)
    case commission(ExecutionRecord)
    case position(PositionRecord)
    case account(account: String, key: String, value: String, currency: String)
    case pnl(daily: Double?, unrealized: Double?, realized: Double?)
    case error(id: Int?, code: Int, message: String)
    case connection(String)
    case reconciled(ReconciliationReport)
    /// The journal cannot be written: trading is closed (the reason says where and why).
    case journalFailed(String)
    /// It can again: everything that waited is journaled and delivered.
    case journalRestored
}

/// What a reconciliation found.
public struct ReconciliationReport: Sendable, Equatable {
    /// Steps that timed out or failed: their facts are unknown, not empty.
    public var unknown: [String] = []
    public var ordersUpdated = 0
    public var executionsRecovered = 0
    /// Journaled orders TWS has no trace of (marked `.unknown`, never resent).
    public var lostOrders: [String] = []
    /// Positions the journal and the executions cannot explain: symbol → (TWS, journal).
    public var unexplainedPositions: [String: PositionMismatch] = [:]

    public struct PositionMismatch: Sendable, Equatable {
        public var reported: Double
        public var explained: Double
    }

    public var isClean: Bool { unknown.isEmpty && unexplainedPositions.isEmpty }
}
