import Foundation
import MarketHistory
import Money
import NIOConcurrencyHelpers
import StrategyHost
import TWSClient
import TWSProtocol
import TradingState

/// What a strategy's host calls reach in a backtest: orders go to a simulated broker per
/// instrument, history comes from the stored bars up to the simulated now (never beyond),
/// and everything the strategy is told comes back as the same events a live run delivers.
///
/// Confined to the strategy's loop, except `history` and `contract`, which read only what
/// does not change while a handler waits (the clock stands still meanwhile).
final class BacktestServices: StrategyServices, @unchecked Sendable {
    let data: BacktestData
    let strategyName: String
    /// The orderRef of the strategy's executions (a live one's is its journal key).
    private let orderRef: String
    // `ledger`, `brokers` and `pending` are touched per bar on the strategy's loop, only here:
    // a broker's or the ledger's mutating method reaches neither the services nor the strategy,
    // and each event is copied out of `pending` before it is delivered (`flush`), so no access overlaps
    // another and the runtime's check of that is left out.
    @exclusivity(unchecked) private(set) var ledger: BacktestLedger
    /// One broker per instrument, in the backtest's order (`ledger.index` maps keys to it).
    @exclusivity(unchecked) private var brokers: [SimulatedBroker] = []
    /// The working orders' records (a finished one is dropped: a long backtest places many).
    private var records: [Int: OrderRecord] = [:]
    private var nextOrderId = 1
    private var executions = 0
    private var account: AccountGate
    /// Events for the strategy, delivered by the driver in order (`flush`).
    @exclusivity(unchecked) private var pending: [StrategyEvent] = []
    /// What the strategy subscribed to: bar sizes and quotes per instrument key.
    private(set) var barSubscriptions: [String: Set<String>] = [:]
    private(set) var quoteSubscriptions: Set<String> = []
    private(set) var unknownSubscriptions: Set<String> = []
    /// Moves whenever the subscriptions change (the driver replans then).
    private(set) var subscriptionVersion = 0
    /// Journal entries (errors, refusals, halts), for the report. Bounded.
    private(set) var journalEntries: [(time: Int64, kind: String, detail: String)] = []
    private(set) var journalCount = 0
    private(set) var lastStore: Data?
    private(set) var rejected = 0
    /// The instruments as resolved, in the backtest's order.
    private let resolved: [ResolvedInstrument]
    /// The simulated now, for history answered off the loop.
    private let cutoff: NIOLockedValueBox<Int64>
    /// The strategy's simulated clock (set by the driver): the account's per-minute count takes
    /// its time, which a timer moves between bar closes (`cutoff` stays at the last bar's end).
    /// Set on the strategy's loop, whose log lines take their time from it from then on.
    var clock: SimulatedClock? {
        didSet { SimulatedLogTime.use(self) }
    }

    init(data: BacktestData, strategy: String, accountLimits: AccountLimits) {
        self.data = data
        strategyName = strategy
        orderRef = "mw:\(strategy):bt"
        ledger = BacktestLedger(initialCash: data.setup.initialCash, keys: data.series.map(\.key),
                                terms: data.series.map(\.resolved.terms), base: data.setup.baseCurrency, samples: data.expectedBarCount + 1)
        account = AccountGate(limits: accountLimits)
        cutoff = NIOLockedValueBox(data.setup.span.start)
        resolved = data.series.map(\.resolved)
        for series in data.series {
            var rules = data.setup.rules
            if let tick = series.tickSize { rules.tickSize = tick }
            brokers.append(SimulatedBroker(rules: rules, terms: series.resolved.terms))
        }
    }

