import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSClient
import TWSProtocol

/// Orders, executions, positions and account values, kept from what TWS reports, journaled
/// before anyone is told, and reconciled with TWS at startup and after every reconnect.
///
/// Lives on the client's event loop (every TWS event arrives there, in order); public
/// methods hop onto it.
public final class TradingState: @unchecked Sendable {
    public struct Options: Sendable {
        /// Keep strategies from trading while a position cannot be explained.
        public var failClosed = true
        /// Seconds each step of a reconciliation (open orders, completed orders, executions,
        /// positions, the account) waits for TWS's answer before it is "unknown"; nil: the
        /// client's `requestTimeout`.
        public var reconcileTimeout: Double?
        /// What the journal's records are kept under: nil for the account TWS reports
        /// (`account:DU1234567`); the built-in paper gateway's identity (`paper:1a2b3c4d`)
        /// for a paper account that lives only as long as that gateway.
        public var scope: String?
        public init() {}
    }

    let client: TWSClient
    public let journal: Journal
    let options: Options
    let loop: EventLoop
    var logger: Logger
    public internal(set) var orders: [String: OrderRecord] = [:]
    var keyByOrderId: [Int: String] = [:]
    /// Keys of orders that ended unfilled, oldest first (TradingState+Memory).
    var finishedUnfilled = FinishedKeys<String>(kept: TradingState.keptUnfilledOrders)
    /// Modifies and cancels sent and not answered yet, per order id (TradingState+Requests).
    var requestsInFlight: [Int: Int] = [:]
    var executions: [String: ExecutionRecord] = [:]
    var executionOrder: [String] = []
    /// Commission reports that came before their execution.
    var waitingCommissions: [String: CommissionReport] = [:]
    var positions: [String: PositionRecord] = [:]
    var accountValues: [String: [String: (String, String)]] = [:]
    /// The base currency and exchange rates from the account values (TradingState+Rates).
    let rateBook = NIOLockedValueBox(RateBook())
    var observers: [(TradingEvent) -> Void] = []
    var keySequence = 0
    /// The reconciliation running now and the connection it reconciles (TradingState+Reconcile).
    var reconcileTask: (connection: Int, task: Task<ReconciliationReport, Never>)?
    /// How many times the connection dropped: a reconciliation reconciles the connection it
    /// began on, and only a clean one of the connection as it is now opens the order gate.
    var connectionNumber = 0
    /// Whether orders may leave now: the client's order gate is open (no halt, the journal
    /// can be written, reconciled since the last connection, nothing left unexplained). Any thread.
    public var tradingAllowed: Bool { client.orderGate.closure == nil }
    public internal(set) var lastReport = ReconciliationReport()
    /// Whether an unexplained position closes trading (any thread: the options never change).
    public var failsClosed: Bool { options.failClosed }
    /// Why the journal cannot be written now (trading is closed meanwhile), or nil. Any thread.
    public var journalFailure: String? { failure.withLockedValue { $0 } }
    let failure = NIOLockedValueBox<String?>(nil)
    /// Where the journal is written and the consumers are told (see `journaled`); the
    /// observers, the backlog and the retry belong to it.
    let writer: EventLoop
    /// The loop the consumers are told on: their timers belong there too.
    public var eventsLoop: EventLoop { writer }
    /// Writes that failed and the events behind them, in order (writer only).
    var backlog: [JournalItem] = []
    var retryScheduled = false
    /// How many retries since the journal failed (their spacing grows), and when trading last
    /// reopened after a failure (writer only).
    var retryStep = 0
    var reopenedAt = 0.0
    /// The last connectivity notice said the connection to IB was lost (1100); repeats of
    /// the same state are only counted.
    var connectivityLost = false
    var repeatedNotices = 0
    /// The scope the records in memory belong to ("" until the first connection names it).
    public internal(set) var scope = ""

