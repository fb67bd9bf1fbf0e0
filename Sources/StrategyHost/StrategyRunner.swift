import Foundation
import GRDB
import Logging
import LuaRuntime
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSClient
import TWSProtocol
import TradingState

/// Connects strategies to TWS: subscriptions, the ordered order pipeline, the journal, and
/// the events of the trading state, routed to the strategy they belong to.
public final class StrategyRunner: StrategyServices, @unchecked Sendable {
    public let client: TWSClient
    public let state: TradingState
    let journal: Journal
    var logger: Logger
    private let lock = NIOLock()
    private var strategies: [String: Strategy] = [:]
    private var ownerOfOrder: [Int: String] = [:]
    /// Orders that ended unfilled, oldest first: their owners are forgotten beyond the latest
    /// `TradingState.keptUnfilledOrders` (memory flat in the number of orders; under `lock`).
    private var endedUnfilled = FinishedKeys<Int>(kept: TradingState.keptUnfilledOrders)
    /// The account-wide limits and exposure (under `lock`).
    private var account: AccountGate
    /// Per strategy and code: notices delivered and folded in the current window (events loop).
    var noticeWindows: [String: (delivered: Int, folded: Int, last: String)] = [:]
    /// Per strategy: a fill waiting (briefly) for its commission report, and the events
    /// that came after it, which wait with it so that the order of events is kept.
    var heldForCommission: [String: (fill: ExecutionRecord, behind: [StrategyEvent], timeout: Scheduled<Void>)] = [:]
    /// The latest quote of each symbol any strategy follows (under `lock`): a reference
    /// price for the risk gate before the strategy itself has been given one.
    private var latestQuotes: [String: MarketQuote] = [:]
    private var quoteStreams: [String: (id: Int?, subscribers: Set<String>)] = [:]
    private var barStreams: [String: (id: Int?, subscribers: Set<String>)] = [:]
    let commands: AsyncStream<Command>.Continuation
    /// Orders the kill switch stopped before they reached TWS (StrategyRunner+KillSwitch.swift).
    let stoppedByHalt = NIOLockedValueBox<Set<Int>>([])
    private var worker: Task<Void, Never>?
    /// The `reconcile` closure strategies were last told of (they hear each change once).
    let toldReconcile = NIOLockedValueBox<String?>(nil)
    /// Strategies were told of the `reconciling` closure now in force (cleared when it ends).
    let toldReconciling = NIOLockedValueBox(false)
    /// Loops the runner made for its strategies; a hung strategy's loop is left behind for
    /// good (its thread cannot be taken back), the others are shut down.
    let loops = NIOLockedValueBox<[(group: MultiThreadedEventLoopGroup, strategy: Strategy)]>([])
    var watchdog: DispatchSourceTimer?
    let extensionsBox = NIOLockedValueBox<[LuaExtension]>([])
    /// Which symbols TWS knows (asked at subscription or at the first order).
    let instruments = InstrumentCache()
    /// Told (on any thread) when a strategy is declared hung or restarted: one line each.
    public var onSupervision: (@Sendable (String) -> Void)?

    enum Command: Sendable {
        case submit(id: Int, contract: Contract, order: Order, strategy: String)
        case modify(id: Int, quantity: Double?, limit: Double?, stop: Double?)
        case cancel(id: Int)
        /// Runs once every command before it has been handled (the kill switch waits on it).
        case barrier(@Sendable () -> Void)
    }