    /// The bars of a streamed instrument read so far (the driver's, taken on the loop). The
    /// function is kept inside a struct: kept bare in the generic box, each `inout` access
    /// wrapped it in one more pair of reabstraction thunks, so every `market.history` call
    /// was slower than the one before (a run with one a bar grew quadratic).
    private struct BarsReader: Sendable {
        let read: @Sendable (Int) async -> (bars: [StoredBar], complete: Bool)
    }
    private let barsRead = NIOLockedValueBox<BarsReader?>(nil)
    /// The bars last taken from the driver, per series, and whether they were all of them:
    /// a `market.history` at every bar is answered from them until it needs a later bar (a
    /// hop onto the loop for each made such a run four times slower). Taken again at most
    /// once per chunk read.
    private let barsTaken = NIOLockedValueBox<[Int: (bars: [StoredBar], complete: Bool)]>([:])

    /// How `history` reaches a streamed instrument's bars: they are the driver's, growing.
    func useBars(_ read: @escaping @Sendable (Int) async -> (bars: [StoredBar], complete: Bool)) {
        barsRead.withLockedValue { $0 = BarsReader(read: read) }
    }

    /// A streamed series' bars read so far, with every one that starts by `last`.
    private func streamedBars(_ index: Int, through last: Int64) async -> [StoredBar] {
        if let taken = barsTaken.withLockedValue({ $0[index] }), taken.complete || (taken.bars.last.map { $0.time >= last } ?? false) {
            return taken.bars
        }
        guard let reader = barsRead.withLockedValue({ $0 }) else { return [] }
        let taken = await reader.read(index)
        barsTaken.withLockedValue { $0[index] = taken }
        return taken.bars
    }

    // MARK: The driver's side

    func setNow(_ time: Int64) { cutoff.withLockedValue { $0 = time } }

    /// A new bar of instrument `i` meets the working orders: fills, children released, OCA
    /// siblings cancelled or reduced.
    func open(_ i: Int, _ bar: StoredBar) {
        handle(brokers[i].open(bar), instrument: i)
    }

    /// Bars in which a stop and another exit of one group were both inside the range (the
    /// stop was assumed first): the summary says how many.
    var ambiguousExits: Int { brokers.reduce(0) { $0 + $1.ambiguousExits } }

    func mark(_ i: Int, _ close: Double) { ledger.mark(i, close) }

    /// Whether instrument `i` is held now.
    func holds(_ i: Int) -> Bool { ledger.quantity(i) != 0 }

    /// The rates money is counted in base with, as the driver moves through time.
    func setRate(_ currency: String, toBase rate: Double) {
        ledger.setRate(currency, toBase: rate)
        for i in brokers.indices where brokers[i].terms.currency != "USD" { brokers[i].rates = ledger.rates }
    }

    func sample(at time: Int64) { ledger.sample(at: time) }

    /// Delivers the events queued so far, and any they lead to, in order.
    func flush(into strategy: Strategy) {
        var index = 0
        while index < pending.count {
            strategy.deliverNow(pending[index])
            index += 1
        }
        pending.removeAll(keepingCapacity: true)
    }

    var hasPending: Bool { !pending.isEmpty }

    func accountEvents() -> [StrategyEvent] { accountEvents(value: ledger.value, cash: ledger.cash) }

    /// The account's value and cash as TWS names them (told at the start and after each fill).
    private func accountEvents(value: Double, cash: Double) -> [StrategyEvent] {
        [.account(key: "NetLiquidation", value: BacktestReport.money(value, grouped: false)),
         .account(key: "TotalCashValue", value: BacktestReport.money(cash, grouped: false))]
    }

    // MARK: Orders

    var orderFlowClosed: (code: String, message: String)? { nil }