    public init(client: TWSClient, journal: Journal, options: Options = Options(), logger: Logger = Logger(label: "trading-state")) throws {
        self.client = client
        self.journal = journal
        self.options = options
        self.loop = client.eventLoop
        self.writer = MultiThreadedEventLoopGroup.singleton.next()
        self.logger = logger
        // Nothing leaves before the first reconciliation: an order decided on a picture TWS
        // has not confirmed is an order decided on a guess.
        client.orderGate.update(["reconciling": Self.notReconciledYet])
        try load(scope: options.scope ?? "")
        client.observe { [weak self] event in self?.handle(event) }
    }

    /// Replaces what is in memory with the journal's records of `scope`.
    func load(scope: String) throws {
        orders = [:]
        keyByOrderId = [:]
        executions = [:]
        executionOrder = []
        waitingCommissions = [:]
        positions = [:]
        finishedUnfilled = FinishedKeys(kept: Self.keptUnfilledOrders)
        for record in try journal.loadOrders(scope: scope) {
            orders[record.clientKey] = record
            keyByOrderId[record.orderId] = record.clientKey
        }
        for record in try journal.loadExecutions(scope: scope) {
            executions[record.execId] = record
            executionOrder.append(record.execId)
        }
        for report in try journal.loadOrphanCommissions(scope: scope) { waitingCommissions[report.execId] = report }
        self.scope = scope
        // What an order has filled is what its executions say (a journal written by an older
        // version, or by a process killed at the wrong moment, may lag behind them).
        for (key, var order) in orders where !key.hasPrefix("tws:") {
            let mine = executionOrder.compactMap { executions[$0] }.filter { $0.clientKey == key }
            let filled = mine.reduce(0) { $0 + $1.shares }
            guard filled > order.filled + 1e-9 else { continue }
            order.filled = filled
            order.averageFillPrice = mine.reduce(0) { $0 + $1.shares * $1.price } / filled
            if filled >= order.quantity - 1e-9 { order.status = .filled }
            orders[key] = order
        }
        // Only the latest finished unfilled orders stay in memory (TradingState+Memory).
        for record in orders.values.sorted(by: { ($0.updatedAt, $0.orderId) < ($1.updatedAt, $1.orderId) }) { rememberFinished(record) }
    }

    /// On connecting: the scope is the configured one, or the account TWS reports. Another
    /// account on the same port loads that account's records instead.
    func enterScope(accounts: [String]) {
        let wanted = options.scope ?? "account:\(accounts.first ?? "")"
        guard wanted != scope else { return }
        do {
            try load(scope: wanted)
            logger.info("journal: \(orders.count) orders and \(executions.count) executions of \(wanted)")
        } catch {
            logger.error("journal: cannot read the records of \(wanted): \(error)")
            client.orderGate.update(["journal": "the journal's records of \(wanted) cannot be read (\(error)): trading is closed"])
        }
    }

    /// Registers a consumer; called on the client's loop, after the journal has the event.
    public func observe(_ observer: @escaping @Sendable (TradingEvent) -> Void) {
        writer.execute { self.observers.append(observer) }
    }


    // MARK: Reading the state (on the loop, or through these snapshots)

    public func snapshot() async -> Snapshot {
        (try? await loop.submit { self.makeSnapshot() }.get()) ?? Snapshot()
    }

    public struct Snapshot: Sendable {
        public var orders: [OrderRecord] = []
        public var executions: [ExecutionRecord] = []
        public var positions: [PositionRecord] = []
        public var accountValues: [String: [String: String]] = [:]
        public var tradingAllowed = false
        /// The scope the records belong to (`account:...`, `paper:...`).
        public var scope = ""
    }

    func makeSnapshot() -> Snapshot {
        var snapshot = Snapshot()
        snapshot.orders = orders.values.sorted { ($0.createdAt, $0.orderId) < ($1.createdAt, $1.orderId) }
        snapshot.executions = executionOrder.compactMap { executions[$0] }
        snapshot.positions = positions.values.sorted { $0.symbol < $1.symbol }
        snapshot.accountValues = accountValues.mapValues { $0.mapValues(\.0) }
        snapshot.tradingAllowed = tradingAllowed
        snapshot.scope = scope
        return snapshot
    }