    public init(client: TWSClient, state: TradingState, journal: Journal, accountLimits: AccountLimits = AccountLimits(),
                logger: Logger = Logger(label: "runner"))
    {
        self.account = AccountGate(limits: accountLimits)
        self.client = client
        self.state = state
        self.journal = journal
        self.logger = logger
        let (stream, continuation) = AsyncStream<Command>.makeStream()
        commands = continuation
        // One worker sends: orders, modifications and cancels leave in the order the
        // strategies made them. It waits for none of their answers: each answer is awaited
        // on its own (`watch`), so a slow cancel holds up nothing else.
        worker = Task { [weak self, state, logger] in
            func watch<T>(_ answer: EventLoopFuture<T>, _ what: String, order: Int? = nil, modifying: Int? = nil) {
                answer.whenFailure { [weak self] error in
                    // Rejections reach the strategy through the trading state's events; the
                    // rest (a cancel TWS refused, a timeout) is logged here. Orders the kill
                    // switch stopped are counted in its report, not logged one by one.
                    switch error as? TWSError {
                    case .orderGateClosed?:
                        if let order, self?.haltReason != nil { self?.stoppedByHalt.withLockedValue { _ = $0.insert(order) } }
                        // A modification the gate stopped: the order works on unchanged, and
                        // its strategy hears that its change never left.
                        if let modifying, let self, let closed = self.orderFlowClosed, let strategy = self.strategy(ofOrder: modifying) {
                            strategy.post(.error(code: closed.code, message: "the modification of order \(modifying) was not sent: \(closed.message)",
                                                 orderId: modifying))
                        }
                        return
                    case .superseded?:
                        return  // a cancel came before TWS's acknowledgement: the order's events tell the rest
                    default:
                        break
                    }
                    logger.warning("\(what) failed: \(error)")
                }
            }
            for await command in stream {
                do {
                    switch command {
                    case let .submit(id, contract, order, strategy):
                        // Queued before the gate closed (the kill switch, a drop, the journal),
                        // not sent yet: it never leaves.
                        if let closed = self?.orderFlowClosed {
                            if closed.code == "halted" { self?.stoppedByHalt.withLockedValue { _ = $0.insert(id) } }
                            self?.orderNotSent(command, reason: closed.message, code: closed.code)
                            continue
                        }
                        watch(try await state.beginSubmit(contract: contract, order: order, strategy: strategy, id: id), "order \(id)", order: id)
                    case let .modify(id, quantity, limit, stop):
                        watch(try await state.beginModify(orderId: id) { order in
                            if let quantity { order.totalQuantity = TWSDecimal(approximating: quantity) }
                            if let limit { order.lmtPrice = limit }
                            if let stop { order.auxPrice = stop }
                        }, "modification of order \(id)", modifying: id)
                    case let .cancel(id):
                        watch(state.beginCancel(orderId: id), "cancel of order \(id)")
                    case let .barrier(done):
                        done()
                    }
                } catch {
                    logger.warning("order command \(command) failed: \(error)")
                    // An order the journal cannot hold (a field it refuses) is refused alone.
                    let alone = error is JournalRowError ? LuaInvalidArgument.code : nil
                    if case .submit = command { self?.orderNotSent(command, reason: "\(error)", code: alone) }
                }
            }
        }
        state.observe { [weak self] event in self?.route(event) }
    }

    deinit {
        commands.finish()
        worker?.cancel()
        watchdog?.cancel()
    }

    public func add(_ strategy: Strategy) {
        lock.withLock { strategies[strategy.name] = strategy }
    }

    public func remove(_ strategy: Strategy) {
        lock.withLock { _ = strategies.removeValue(forKey: strategy.name) }
    }

    public func strategy(named name: String) -> Strategy? { lock.withLock { strategies[name] } }
    /// The strategy that placed order `id`, if it runs.
    func strategy(ofOrder id: Int) -> Strategy? { lock.withLock { ownerOfOrder[id].flatMap { strategies[$0] } } }
    var all: [Strategy] { lock.withLock { Array(strategies.values) } }

    /// Orders known to the trading state (from the journal) keep reporting to their strategy.
    public func adoptJournaledOrders() async {
        let snapshot = await state.snapshot()
        lock.withLock {
            for order in snapshot.orders where !order.strategy.isEmpty {
                ownerOfOrder[order.orderId] = order.strategy
                if !order.status.isTerminal && order.status != .unknown {
                    account.open[order.orderId] = (order.instrumentKey, order.isBuy, order.remaining)
                }
            }
            for position in snapshot.positions { account.positions[position.symbol] = position.quantity }
        }
    }