    func submitNew(contract: Contract, order: Order, strategy: String) throws -> Int {
        let key = contract.instrumentKey
        if let refusal = account.check(symbol: key, buy: order.action == "BUY", quantity: order.quantity, now: clock?.now ?? now,
                                      terms: contract.terms)
        {
            throw refusal
        }
        let id = nextOrderId
        nextOrderId += 1
        var record = OrderRecord(clientKey: "bt:\(id)", orderId: id, strategy: strategy, contract: contract, order: order, createdAt: now)
        record.updatedAt = now
        guard let kind = Self.kind(of: order) else {
            record.status = .rejected
            record.reason = "\(order.orderType) orders are not simulated in backtests (market, limit, stop, stop-limit and trailing stops are)"
            reject(record)
            return id
        }
        guard let i = ledger.index[key] else {
            record.status = .rejected
            record.reason = "\(key) is not one of the backtest's instruments (--instruments)"
            reject(record)
            return id
        }
        record.status = .submitted
        records[id] = record
        account.open[id] = (key, order.action == "BUY", order.quantity)
        pending.append(.order(record))
        // The broker holds a staged order until its bracket transmits, and a child until its
        // parent fills (IB's transmit and parentId, as the paper gateway has them).
        handle(brokers[i].place(Self.simulated(id, order, kind)), instrument: i)
        return id
    }

    static func simulated(_ id: Int, _ order: Order, _ kind: SimulatedOrder.Kind) -> SimulatedOrder {
        SimulatedOrder(id: id, buy: order.action == "BUY", quantity: order.quantity, kind: kind,
                       family: OrderFamily(ocaGroup: order.ocaGroup, ocaType: order.ocaType, parentId: order.parentId),
                       transmit: order.transmit, trailStop: order.orderType == "TRAIL" ? order.trailStopPrice : nil)
    }

    /// What the broker did: fills booked and told, group members cancelled or reduced.
    private func handle(_ events: [BrokerEvent], instrument i: Int) {
        for event in events {
            switch event {
            case let .filled(fill):
                let group = records[fill.orderId].map { OrderFamily(ocaGroup: $0.order.ocaGroup, ocaType: $0.order.ocaType, parentId: $0.order.parentId) }
                apply(fill, instrument: i)
                // A named group may span instruments (IB's OCA groups do): its members in the
                // other brokers are settled too, in the backtest's instrument order.
                if let group, !group.ocaGroup.isEmpty {
                    for j in brokers.indices where j != i {
                        handle(brokers[j].settleGroup(filled: fill.quantity, by: fill.orderId, family: group), instrument: j)
                    }
                }
            case let .cancelled(id, reason):
                guard var record = records[id], !record.status.isTerminal else { continue }
                record.status = .cancelled
                if !reason.isEmpty { record.reason = reason }
                record.updatedAt = now
                records[id] = nil
                account.open[id] = nil
                pending.append(.order(record))
            case let .reduced(id, quantity):
                guard var record = records[id], !record.status.isTerminal else { continue }
                record.order.totalQuantity = TWSDecimal(approximating: quantity)
                record.updatedAt = now
                records[id] = record
                account.open[id]?.remaining = quantity
                pending.append(.order(record))
            }
        }
    }

    private func reject(_ record: OrderRecord) {
        rejected += 1
        pending.append(.order(record))
        pending.append(.error(code: "201", message: "Order rejected - reason: \(record.reason)", orderId: record.orderId))
    }

    static func kind(of order: Order) -> SimulatedOrder.Kind? {
        switch order.orderType {
        case "MKT": return .market
        case "LMT": return order.lmtPrice.map { .limit($0) }
        case "STP": return order.auxPrice.map { .stop($0) }
        case "STP LMT":
            guard let stop = order.auxPrice, let limit = order.lmtPrice else { return nil }
            return .stopLimit(stop: stop, limit: limit)
        case "TRAIL":
            if let percent = order.trailingPercent, percent > 0 { return .trailing(.percent(percent)) }
            return order.auxPrice.flatMap { $0 > 0 ? .trailing(.amount($0)) : nil }
        default: return nil
        }
    }

    func modify(id: Int, quantity: Double?, limit: Double?, stop: Double?) {
        guard var record = records[id], !record.status.isTerminal else { return }
        if let quantity { record.order.totalQuantity = TWSDecimal(approximating: quantity) }
        if let limit { record.order.lmtPrice = limit }
        if let stop { record.order.auxPrice = stop }
        guard let kind = Self.kind(of: record.order) else { return }
        record.updatedAt = now
        records[id] = record
        account.open[id]?.remaining = record.quantity
        if let i = ledger.index[record.contract.instrumentKey] {
            brokers[i].replace(Self.simulated(id, record.order, kind))
        }
        pending.append(.order(record))
    }