    /// Net shares per symbol that the journaled executions explain.
    public func explainedPositions() -> [String: Double] {
        var result: [String: Double] = [:]
        for id in executionOrder {
            guard let record = executions[id] else { continue }
            result[record.symbol, default: 0] += record.signedShares
        }
        return result
    }

    // MARK: Orders

    /// Journals the order under a fresh client key, then sends it. Returns the record as
    /// acknowledged by TWS; a rejection throws `TWSError.ib` (and the record says why).
    public func submit(contract: Contract, order: Order, strategy: String, id reserved: Int? = nil) async throws -> OrderRecord {
        let id: Int
        if let reserved { id = reserved } else { id = try await client.reserveId() }
        return try await beginSubmit(contract: contract, order: order, strategy: strategy, id: id).get()
    }

    /// Journals the order, then queues it for sending before returning (orders begun one
    /// after the other leave in that order); the future completes with the record once TWS
    /// acknowledged it, or fails with the rejection. None waits for another's answer.
    public func beginSubmit(contract: Contract, order: Order, strategy: String, id: Int) async throws -> EventLoopFuture<OrderRecord> {
        let (record, scope) = try await loop.submit { () -> (OrderRecord, String) in
            self.keySequence += 1
            let key = "\(strategy.prefix(16)):\(Int(Date().timeIntervalSince1970 * 1000) % 100_000_000):\(self.keySequence):\(id)"
            var order = order
            order.orderRef = OrderRecord.refPrefix + key
            let now = Date().timeIntervalSince1970
            return (OrderRecord(clientKey: key, orderId: id, strategy: strategy, contract: contract, order: order, createdAt: now), self.scope)
        }.get()
        let key = record.clientKey
        // Journal first (on the writer, behind everything before it): an order the journal
        // cannot hold is not sent. A journal that cannot be written closes trading; an order
        // with a field it cannot hold is refused alone.
        try await writer.submit {
            if let failure = self.journalFailure { throw JournalError(message: failure) }
            do {
                try self.journal.insert(order: record, scope: scope)
            } catch where JournalFault(error) == .row {
                throw JournalRowError(message: "order \(id) cannot be journaled: \(error); it was not sent (only this order is refused)")
            } catch {
                self.journalFailed("order \(key)", error)
                throw JournalError(message: self.journalFailure ?? "the journal cannot be written: \(error)")
            }
        }.get()
        return try await loop.submit { () -> EventLoopFuture<OrderRecord> in
            self.orders[key] = record
            self.keyByOrderId[id] = key
            return self.client.startOrder(orderId: id, contract: contract, order: record.order)
                .map { _ in self.orders[key] ?? record }
                .flatMapErrorThrowing { error in
                    if case let TWSError.ib(code, message, _) = error { self.reject(key: key, code: code, message: message) }
                    if case let TWSError.orderGateClosed(reason) = error { self.notSent(key: key, reason: reason) }
                    if case TWSError.notConnected = error { self.notSent(key: key, reason: "\(error)") }
                    throw error
                }
        }.get()
    }

    public func modify(orderId: Int, change: @escaping @Sendable (inout Order) -> Void) async throws {
        try await beginModify(orderId: orderId, change: change).get()
    }

    /// Queues the modification before returning; the future completes when TWS acknowledged
    /// it (the journal and consumers hear of the new terms then).
    public func beginModify(orderId: Int, change: @escaping @Sendable (inout Order) -> Void) async throws -> EventLoopFuture<Void> {
        try await loop.submit { () -> EventLoopFuture<Void> in
            guard let key = self.keyByOrderId[orderId], let record = self.orders[key] else {
                throw TWSError.invalidRequest("order \(orderId) is not known")
            }
            guard !record.status.isTerminal else { throw TWSError.invalidRequest("order \(orderId) is \(record.status.rawValue)") }
            var changed = record.order
            change(&changed)
            // A modification takes effect: a bracket's legs were placed staged (transmit off,
            // the last leg sending all three), and resent as they were they would stay staged.
            changed.transmit = true
            let order = changed
            return self.inFlight(orderId, self.client.startOrder(orderId: orderId, contract: record.contract, order: order, name: "modifyOrder")).flatMapThrowing { _ in
                guard var current = self.orders[record.clientKey] else { return }
                current.order = order
                current.updatedAt = Date().timeIntervalSince1970
                self.store(current, event: "modified", detail: "")
            }
        }.get()
    }