    /// Under `lock`: the oldest ended orders beyond the bound lose their owner entry, in batches.
    private func forgetOwnerLater(_ id: Int) {
        for old in endedUnfilled.add(id) where account.open[old] == nil { ownerOfOrder[old] = nil }
    }

    // MARK: Events from the trading state (on the client's loop)

    private func route(_ event: TradingEvent) {
        switch event {
        case let .order(record):
            guard !record.strategy.isEmpty else { return }
            lock.withLock {
                ownerOfOrder[record.orderId] = record.strategy
                if record.status.isTerminal || record.status == .unknown {
                    account.open[record.orderId] = nil
                    if record.status.isTerminal && record.filled == 0 { forgetOwnerLater(record.orderId) }
                } else {
                    account.open[record.orderId] = (record.instrumentKey, record.isBuy, record.remaining)
                }
            }
            if let strategy = strategy(named: record.strategy) { relay(.order(record), to: strategy) }
        case let .fill(execution):
            let owner = lock.withLock { () -> String? in
                account.positions[execution.symbol, default: 0] += execution.signedShares - (execution.corrects?.signedShares ?? 0)
                return ownerOfOrder[execution.orderId]
            }
            if let owner, let strategy = strategy(named: owner) { relay(.fill(execution), to: strategy) }
        case let .commission(execution):
            let owner = lock.withLock { ownerOfOrder[execution.orderId] }
            commissionArrived(execution, owner: owner.flatMap { strategy(named: $0) })
        case let .position(position):
            lock.withLock { account.positions[position.symbol] = position.quantity }
        case let .account(_, key, value, _):
            for strategy in all { relay(.account(key: key, value: value), to: strategy) }
        case let .pnl(daily, unrealized, realized):
            for strategy in all { relay(.pnl(daily: daily, unrealized: unrealized, realized: realized), to: strategy) }
        case let .error(id, code, message):
            // 202 is the cancellation the strategy asked for: on_order reports it, it is no error.
            // 10148 (cannot be cancelled: already filled or cancelled) is a cancel that found the
            // order done: its on_order tells how it ended; no error either.
            if IBErrorCategory.of(code: code, message: message) == .orderCancelled || code == 10148 { return }
            if let id, let owner = lock.withLock({ ownerOfOrder[id] }), let strategy = strategy(named: owner) {
                relay(.error(code: String(code), message: message, orderId: id), to: strategy)
            } else if id == nil && IBErrorCategory.of(code: code, message: message) == .connectivity {
                for strategy in all { relay(.error(code: String(code), message: message, orderId: nil), to: strategy) }
            }
        case let .connection(state):
            for strategy in all { relay(.connection(state), to: strategy) }
            // The gate closed at the drop (the trading state closed it before this event): the
            // strategies hear why their orders are refused until the reconciliation.
            // Once per closure: reconnect attempts that fail in a row are one drop to a strategy.
            if state == "lost", let reason = client.orderGate.reason(of: "reconciling"),
               toldReconciling.withLockedValue({ told in defer { told = true }; return !told })
            {
                for strategy in all { relay(.error(code: "reconciling", message: reason, orderId: nil), to: strategy) }
            }
        case let .reconciled(report):
            closeOrderFlow(after: report)
        case let .journalFailed(reason):
            for strategy in all { relay(.error(code: "journal", message: reason, orderId: nil), to: strategy) }
        case .journalRestored:
            for strategy in all { relay(.error(code: "journal", message: "the journal can be written again: trading is open", orderId: nil), to: strategy) }
        }
    }

    /// An order the strategy was given an id for never left (the journal could not hold it,
    /// or the kill switch came first): the strategy hears it as not_sent, and why.
    private func orderNotSent(_ command: Command, reason: String, code given: String? = nil) {
        guard case let .submit(id, contract, order, name) = command else { return }
        lock.withLock {
            account.open[id] = nil
            forgetOwnerLater(id)
        }
        guard let strategy = strategy(named: name) else { return }
        var record = OrderRecord(clientKey: "", orderId: id, strategy: name, contract: contract, order: order, createdAt: Date().timeIntervalSince1970)
        record.status = .notSent
        record.reason = "not sent: \(reason)"
        let code = given ?? (haltReason != nil ? "halted" : "journal")
        strategy.post(.order(record))
        strategy.post(.error(code: code, message: "order \(id) was not sent: \(reason)", orderId: id))
    }