    func cancel(id: Int) {
        guard let record = records[id], !record.status.isTerminal, let i = ledger.index[record.contract.instrumentKey] else { return }
        // The order, and the bracket children it holds (they go with their parent).
        handle(brokers[i].cancel(id), instrument: i)
    }

    private var now: Double { Double(cutoff.withLockedValue { $0 }) }

    private func apply(_ fill: SimulatedFill, instrument i: Int) {
        guard var record = records[fill.orderId] else { return }
        let key = ledger.keys[i]
        executions += 1
        record.status = .filled
        record.filled = fill.quantity
        record.averageFillPrice = fill.price
        record.updatedAt = Double(fill.time)
        records[fill.orderId] = nil
        account.open[fill.orderId] = nil
        account.positions[key, default: 0] += fill.buy ? fill.quantity : -fill.quantity
        let after = ledger.record(BacktestFill(orderId: fill.orderId, instrument: key, time: fill.time, buy: fill.buy, quantity: fill.quantity,
                                   price: fill.price, commission: fill.commission, commissionCurrency: fill.commissionCurrency), instrument: i)
        pending.append(.fill(execution(of: fill, record: record)))
        pending.append(.order(record))
        pending.append(contentsOf: accountEvents(value: after.value, cash: after.cash))
        // Its group and its bracket's children: the broker settled them (events after this one).
    }

    /// What the strategy is told of `fill`, as TWS tells of an execution. Returned, so it is
    /// moved into its event: an execution is a contract and some twenty fields, and one built
    /// in a variable was copied into the event, then destroyed.
    private func execution(of fill: SimulatedFill, record: OrderRecord) -> ExecutionRecord {
        var execution = ExecutionRecord(details: ExecDetails(), clientKey: record.clientKey, receivedAt: Double(fill.time))
        execution.details.contract = record.contract
        let shares = TWSDecimal(approximating: fill.quantity)
        let execId = "bt.\(executions)"
        execution.details.execution.orderId = fill.orderId
        execution.details.execution.execId = execId
        // As TWS writes it, with its zone: `20240102 14:30:00 UTC` (a live one says TWS's zone).
        execution.details.execution.time = UTCTime.tws(fill.time, zone: true)
        execution.details.execution.side = fill.buy ? "BOT" : "SLD"
        execution.details.execution.shares = shares
        execution.details.execution.price = fill.price
        execution.details.execution.cumQty = shares
        execution.details.execution.avgPrice = fill.price
        execution.details.execution.orderRef = orderRef
        var report = CommissionReport()
        report.execId = execId
        report.commission = fill.commission
        report.currency = fill.commissionCurrency
        execution.commission = report
        return execution
    }

    // MARK: Market data

    func subscribe(_ instrument: InstrumentSpec, quotes: Bool, barSize: String?, strategy: Strategy) {
        let key = instrument.key
        subscriptionVersion += 1
        guard data.series.contains(where: { $0.key == key }) else {
            unknownSubscriptions.insert(key)
            return
        }
        if quotes { quoteSubscriptions.insert(key) }
        if let barSize { barSubscriptions[key, default: []].insert(barSize) }
    }

    func unsubscribe(key: String, strategy: Strategy) {
        subscriptionVersion += 1
        quoteSubscriptions.remove(key)
        barSubscriptions[key] = nil
    }

    func latestPrice(symbol: String, buy: Bool) -> Double? { ledger.mark(of: symbol) }

    /// The rates of the simulated now (from stored bars of the pairs), for the risk limits.
    func rates() -> CurrencyRates { ledger.rates }

    func snapshotPrice(_ instrument: InstrumentSpec, buy: Bool) async throws -> Double? { nil }