    public func cancel(orderId: Int) async throws {
        _ = try await client.cancelOrder(id: orderId)
    }

    /// Queues the cancel before returning; the future completes when TWS reports it done.
    public func beginCancel(orderId: Int) -> EventLoopFuture<Bool> {
        loop.flatSubmit { self.inFlight(orderId, self.client.startCancel(id: orderId)) }
    }

    private func reject(key: String, code: Int, message: String) {
        guard var record = orders[key], !record.status.isTerminal else { return }
        record.status = .rejected
        record.reason = "\(code): \(message)"
        record.updatedAt = Date().timeIntervalSince1970
        store(record, event: "rejected", detail: record.reason)
    }

    /// Memory, then the journal, then consumers (who hear only what the journal holds).
    func store(_ record: OrderRecord, event: String, detail: String) {
        orders[record.clientKey] = record
        keyByOrderId[record.orderId] = record.clientKey
        rememberFinished(record)
        journaled("order \(record.clientKey)", { [journal] in try journal.update(order: record, event: event, detail: detail) },
                  then: [.order(record)])
    }

    /// Shares of the order with `key` that journaled executions show.
    func executedShares(_ key: String) -> Double {
        executionOrder.compactMap { executions[$0] }.filter { $0.clientKey == key }.reduce(0) { $0 + $1.shares }
    }

    // MARK: Events from TWS

    func handle(_ event: TWSClientEvent) {
        switch event {
        case let .ready(version, accounts, nextId, restored):
            enterScope(accounts: accounts)
            let detail = "server version \(version), accounts \(accounts.joined(separator: ",")), next id \(nextId)"
            journaled("connection event", { [journal] in journal.connectionEvent(restored ? "restored" : "connected", detail) },
                      then: [.connection(restored ? "restored" : "connected")])
            Task { _ = await self.reconcile() }
        case .connectionLost:
            // Closed at once, before anyone hears of the drop: what filled, was cancelled or
            // was placed by others meanwhile is unknown until the reconciliation after the
            // reconnect (a strategy that buys when flat would buy twice).
            client.orderGate.update(["reconciling": Self.reconcilingAfterDrop])
            connectionNumber += 1
            journaled("connection event", { [journal] in journal.connectionEvent("lost", "") }, then: [.connection("lost")])
        case let .connectivity(code, message):
            // A storm of the same notice is one event: counted, journaled and told once.
            let lost = code == 1100
            guard lost != connectivityLost else {
                repeatedNotices += 1
                return
            }
            connectivityLost = lost
            let folded = repeatedNotices
            repeatedNotices = 0
            journaled("connection event", { [journal] in
                journal.connectionEvent("connectivity \(code)", message + (folded > 0 ? " (\(folded) repeated notices before it folded)" : ""))
            }, then: [.connection(lost ? "lost" : "restored")])
        case let .failure(error):
            let detail = "\(error)"
            journaled("connection event", { [journal] in journal.connectionEvent("failure", detail) }, then: [])
        case let .error(id, code, message, category):
            handleError(id: id, code: code, message: message, category: category)
        case let .message(message):
            handle(message)
        }
    }