    // MARK: StrategyServices


    public var haltReason: String? { client.orderGate.haltReason }

    /// Why no order may leave now (the first cause of the client's order gate: `halted`,
    /// `journal`, `reconcile`, `reconciling`), or nil.
    public var orderFlowClosed: (code: String, message: String)? {
        client.orderGate.closure.map { ($0.cause, $0.reason) }
    }

    /// Takes the next order id and queues the order in one step, under one lock: orders from
    /// several strategies reach TWS with increasing ids, as TWS requires.
    public func submitNew(contract: Contract, order: Order, strategy: String) throws -> Int {
        try lock.withLock {
            if let closed = orderFlowClosed { throw RiskRefusal(code: closed.code, message: "orders: \(closed.message)") }
            let quantity = order.totalQuantity?.doubleValue ?? 0
            if let refusal = account.check(symbol: contract.instrumentKey, buy: order.action == "BUY", quantity: quantity,
                                           now: Date().timeIntervalSince1970, terms: contract.terms)
            {
                throw refusal
            }
            let id = client.reserveIdNow()
            account.open[id] = (contract.instrumentKey, order.action == "BUY", quantity)
            ownerOfOrder[id] = strategy
            commands.yield(.submit(id: id, contract: contract, order: order, strategy: strategy))
            return id
        }
    }

    public func modify(id: Int, quantity: Double?, limit: Double?, stop: Double?) {
        commands.yield(.modify(id: id, quantity: quantity, limit: limit, stop: stop))
    }

    public func cancel(id: Int) { commands.yield(.cancel(id: id)) }

    public func subscribe(_ instrument: InstrumentSpec, quotes: Bool, barSize: String?, strategy: Strategy) {
        let name = strategy.name
        let key = instrument.key
        if instrument.contract.secType == "STK" { instruments.markChecking(instrument.lookupKey) }
        let (firstQuotes, firstBars) = lock.withLock { () -> (Bool, Bool) in
            var firstQuotes = false, firstBars = false
            if quotes {
                var entry = quoteStreams[key] ?? (nil, [])
                firstQuotes = entry.subscribers.isEmpty && entry.id == nil
                entry.subscribers.insert(name)
                quoteStreams[key] = entry
            }
            if barSize != nil {
                var entry = barStreams[key] ?? (nil, [])
                firstBars = entry.subscribers.isEmpty && entry.id == nil
                entry.subscribers.insert(name)
                barStreams[key] = entry
            }
            return (firstQuotes, firstBars)
        }
        // A stock streams at once as named (the answer of contract details comes meanwhile, so
        // an order on it need not wait); anything else is resolved first and streamed by the
        // contract TWS confirmed. Delivered under the strategy's key either way.
        Task { [instruments, client] in
            let isStock = instrument.contract.secType == "STK"
            if isStock {
                Task { _ = await instruments.resolve(instrument, client: client) }
            } else if case let .unknown(why) = await instruments.resolve(instrument, client: client) {
                strategy.post(.error(code: "unknown_instrument", message: "market.subscribe: \(why)", orderId: nil))
                self.lock.withLock {
                    if firstQuotes { self.quoteStreams[key] = nil }
                    if firstBars { self.barStreams[key] = nil }
                }
                return
            }
            let contract = isStock ? instrument.contract : self.streamContract(instrument)
            if firstQuotes {
                do {
                    let id = try await client.subscribeQuotes(contract) { [weak self] event in self?.deliver(key, event) }
                    self.lock.withLock { self.quoteStreams[key]?.id = id }
                } catch {
                    strategy.post(.error(code: "subscribe", message: "market.subscribe(\(key)): \(error)", orderId: nil))
                }
            }
            if firstBars {
                do {
                    // Forex has no trades: its bars are of the midpoint, as TWS requires.
                    let what = contract.secType.uppercased() == "CASH" ? "MIDPOINT" : "TRADES"
                    let id = try await client.subscribeBars(contract, whatToShow: what) { [weak self] event in self?.deliverBar(key, event) }
                    self.lock.withLock { self.barStreams[key]?.id = id }
                } catch {
                    strategy.post(.error(code: "subscribe", message: "market.subscribe(\(key)) bars: \(error)", orderId: nil))
                }
            }
        }
    }