    /// Stored bars that ended by the simulated now: `duration` back from it.
    func history(_ instrument: InstrumentSpec, duration: String, barSize: String, whatToShow: String) async throws -> [Bar] {
        let now = cutoff.withLockedValue { $0 }
        guard let seconds = HistoricalSpan.durationSeconds(duration) else {
            throw ExtensionError(code: "bad_duration", "'\(duration)' is not a duration (\"3600 S\", \"5 D\", \"2 W\", \"1 M\", \"1 Y\")")
        }
        guard let barSeconds = HistoricalSpan.barSeconds(barSize, strict: false) else {
            throw ExtensionError(code: "bad_bar_size", "'\(barSize)' is not a bar size (\"1 min\", \"5 mins\", \"1 hour\", \"1 day\")")
        }
        let series = BarSeries(instrument: instrument.key, barSize: barSize, what: whatToShow)
        let wanted = TimeSpan(now - Int64(seconds), now)
        var bars: [StoredBar]
        if let index = data.series.firstIndex(where: { $0.series == series }), wanted.start >= data.series[index].loaded.start {
            let loaded = data.series[index].feed == nil ? data.series[index].bars
                : await streamedBars(index, through: now - Int64(data.series[index].barSeconds))
            bars = LoadedSeries.bars(loaded, in: wanted)
        } else if let store = data.store, try await store.count(series) > 0 {
            bars = try await store.bars(series, in: wanted)
        } else {
            throw ExtensionError(code: "no_data", "no stored \(barSize) \(series.what) bars of \(instrument.key) (download them first: "
                                     + "moonwire history \(instrument.key) --bar \"\(barSize)\" --what \(series.what) ...)")
        }
        // Only bars complete by now: a bar that ends later is the future.
        bars.removeAll { $0.time + Int64(barSeconds) > now }
        let daily = barSeconds >= 86_400
        return bars.map { bar in
            var out = Bar()
            out.date = UTCTime.tws(bar.time, zone: true, dateOnly: daily)
            out.open = bar.open
            out.high = bar.high
            out.low = bar.low
            out.close = bar.close
            out.volume = bar.volume.map { TWSDecimal(approximating: $0) }
            out.wap = bar.wap.map { TWSDecimal(approximating: $0) }
            out.barCount = bar.count ?? 0
            return out
        }
    }

    func contract(_ instrument: InstrumentSpec) async throws -> ResolvedInstrument {
        guard let series = data.series.first(where: { $0.key == instrument.key }) else {
            throw ExtensionError(code: "unknown_instrument", "\(instrument.key) is not one of the backtest's instruments (--instruments)")
        }
        return series.resolved
    }

    // MARK: Instruments

    func instrumentStatus(_ key: String) -> InstrumentStatus {
        guard ledger.index[key] == nil else { return .resolved }
        // A look-up key of a table with terms of its own is `KEY | Contract(...)`: named by its
        // key and what set it apart, not by the whole contract's dump.
        let parts = key.components(separatedBy: " | ")
        let shown = parts.count > 1 ? "\(parts[0]) (as given, with its own exchange, currency or con_id)" : key
        return .unknown("\(shown) is not one of the backtest's instruments (--instruments)")
    }

    func resolvedInstrument(_ key: String) -> ResolvedInstrument? { ledger.index[key].map { resolved[$0] } }

    func resolvedContract(_ key: String) -> Contract? { ledger.index[key].map { resolved[$0].contract } }

    func resolveInstrument(_ instrument: InstrumentSpec) async -> InstrumentStatus { instrumentStatus(instrument.key) }

    // MARK: Account, journal, store

    func accountPosition(symbol: String) -> Double { ledger.position(symbol) }

    func startingPositions(strategy: String) async -> PositionBook { PositionBook() }

    func loadStore(strategy: String) -> Data? { nil }

    func saveStore(strategy: String, data: Data) { lastStore = data }

    func journal(strategy: String, kind: String, detail: String) {
        journalCount += 1
        if journalEntries.count < 1_000 { journalEntries.append((cutoff.withLockedValue { $0 }, kind, detail)) }
    }
}