    private func handleError(id: Int, code: Int, message: String, category: IBErrorCategory) {
        if let key = keyByOrderId[id], var record = orders[key] {
            switch category {
            case .orderRejection where !record.status.isTerminal && !refusesPlacement(of: record, code: code):
                // A modify or cancel TWS refused: the order works on as TWS last reported it;
                // only the request failed (the strategy hears on_error, and on_order with why).
                record.reason = "request refused: \(code): \(message)"
                record.updatedAt = Date().timeIntervalSince1970
                store(record, event: "request refused", detail: record.reason)
            case .orderRejection where !record.status.isTerminal && record.filled == 0:
                record.status = .rejected
                record.reason = "\(code): \(message)"
                record.updatedAt = Date().timeIntervalSince1970
                store(record, event: "rejected", detail: record.reason)
            case .orderCancelled where !record.status.isTerminal:
                record.status = .cancelled
                record.reason = message
                record.updatedAt = Date().timeIntervalSince1970
                store(record, event: "cancelled", detail: message)
            default:
                // A warning on a live order (399, 10349...) never makes it terminal.
                record.reason = "\(code): \(message)"
                record.updatedAt = Date().timeIntervalSince1970
                store(record, event: "warning", detail: record.reason)
            }
        }
        emit(.error(id: id > 0 ? id : nil, code: code, message: message))
    }

    func handle(_ message: ServerMessage) {
        switch message {
        case let .openOrder(m):
            applyReport(orderId: m.order.orderId, contract: m.contract, order: m.order, permId: m.order.permId, status: m.orderState.status,
                        filled: nil, average: nil)
        case let .completedOrder(m):
            // completedOrder carries no order id (it reads as 0): match by orderRef only.
            applyReport(orderId: nil, contract: m.contract, order: m.order, permId: m.order.permId,
                        status: m.orderState.status, filled: m.order.filledQuantity?.doubleValue, average: nil, completed: true)
        case let .orderStatus(m):
            guard let key = keyByOrderId[m.orderId], var record = orders[key] else { return }
            var changed = false
            // Our orders' fills come from their executions, so a strategy hears of each fill
            // (on_fill) before the order update that counts it; TWS's own orders (adopted)
            // take orderStatus's figures.
            let ours = !record.strategy.isEmpty
            var status = OrderLifecycle.next(record.status, reported: m.status)
            if ours && status == .filled && executedShares(key) < record.quantity - 1e-9 {
                status = record.status == .pending || record.status == .inactive ? .submitted : record.status
            }
            if status != record.status {
                record.status = status
                changed = true
            }
            if !ours, let filled = m.filled?.doubleValue, filled > record.filled {
                record.filled = filled
                record.averageFillPrice = m.avgFillPrice
                changed = true
            }
            if m.permId != 0 && record.permId != m.permId { record.permId = m.permId; changed = true }
            if changed {
                record.updatedAt = Date().timeIntervalSince1970
                store(record, event: "status", detail: m.status)
            }
        case let .execDetails(m):
            record(execution: m)
        case let .commissionReport(m):
            record(commission: m)
        case let .position(m):
            let record = PositionRecord(account: m.account, symbol: m.contract.instrumentKey, conId: m.contract.conId,
                                        quantity: m.position?.doubleValue ?? 0, averageCost: m.avgCost)
            positions[m.contract.instrumentKey] = record
            emit(.position(record))
        case let .updatePortfolio(m):
            let record = PositionRecord(account: m.accountName, symbol: m.contract.instrumentKey, conId: m.contract.conId,
                                        quantity: m.position?.doubleValue ?? 0, averageCost: m.averageCost)
            positions[m.contract.instrumentKey] = record
            emit(.position(record))
        case let .updateAccountValue(m):
            noteRate(key: m.key, value: m.value, currency: m.currency)
            let key = accountValueKey(account: m.accountName, key: m.key, currency: m.currency)
            accountValues[m.accountName, default: [:]][key] = (m.value, m.currency)
            let time = Date().timeIntervalSince1970
            journaled("account value", { [journal] in try journal.insert(accountValues: [m], time: time) },
                      then: [.account(account: m.accountName, key: key, value: m.value, currency: m.currency)])
        case let .accountSummary(m):
            noteRate(key: m.tag, value: m.value, currency: m.currency)
            let key = accountValueKey(account: m.account, key: m.tag, currency: m.currency)
            accountValues[m.account, default: [:]][key] = (m.value, m.currency)
            emit(.account(account: m.account, key: key, value: m.value, currency: m.currency))
        case let .pnl(m):
            emit(.pnl(daily: m.dailyPnL, unrealized: m.unrealizedPnL, realized: m.realizedPnL))
        default:
            break
        }
    }