    /// The contract market data is asked for by: TWS's own (with its conId) once resolved; a
    /// continuous future as named (TWS streams the front month for it).
    func streamContract(_ instrument: InstrumentSpec) -> Contract {
        guard instrument.contract.secType != "CONTFUT", let resolved = instruments.resolved(instrument) else { return instrument.contract }
        return resolved.contract
    }

    /// Symbols with a quote or bar stream now.
    public var subscribedSymbolCount: Int { lock.withLock { Set(quoteStreams.keys).union(barStreams.keys).count } }

    /// Every stream `name` follows, ended for it (a removed strategy).
    func unsubscribeAll(_ strategy: Strategy) {
        let symbols = lock.withLock {
            Set(quoteStreams.filter { $0.value.subscribers.contains(strategy.name) }.keys)
                .union(barStreams.filter { $0.value.subscribers.contains(strategy.name) }.keys)
        }
        for symbol in symbols { unsubscribe(key: symbol, strategy: strategy) }
    }

    public func unsubscribe(key symbol: String, strategy: Strategy) {
        let (quoteId, barId) = lock.withLock { () -> (Int?, Int?) in
            var quoteId: Int?
            var barId: Int?
            if var entry = quoteStreams[symbol] {
                entry.subscribers.remove(strategy.name)
                if entry.subscribers.isEmpty { quoteId = entry.id; quoteStreams[symbol] = nil } else { quoteStreams[symbol] = entry }
            }
            if var entry = barStreams[symbol] {
                entry.subscribers.remove(strategy.name)
                if entry.subscribers.isEmpty { barId = entry.id; barStreams[symbol] = nil } else { barStreams[symbol] = entry }
            }
            return (quoteId, barId)
        }
        Task {
            if let quoteId { await client.cancelQuotes(quoteId) }
            if let barId { await client.cancelBars(barId) }
        }
    }

    private func deliver(_ symbol: String, _ event: QuoteEvent) {
        // One lock for the whole lookup: this runs for every quote.
        let subscribers = lock.withLock { () -> [Strategy] in
            if case let .quote(quote) = event { latestQuotes[symbol] = quote }
            return (quoteStreams[symbol]?.subscribers ?? []).compactMap { strategies[$0] }
        }
        switch event {
        case var .quote(quote):
            quote.symbol = symbol  // the strategy's key (ES 202612), not TWS's symbol (ES): once, for every subscriber
            for strategy in subscribers { strategy.post(quote: quote) }
        case let .failed(error):
            for strategy in subscribers {
                strategy.post(.error(code: error.code.map(String.init) ?? "market_data", message: "\(symbol): \(error)", orderId: nil))
            }
        }
    }

    private func deliverBar(_ symbol: String, _ event: BarEvent) {
        let subscribers = lock.withLock { barStreams[symbol]?.subscribers ?? [] }
        for name in subscribers {
            guard let strategy = strategy(named: name) else { continue }
            switch event {
            case let .bar(bar): strategy.post(bar: bar, symbol: symbol)
            case let .failed(error): strategy.post(.error(code: error.code.map(String.init) ?? "bars", message: "\(symbol): \(error)", orderId: nil))
            }
        }
    }

    /// The latest quote of every streamed instrument (a dashboard's view).
    public func latestQuoteSnapshot() -> [String: MarketQuote] { lock.withLock { latestQuotes } }

    public func latestPrice(symbol: String, buy: Bool) -> Double? {
        lock.withLock { latestQuotes[symbol]?.referencePrice(buying: buy) }
    }

    public func snapshotPrice(_ instrument: InstrumentSpec, buy: Bool) async throws -> Double? {
        let quote = try await client.snapshotQuote(streamContract(instrument))
        return quote.referencePrice(buying: buy) ?? quote.close
    }