    /// openOrder / completedOrder: binds TWS's order to ours by orderRef, adopts orders
    /// placed elsewhere, and moves the status forward (never back from terminal).
    /// `completed`: from TWS's completed orders, which hold only orders that are over: a status
    /// that would leave the order working (Inactive: a placement refused while we were away)
    /// ends it (cancelled when part of it filled, rejected otherwise). Filled ends it only
    /// once the executions cover it (or at the end of the reconciliation).
    private func applyReport(orderId: Int?, contract: Contract, order: Order, permId: Int64, status: String, filled: Double?, average: Double?,
                             completed: Bool = false)
    {
        var key = orderId.flatMap { keyByOrderId[$0] }
        if let ref = OrderRecord.clientKey(fromOrderRef: order.orderRef), orders[ref] != nil { key = ref }
        if key == nil, let permKey = orders.first(where: { permId != 0 && $0.value.permId == permId })?.key { key = permKey }
        if key == nil {
            // An order Moonwire did not place (TWS, another client): tracked, never touched.
            let adopted = "tws:\(permId != 0 ? String(permId) : String(orderId ?? 0))"
            if orders[adopted] != nil { return }
            var record = OrderRecord(clientKey: adopted, orderId: orderId ?? 0, strategy: "", contract: contract, order: order,
                                     createdAt: Date().timeIntervalSince1970)
            record.status = OrderRecord.Status.from(tws: status) ?? .submitted
            record.permId = permId
            orders[adopted] = record
            if let orderId, orderId != 0 { keyByOrderId[orderId] = adopted }
            let adoptedRecord = record
            journaled("order \(adopted)", { [journal, scope] in try journal.insert(order: adoptedRecord, scope: scope) }, then: [.order(record)])
            return
        }
        guard let key, var record = orders[key] else { return }
        var changed = false
        if let orderId, orderId != 0, record.orderId != orderId {
            keyByOrderId[record.orderId] = nil
            record.orderId = orderId
            changed = true
        }
        // The terms first, while the order is not over in our records, and judged by the status
        // it had before this report: a report that ends the order (Filled, Cancelled, a
        // completed order) carries TWS's final terms too (a modification TWS took whose answer
        // was lost in a drop or a restart, then filled while we were away), and whether its
        // executions cover it is measured against TWS's quantity, not a stale one.
        // TWS changed the terms itself: a one-cancels-all group reduced the order after a
        // sibling's partial fill (TWS's terms are the truth; never below what has filled).
        if let reported = order.totalQuantity?.doubleValue, reported > 0, abs(reported - record.quantity) > 1e-9,
           reported >= record.filled - 1e-9, !record.status.isTerminal
        {
            record.order.totalQuantity = order.totalQuantity
            changed = true
        }
        // Prices as TWS works them (a modification TWS took whose answer we missed; TWS's
        // reports are the truth of what works).
        if !record.status.isTerminal {
            if let reported = order.lmtPrice, reported != 0, let mine = record.order.lmtPrice, abs(reported - mine) > 1e-9 * max(1, abs(mine)) {
                record.order.lmtPrice = reported
                changed = true
            }
            if let reported = order.auxPrice, reported != 0, let mine = record.order.auxPrice, abs(reported - mine) > 1e-9 * max(1, abs(mine)) {
                record.order.auxPrice = reported
                changed = true
            }
        }
        var newStatus = OrderLifecycle.next(record.status, reported: status)
        if !record.strategy.isEmpty && newStatus == .filled && executedShares(key) < record.quantity - 1e-9 {
            newStatus = record.status == .pending || record.status == .inactive ? .submitted : record.status
        }
        // Filled, with the executions yet to come (in a reconciliation they follow the order
        // reports), is not an order "over" unfilled: it works on in our records until its
        // executions fill it, or the reconciliation ends it filled on TWS's word (executions
        // older than TWS reports: TradingState+Reconcile). Ended here first, a strategy would
        // hear rejected (or cancelled), then filled.
        if completed && !newStatus.isTerminal && OrderLifecycle.status(tws: status) != .filled {
            newStatus = executedShares(key) > 0 || record.filled > 0 ? .cancelled : .rejected
            if record.reason.isEmpty { record.reason = "TWS lists it among completed orders as \(status)" }
        }
        if newStatus != record.status {
            record.status = newStatus
            changed = true
        }
        if permId != 0 && record.permId != permId { record.permId = permId; changed = true }
        if record.strategy.isEmpty, let filled, filled > record.filled { record.filled = filled; changed = true }
        if changed {
            record.updatedAt = Date().timeIntervalSince1970
            store(record, event: "report", detail: status)
        }
    }