    public func history(_ instrument: InstrumentSpec, duration: String, barSize: String, whatToShow: String) async throws -> [Bar] {
        if case let .unknown(why) = await instruments.resolve(instrument, client: client) {
            throw TWSError.ib(code: 200, message: why, advancedOrderRejectJson: "")
        }
        return try await client.historicalBars(streamContract(instrument), duration: duration, barSize: barSize, whatToShow: whatToShow)
    }

    public func contract(_ instrument: InstrumentSpec) async throws -> ResolvedInstrument {
        let status = await instruments.resolve(instrument, client: client)
        if case let .unknown(why) = status { throw TWSError.ib(code: 200, message: why, advancedOrderRejectJson: "") }
        guard let resolved = instruments.resolved(instrument) else { throw TWSError.timeout(request: "contract details of \(instrument.key)", seconds: client.configuration.requestTimeout) }
        return resolved
    }

    public func loadStore(strategy: String) -> Data? { journal.loadStore(strategy: strategy) }
    public func saveStore(strategy: String, data: Data) { state.saveStore(strategy: strategy, data: data) }

    public func journal(strategy: String, kind: String, detail: String) {
        do {
            try journal.strategyEvent(strategy: strategy, kind: kind, detail: detail)
        } catch {
            logger.error("journal: cannot record \(kind) of \(strategy): \(error)")
        }
    }

    public func startingPositions(strategy: String) async -> PositionBook {
        PositionBook.own(of: strategy, in: await state.snapshot())
    }

    public func instrumentStatus(_ key: String) -> InstrumentStatus { instruments.status(key) }

    public func resolvedInstrument(_ key: String) -> ResolvedInstrument? { instruments.resolved(key) }

    public func resolveInstrument(_ instrument: InstrumentSpec) async -> InstrumentStatus { await instruments.resolve(instrument, client: client) }

    public func accountPosition(symbol: String) -> Double { lock.withLock { account.positions[symbol] ?? 0 } }

    public var extensions: [LuaExtension] { extensionsBox.withLockedValue { $0 } }

    /// Adds Lua functions to the strategies launched from now on (a strategy already running
    /// keeps the functions it was created with). Two extensions may not share a table.
    public func register(_ extension: LuaExtension) throws {
        try extensionsBox.withLockedValue { list in
            guard !list.contains(where: { $0.table == `extension`.table }) else {
                throw LuaExtensionError("an extension table '\(`extension`.table)' is registered already")
            }
            list.append(`extension`)
        }
    }

    /// Posts an application event to `handler` (`on_signal`) of the strategy named, or of
    /// every strategy; it is delivered in order with everything else, never coalesced.
    /// Returns how many strategies it was posted to.
    @discardableResult
    public func post(handler: String, values: [LuaValue], to name: String? = nil) -> Int {
        let targets = name.map { strategy(named: $0).map { [$0] } ?? [] } ?? all
        for strategy in targets where strategy.hungReason == nil { strategy.post(.custom(handler: handler, values: values)) }
        return targets.count
    }
}

extension Strategy {

    /// Sets the positions the strategy starts with, then delivers on_start.
    public func start(positions: PositionBook) {
        loop.execute {
            self.positions = positions
            self.realizedAtStart = positions.realized
            self.dayStartPnL = positions.realized
            self.enqueue(.start)
            // Falling behind is worth a log line (the summary has the total).
            self.coalescingReport = self.loop.scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { [weak self] _ in
                guard let self else { return }
                let coalesced = self.statistics.quotesCoalesced
                if coalesced > self.coalescedReported {
                    self.logger.warning("falling behind the quotes: \(coalesced - self.coalescedReported) coalesced to the latest per symbol in the last 10 s (order and fill events are never coalesced)")
                }
                self.coalescedReported = coalesced
            }
        }
    }
}

extension Journal {
    public func loadStore(strategy: String) -> Data? {
        try? queue.read { db in try Data.fetchOne(db, sql: "SELECT value FROM store WHERE strategy = ? AND key = 'store'", arguments: [strategy]) }
    }

}