    /// A fill counts once, whether it came unsolicited, from reqExecutions, or both; a
    /// correction replaces the execution it corrects. Consumers hear of the fill before the
    /// order update it completes (on_fill before on_order(filled)).
    private func record(execution details: ExecDetails) {
        let key = OrderRecord.clientKey(fromOrderRef: details.execution.orderRef) ?? keyByOrderId[details.execution.orderId]
        var record = ExecutionRecord(details: details, clientKey: key, receivedAt: Date().timeIntervalSince1970)
        guard executions[record.execId] == nil else { return }
        // A correction: same execId but for the last part, which is higher.
        var corrected: ExecutionRecord?
        if let mine = ExecutionRecord.correction(of: record.execId) {
            for id in executionOrder {
                guard let other = ExecutionRecord.correction(of: id), other.base == mine.base, let earlier = executions[id] else { continue }
                if other.number >= mine.number { return }  // an older version arriving late: already superseded
                corrected = earlier
            }
        }
        if let corrected { record.corrects = (corrected.execId, corrected.signedShares) }
        if let waiting = waitingCommissions.removeValue(forKey: record.execId) { record.commission = waiting }
        if let corrected, let index = executionOrder.firstIndex(of: corrected.execId) {
            executions[corrected.execId] = nil
            executionOrder[index] = record.execId
        } else {
            executionOrder.append(record.execId)
        }
        executions[record.execId] = record
        var updated: OrderRecord?
        if let key, var order = orders[key] {
            let current = executionOrder.compactMap { executions[$0] }.filter { $0.clientKey == key }
            let filled = current.reduce(0) { $0 + $1.shares }
            if filled != order.filled || (filled >= order.quantity - 1e-9 && order.status != .filled) {
                order.filled = filled
                order.averageFillPrice = filled > 0 ? current.reduce(0) { $0 + $1.shares * $1.price } / filled : 0
                if order.filled >= order.quantity - 1e-9 { order.status = .filled }
                order.updatedAt = Date().timeIntervalSince1970
                orders[key] = order
                updated = order
            }
        }
        // The execution and the order it fills, in one go; then on_fill, then on_order.
        let fill = record
        let order = updated
        let replaced = corrected?.execId
        journaled("execution \(record.execId)", { [journal, scope] in
            try journal.record(fill: fill, replacing: replaced, order: order, scope: scope)
        }, then: [.fill(fill)] + (order.map { [.order($0)] } ?? []))
    }

    private func record(commission report: CommissionReport) {
        if executions[report.execId]?.commission == report || waitingCommissions[report.execId] == report { return }
        if var record = executions[report.execId] {
            record.commission = report
            executions[report.execId] = record
            journaled("commission \(report.execId)", { [journal, scope] in _ = try journal.insert(commission: report, scope: scope) },
                      then: [.commission(record)])
        } else {
            waitingCommissions[report.execId] = report
            journaled("commission \(report.execId)", { [journal, scope] in _ = try journal.insert(commission: report, scope: scope) }, then: [])
        }
    }
}
