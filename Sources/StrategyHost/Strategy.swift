import DequeModule
import Foundation
import Metrics
import Money
import Logging
import LuaRuntime
import NIOConcurrencyHelpers
import NIOCore
import TWSClient
import TWSProtocol
import TradingState

/// One running strategy: a Lua state on its own single-thread event loop.
///
/// Only this loop touches the Lua state (invariant 1). Events are posted to it without an
/// `await` each and handled in arrival order; order updates, fills, errors and timers are
/// never dropped, merged or reordered, quotes are coalesced to the latest per symbol when
/// the strategy falls behind (invariant 3). The strategy's view of positions and orders
/// changes only as the events that report the changes are delivered (invariant 4).
public final class Strategy: @unchecked Sendable {
    public let name: String
    public let path: String
    public let loop: EventLoop
    let lua: LuaState
    var env: LuaRef
    let storeRef: LuaRef
    var gate: RiskGate
    let limits: HostConfig.StrategyLimits
    /// What the strategy was made from (a hung strategy is restarted from it).
    let config: HostConfig
    let extraParams: [String: String]
    let baseLogger: Logger
    weak var services: StrategyServices?
    var logger: Logger
    let params: [String: String]

    // The queue.
    enum Item {
        case event(StrategyEvent)
        case quote(String)
    }
    var queue = Deque<Item>()
    var pendingQuotes: [String: MarketQuote] = [:]
    /// What was posted and the loop has not taken yet. Bounded: a quote is folded into the
    /// one of its symbol already waiting (so quotes take one slot per symbol), and other
    /// events (never dropped or merged: invariant 3) are at most `maximumWaitingEvents`;
    /// one more and the strategy is declared overloaded (`overloaded()`), not left to grow.
    struct Inbox {
        var items: [Posted] = []
        /// Where the waiting quote of each symbol is in `items`.
        var quoteSlots: [String: Int] = [:]
        /// Quotes folded into one already waiting (the loop counts them when it takes the inbox).
        var coalesced = 0
        /// Items of `items` that are not quotes.
        var events = 0
        var scheduled = false
        /// After stop, a hang or an overload: posts are dropped (the loop may be shutting down).
        var closed = false
    }
    /// Events other than quotes the inbox holds at most. The loop takes the whole inbox at
    /// once, so at most about twice as many wait in all (some 100 MB of order updates at worst).
    static let maximumWaitingEvents = 100_000
    let inbox = NIOLockedValueBox(Inbox())
    /// The inbox's other buffer (loop only): the two are swapped when the loop takes a burst.
    private var takenItems: [Posted] = []
    var draining = false

    // What the strategy has been told so far.
    var quotes: [String: MarketQuote] = [:]
    /// The last orders that encoded for TWS, with their contracts (`unsendable`).
    var encodable: [EncodedOrder] = []
    /// The last orders built from a call's terms (`terms`): the same terms give the same order
    /// value, so checking, recording and delivering it share one copy of its fields.
    var recentTerms: [(terms: OrderTerms, order: Order)] = []
    /// Its own positions: what its own orders filled (journaled ones included), not the account's.
    var positions: PositionBook = [:]
    var multipliers: [String: Double] = [:]
    var orders: [Int: OrderRecord] = [:]
    /// What on_order last told of each order of `orders` (forgotten with it).
    var toldOrders: [Int: OrderRecord] = [:]
    /// Ids of the orders of `orders` not finished (unknown ones too), and of the finished ones, oldest first.
    var openOrderIds: Set<Int> = []
    var finishedOrderIds = Deque<Int>()
    var accountValues: [String: String] = [:]
    var pnl: (daily: Double?, unrealized: Double?, realized: Double?) = (nil, nil, nil)
    /// Realized PnL of this run from the strategy's own fills (commissions included).
    /// What the book had realized when this run started (the summary counts this run's part).
    var realizedAtStart = 0.0

    // Timers, waits, bars.
    var timers: [Int: (function: LuaRef, repeating: Bool, task: Scheduled<Void>?)] = [:]
    var nextTimerId = 1
    /// Live timers a strategy may have (`timer.after` and `timer.every` refuse one more).
    static let maximumTimers = 1_000
    /// Timers whose firing is queued and not yet delivered: a repeating timer does not fire
    /// again until its last firing was handled, so a strategy that cannot keep up with its
    /// timers gets each of them as often as it can, not a queue growing without bound.
    var firingTimers: Set<Int> = []
    /// Coroutines suspended in a host call, and what turns the reply into the call's results
    /// (run on the loop when the reply comes: `orders.buy` waiting for a price sends then).
    // (Unchecked: see `statistics`; read per bar of a backtest by `isWaiting`.)
    @exclusivity(unchecked) var waits: [Int: (thread: LuaThread, finish: (([LuaValue]) -> [LuaValue])?)] = [:]
    var nextWaitId = 1
    /// Replies that came for a wait a reload had cancelled, and were dropped.
    var droppedReplies = 0
    /// Bars of the sizes the strategy asked for, built from the 5-second bars (key: `symbol|size`).
    var barBuilders: [String: BarAggregator] = [:]
    /// Each instrument's trading calendar, once TWS has described it (days, weeks, months of bars).
    var calendars: [String: TradingCalendar] = [:]
    var repeatingTasks: [Int: RepeatedTask] = [:]
    var loadedModules: [String: LuaRef] = [:]
    /// Instrument strings parsed so far (`"AAPL"` → its spec).
    var parsedInstruments: [String: InstrumentSpec] = [:]
    /// A backtest's clock (nil: the wall clock). Set before the strategy starts.
    @exclusivity(unchecked) var clock: SimulatedClock?
    /// A backtest's quotes, made from the current bars when asked for (market.quote), instead
    /// of one stored per bar.
    var simulatedQuote: ((String) -> MarketQuote?)?
    /// A backtest's marks: the latest close of an instrument, what its simulated quote's last
    /// would be (the daily loss limit marks the positions held at every bar: no quote is
    /// built for it).
    var simulatedMark: ((String) -> Double?)?

    /// The latest quote of `symbol` the strategy has (in a backtest: of the latest bar).
    func currentQuote(_ symbol: String) -> MarketQuote? { Self.quote(symbol, simulated: simulatedQuote, quotes: quotes) }
    static func quote(_ symbol: String, simulated: ((String) -> MarketQuote?)?, quotes: [String: MarketQuote]) -> MarketQuote? {
        simulated?(symbol) ?? quotes[symbol]
    }
    /// The own PnL the day began with: the daily loss limit counts from it (a backtest moves
    /// it at every new day; a live run is one day).
    var dayStartPnL = 0.0
    /// Files (the strategy's or a module's) whose top level is running: no effects there.
    var loadingDepth = 0
    /// Set by the watchdog when a handler overran the hard limit: the strategy is cut off
    /// (nothing is posted to it, nothing it asks for is sent) for good.
    let hungBox = NIOLockedValueBox<String?>(nil)
    public var hungReason: String? { hungBox.withLockedValue { $0 } }
    /// Set with `hungBox` when the strategy declared itself overloaded: the watchdog cuts it
    /// off (cancels its orders, reports) as it does a hung one.
    let cutOffWanted = NIOLockedValueBox(false)
    /// A hung strategy's way back: a restart is wanted (waiting for its stuck handler to
    /// return) or started (a fresh state replaced it).
    enum RestartState: Sendable { case none, wanted, started }
    let restartState = NIOLockedValueBox(RestartState.none)
    /// The statistics as of the end of the last burst of events (any thread: the summary of
    /// a strategy whose loop does not answer).
    let publishedStatistics = NIOLockedValueBox(StrategyStatistics())
    /// Recent log lines, the last thousand or so (tests and the summary read them).
    public internal(set) var logLines: [String] = []
    func remember(_ line: String) {
        if logLines.count >= 1_000 { logLines.removeFirst(500) }
        logLines.append(line)
    }
    /// Who waits for the strategy to have no handler suspended in a host call (a backtest
    /// holds its clock meanwhile).
    var settleWaiters: [CheckedContinuation<Void, Never>] = []

    // `statistics`, `consecutiveFailures`, `stopped`, `waits` and `clock` are read or written
    // for every event (per bar of a backtest), on the strategy's loop only, each access a
    // plain read, assignment or counter step that calls out to nothing: no two can overlap,
    // so the runtime's check of that is left out.
    @exclusivity(unchecked) public internal(set) var statistics = StrategyStatistics()
    /// Called on the strategy's loop with the socket-to-handler latency of each quote (ns), for benchmarks.
    public var quoteLatencyObserver: ((UInt64) -> Void)?
    @exclusivity(unchecked) var consecutiveFailures = 0
    /// How long each handler call takes (`moonwire_handler_seconds` when `moonwire serve`
    /// exports metrics; swift-metrics' no-op otherwise).
    let handlerTimer: Metrics.Timer
    /// Whether metrics are exported (swift-metrics was bootstrapped when the strategy was made):
    /// only then is a handler's end read from the clock for `handlerTimer` (a backtest's
    /// million on_bar calls spare as many clock reads).
    let timesHandlers = !(MetricsSystem.factory is NOOPMetricsHandler)
    var lastStoreData: Data?
    var lastStoreProblem: String?
    @exclusivity(unchecked) var stopped = false
    /// Set by the runner for a strategy it launched: until `on_start` has run, what is relayed
    /// to it waits (in order), so `on_start` is the first handler and its starting positions
    /// and the events after them meet without a gap or an overlap (see `deliver`).
    var awaitingStart = false
    var heldBeforeStart: [StrategyEvent] = []
    /// When each order's latest cancel was sent, until TWS answers it (Strategy+API `requestCancel`).
    var cancelsSent: [Int: Double] = [:]
    var pendingReload: Scheduled<Void>?
    var coalescingReport: RepeatedTask?
    var coalescedReported = 0
    /// Hash of the code that runs now.
    var loadedHash = ""
    /// Told of every reload the watcher triggers (on the strategy's loop): `moonwire run`
    /// prints a line for each.
    public var onReload: (@Sendable (ReloadOutcome) -> Void)?
    /// Loaded module files (for the file watcher).
    public internal(set) var modulePaths: [String] = []

    public static let handlerNames = ["on_start", "on_quote", "on_bar", "on_order", "on_fill", "on_position", "on_account", "on_error",
                               "on_connection", "on_reload", "on_stop"]

    /// Loads and runs the strategy file's top level in a fresh sandboxed environment.
    /// Call it on `loop` (`Strategy.make` does): the state belongs to that thread from birth.
    public init(path: String, name: String? = nil, loop: EventLoop, services: StrategyServices, config: HostConfig,
                params: [String: String] = [:], logger: Logger = Logger(label: "strategy")) throws
    {
        self.path = path
        self.name = name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        self.loop = loop
        self.services = services
        self.limits = config.strategy
        self.config = config
        self.extraParams = params
        self.baseLogger = logger
        self.gate = RiskGate(limits: config.risk)
        var merged = config.params
        for (key, value) in params { merged[key] = value }
        self.params = merged
        var logger = logger
        logger[metadataKey: "strategy"] = .string(self.name)
        handlerTimer = Metrics.Timer(label: "moonwire_handler_seconds", dimensions: [("strategy", self.name)])
        self.logger = logger
        lua = try LuaState(memoryLimit: config.strategy.memoryMB << 20)
        lua.timeBudget = config.strategy.budgetMs / 1000
        env = .none
        var storeValue: LuaValue = .table([:])
        if let data = services.loadStore(strategy: self.name), !config.strategy.resetStore.contains(self.name) {
            do {
                storeValue = try JSONDecoder().decode(LuaValue.self, from: data)
                lastStoreData = data
            } catch {
                throw LuaError(message: "the journaled store of \(self.name) cannot be read (\(error)); nothing was changed. Keep a copy of "
                               + "the journal; to start \(self.name) with an empty store deliberately, run it with --reset-store \(self.name)",
                               kind: .runtime)
            }
        }
        storeRef = lua.makeReference(storeValue)
        lua.sandbox()
        registerAPI()
        if config.strategy.testAPI {
            // Tests only: a C function that never returns to the VM (no hook can stop it),
            // for the hung-strategy tests.
            lua.registerTestBlocker(table: "testing", name: "block_in_c")
        }
        let source = try Self.read(path)
        env = try loadEnvironment(source: source)
        loadedHash = Self.fingerprint(source)
    }

    /// Creates the strategy on its own loop.
    public static func make(path: String, name: String? = nil, loop: EventLoop, services: StrategyServices, config: HostConfig,
                            params: [String: String] = [:], logger: Logger = Logger(label: "strategy")) async throws -> Strategy
    {
        try await loop.submit {
            try Strategy(path: path, name: name, loop: loop, services: services, config: config, params: params, logger: logger)
        }.get()
    }

    /// No strategy file is larger (a 3 GB file would be read whole into memory first).
    public static let maxFileBytes = 16 << 20

    /// Why `path` could not be read, in a user's words.
    static func unreadable(_ path: String) -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return "no such file" }
        if isFolder.boolValue { return "it is a folder" }
        return FileManager.default.isReadableFile(atPath: path) ? "it could not be read" : "permission denied"
    }

    public static func read(_ path: String) throws -> String {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber, size.int64Value > Int64(maxFileBytes) {
            throw LuaError(message: "\(path): the strategy file is \(size.int64Value >> 20) MB, more than the \(maxFileBytes >> 20) MB a strategy may be", kind: .syntax)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LuaError(message: "\(path): cannot read the strategy file (\(unreadable(path)))", kind: .syntax)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LuaError(message: "\(path): the strategy file is not UTF-8 text", kind: .syntax)
        }
        return text
    }

    /// A fresh environment with `params`, `store` and the strategy's code loaded in it.
    func loadEnvironment(source: String) throws -> LuaRef {
        let env = lua.newEnvironment()
        lua.setField(env, "params", .table(Dictionary(uniqueKeysWithValues: params.map { (LuaKey.string($0.key), Self.paramValue($0.value)) })))
        lua.setField(env, "store", reference: storeRef)
        loadingDepth += 1
        defer { loadingDepth -= 1 }
        do {
            try lua.load(source: source, chunkName: URL(fileURLWithPath: path).lastPathComponent, env: env,
                         budget: max(lua.timeBudget, 1.0))
        } catch {
            lua.release(env)
            throw error
        }
        return env
    }

    /// `--param n=20` gives a number, `--param on=true` a boolean, anything else a string.
    static func paramValue(_ text: String) -> LuaValue {
        if let integer = Int64(text) { return .integer(integer) }
        if let number = Double(text) { return .number(number) }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        return .string(text)
    }

    /// Handler names the file defines.
    public var definedHandlers: [String] {
        lua.functionNames(env).filter { $0.hasPrefix("on_") }
    }

    // MARK: Posting events (any thread)

    /// Posts an event; it is handled on the strategy's loop after every event posted before it.
    public func post(_ event: StrategyEvent) { deposit(.event(event)) }

    /// Posts a quote; if one for the symbol is still waiting, it is replaced (counted).
    public func post(quote: MarketQuote) { deposit(.quote(quote)) }

    /// Posts a 5-second bar: it becomes a bar event for every `bars` size this strategy asked
    /// for on `symbol` that it completes (in order with everything else posted).
    public func post(bar: RealTimeBar, symbol: String) { deposit(.bar(bar, symbol: symbol)) }

    /// Posts go into a locked inbox. A post wakes the loop only when the loop is idle: while
    /// it is handling events it takes whatever was posted meanwhile before it goes idle
    /// (`drain`), so a burst costs one thread hop, and producer and consumer never ping-pong.
    enum Posted {
        case event(StrategyEvent)
        case quote(MarketQuote)
        case bar(RealTimeBar, symbol: String)
    }

    private func deposit(_ item: Posted) {
        var overflowed = false
        let wake = inbox.withLockedValue { box -> Bool in
            if box.closed { return false }
            if case let .quote(quote) = item {
                if let slot = box.quoteSlots[quote.symbol], case let .quote(waiting) = box.items[slot] {
                    box.items[slot] = .quote(Self.fold(quote, into: waiting))
                    box.coalesced += 1
                    return false  // the waiting quote already woke the loop
                }
                box.quoteSlots[quote.symbol] = box.items.count
            } else {
                guard box.events < Self.maximumWaitingEvents else {
                    box.closed = true
                    overflowed = true
                    return false
                }
                box.events += 1
            }
            box.items.append(item)
            if box.scheduled { return false }
            box.scheduled = true
            return true
        }
        if overflowed { overloaded() }
        if wake { loop.execute { self.drain() } }
    }

    /// The inbox overflowed with events that are never dropped (order updates, fills,
    /// errors): the strategy handles them more slowly than they arrive. It is declared hung
    /// (nothing more is delivered to it or sent for it; the watchdog cancels its orders and
    /// reports), as a stuck one is, rather than holding events without bound.
    private func overloaded() {
        let reason = "overloaded: more than \(Self.maximumWaitingEvents) events waiting (it handles them more slowly than they "
            + "arrive, and order updates, fills and errors are never dropped): declared hung"
        let first = hungBox.withLockedValue { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first { cutOffWanted.withLockedValue { $0 = true } }
    }

    /// `newer` with the ticks of `waiting` folded in: as old as the oldest tick in it.
    static func fold(_ newer: MarketQuote, into waiting: MarketQuote) -> MarketQuote {
        var quote = newer
        quote.ticks += waiting.ticks
        if waiting.receivedAt != 0 && (quote.receivedAt == 0 || waiting.receivedAt < quote.receivedAt) {
            quote.receivedAt = waiting.receivedAt
        }
        return quote
    }

    /// Moves what was posted into the queue; false (and the loop counts as idle again) when
    /// nothing was.
    private func takeInbox() -> Bool {
        // The inbox's array and the loop's spare are swapped, never copied: no allocation per burst.
        var items: [Posted] = []
        swap(&items, &takenItems)
        var coalesced = 0
        let taken = inbox.withLockedValue { box -> Bool in
            if box.items.isEmpty {
                box.scheduled = false
                return false
            }
            swap(&items, &box.items)
            box.quoteSlots.removeAll(keepingCapacity: true)
            coalesced = box.coalesced
            box.coalesced = 0
            box.events = 0
            return true
        }
        statistics.quotesCoalesced += coalesced
        for item in items {
            switch item {
            case let .event(event): queue(event)
            case let .quote(quote): queue(quote: quote)
            case let .bar(bar, symbol): queue(bar: bar, symbol: symbol)
            }
        }
        items.removeAll(keepingCapacity: true)
        swap(&items, &takenItems)
        return taken
    }

    /// Queues an event raised on the loop itself (timers, replies) and makes sure it is handled.
    func enqueue(_ event: StrategyEvent) {
        queue(event)
        scheduleDrain()
    }

    /// A timer fell due on the wall clock: its event is queued, unless its last firing is
    /// still waiting (a repeating timer then skips this beat).
    func fire(timer id: Int) {
        guard timers[id] != nil, firingTimers.insert(id).inserted else { return }
        enqueue(.timer(id))
    }

    /// Refuses a timer past `maximumTimers` live ones (each holds a Lua function and a task
    /// on the loop).
    func checkTimerRoom(_ call: LuaCall) throws {
        guard timers.count < Self.maximumTimers else {
            throw LuaArgumentError("\(call.name): too many timers (\(Self.maximumTimers) live): cancel one (timer.cancel) before making another")
        }
    }

    private func queue(_ event: StrategyEvent) {
        guard !stopped else { return }
        queue.append(.event(event))
    }

    private func queue(quote: MarketQuote) {
        guard !stopped else { return }
        var quote = quote
        if let waiting = pendingQuotes[quote.symbol] {
            statistics.quotesCoalesced += 1
            quote = Self.fold(quote, into: waiting)
        } else {
            queue.append(.quote(quote.symbol))
        }
        pendingQuotes[quote.symbol] = quote
    }

    private func queue(bar: RealTimeBar, symbol: String) {
        let part = BuiltBar(time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close,
                            volume: bar.volume?.doubleValue, wap: bar.wap?.doubleValue, count: bar.count)
        for key in barBuilders.keys.sorted() where key.hasPrefix(symbol + "|") {
            guard var builder = barBuilders[key] else { continue }
            if builder.period.isCalendar, !builder.followsInstrument, let calendar = tradingCalendar(symbol) { builder.use(calendar) }
            for finished in builder.add(part, seconds: 5) {
                var built = RealTimeBar()
                built.time = finished.time
                (built.open, built.high, built.low, built.close) = (finished.open, finished.high, finished.low, finished.close)
                built.volume = finished.volume.map { TWSDecimal(approximating: $0) }
                built.wap = finished.wap.map { TWSDecimal(approximating: $0) }
                built.count = finished.count ?? 0
                queue(.bar(symbol: symbol, size: builder.size, bar: built))
            }
            barBuilders[key] = builder
        }
    }

    /// The instrument's sessions as TWS describes them (liquid hours: the regular session a
    /// daily bar covers), once it has: until then day bars wait (the first is partial anyway).
    private func tradingCalendar(_ symbol: String) -> TradingCalendar? {
        if let known = calendars[symbol] { return known }
        guard let details = services?.resolvedInstrument(symbol)?.details else { return nil }
        let calendar = TradingCalendar(details: details)
        calendars[symbol] = calendar
        return calendar
    }

    private func scheduleDrain() {
        guard !draining else { return }
        draining = true
        loop.execute { self.drain() }
    }

    /// Handles everything queued, in order, then whatever was posted meanwhile, until there is
    /// nothing left (then posts wake the loop again).
    func drain() {
        draining = false
        // A strategy declared hung gets nothing more, even if its stuck handler returns one
        // day. Checked once a burst, not per event: a stuck handler always ends its burst
        // (it is way past the 2 ms below), so the next burst starts here.
        guard hungReason == nil else {
            queue.removeAll()
            pendingQuotes.removeAll()
            return
        }
        var handled = 0
        let started = DispatchTime.now().uptimeNanoseconds
        repeat {
            while let item = queue.popFirst() {
                handle(item)
                handled += 1
                // Yield the loop now and then (every 512 events or 2 ms, whichever comes
                // first) so timers and replies on it stay timely under a flood of quotes.
                if handled >= 512 || DispatchTime.now().uptimeNanoseconds - started > 2_000_000 {
                    publishedStatistics.withLockedValue { $0 = statistics }
                    scheduleDrain()
                    return
                }
            }
        } while takeInbox()
        publishedStatistics.withLockedValue { $0 = statistics }
        if !settleWaiters.isEmpty && waits.isEmpty { resumeSettleWaiters() }
    }

    // MARK: Delivering

    /// One queued item: an event, or the latest quote of a symbol (gone if already delivered).
    func handle(_ item: Item) {
        switch item {
        case let .quote(symbol):
            guard let quote = pendingQuotes.removeValue(forKey: symbol) else { return }
            deliver(.quote(quote))
        case let .event(event):
            deliver(event)
        }
    }

    func deliver(_ event: StrategyEvent) {
        // Invariant 1: the Lua state is touched by this loop's thread only.
        loop.preconditionInEventLoop()
        guard !stopped else { return }
        if awaitingStart {
            guard case .start = event else {
                heldBeforeStart.append(event)
                return
            }
            awaitingStart = false
            // Then what came meanwhile, before anything queued after it.
            queue.prepend(contentsOf: heldBeforeStart.map { .event($0) })
            heldBeforeStart = []
        }
        statistics.eventsDelivered += 1
        switch event {
        case .start:
            call("on_start", [])
        case let .quote(quote):
            if let observer = quoteLatencyObserver, quote.receivedAt > 0 {
                observer(DispatchTime.now().uptimeNanoseconds &- quote.receivedAt)
            }
            quotes[quote.symbol] = quote
            if positions[quote.symbol].map({ $0.quantity != 0 }) == true { checkOwnLoss() }
            statistics.quotesDelivered += 1
            statistics.ticksDelivered += quote.ticks
            let now = currentTime
            call("on_quote", label: Self.quoteLabel, shape: LuaTables.quoteShape) { LuaTables.quote(quote, now: now, into: &$0) }
        case let .bar(symbol, size, bar):
            deliverBar(symbol: symbol, size: size, time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close,
                       volume: bar.volume?.doubleValue, wap: bar.wap?.doubleValue, count: bar.count)
        case let .order(record):
            // An order that never left (the journal could not hold it, the kill switch came
            // first) counts as refused, not placed.
            if record.status == .rejected, record.reason.hasPrefix("not sent: "),
               let index = orders.index(forKey: record.orderId), orders.values[index].status == .pending
            {
                statistics.ordersPlaced -= 1
                statistics.ordersRefused += 1
            }
            // Each state told once: TWS often reports one twice (an orderStatus, then an error
            // or openOrder that adds a reason); the reason still reaches `orders.get`.
            let repeated = toldOrders[record.orderId]?.reportsSameState(as: record) == true
            remember(order: record)
            if !repeated {
                toldOrders[record.orderId] = record
                call("on_order", [LuaTables.order(record)])
            }
        case let .fill(execution):
            // A fill the starting positions hold already (the state's snapshot is taken ahead of
            // what the journal has delivered) is not told or counted twice.
            guard !positions.holds(execution) else { return }
            if execution.corrects == nil { statistics.fills += 1 }
            applyFillToView(execution)
            checkOwnLoss()
            call("on_fill", label: Self.fillLabel, shape: LuaTables.fillShape) { LuaTables.fill(execution, into: &$0) }
            if let position = positions[execution.symbol] {
                call("on_position", [positionTable(execution.symbol, position)])
            }
            persistStore()
        case let .commission(report):
            if let rates = services?.rates() { positions.use(rates: rates) }
            positions.commission(report)
            statistics.realizedPnL = positions.realized - realizedAtStart
        case let .account(key, value):
            accountValues[key] = value
            if Self.accountHandlerKeys.contains(key) {
                call("on_account", [LuaTables.account(accountValues)])
            }
        case let .pnl(daily, unrealized, realized):
            pnl = (daily, unrealized, realized)
            if let daily, gate.checkLoss(daily, currency: services?.rates().base) { halt(reason: gate.halted ?? "daily loss") }
        case let .error(code, message, orderId):
            statistics.errors += 1
            call("on_error", [LuaTables.error(code: code, message: message, orderId: orderId)], isErrorHandler: true)
        case let .connection(state):
            call("on_connection", [.string(state)])
        case let .timer(id):
            firingTimers.remove(id)
            guard let timer = timers[id] else { return }
            if !timer.repeating { timers[id] = nil }
            lua.label = Self.label(timer: id)
            run(lua.call(function: timer.function, []), handler: "timer \(id)")
            if !timer.repeating { lua.release(timer.function) }
            persistStore()
        case let .reply(wait, values):
            guard let pending = waits.removeValue(forKey: wait) else {  // cancelled by a reload
                droppedReplies += 1
                return
            }
            lua.label = Self.resumedWaitLabel
            run(lua.resume(pending.thread, with: pending.finish?(values) ?? values), handler: "a resumed wait")
        case .stop:
            call("on_stop", [])
            persistStore()
        case let .custom(handler, values):
            call(handler, values)
            persistStore()
        }
    }

    /// A fill changes the position the strategy sees at the moment it is told of the fill.
    /// Booked in the one ledger, at the account's rates (PnL in base currency).
    func applyFillToView(_ execution: ExecutionRecord) {
        multipliers[execution.symbol] = execution.multiplier
        if let rates = services?.rates() { positions.use(rates: rates) }
        positions.apply(execution)
        statistics.realizedPnL = positions.realized - realizedAtStart
    }

    /// The contract size of an instrument the strategy holds (50 for ES): from its fills, or
    /// from what TWS resolved.
    func multiplier(_ key: String) -> Double {
        multipliers[key] ?? services?.resolvedInstrument(key)?.multiplier ?? 1
    }

    /// Now, for `now()`, the risk gate's per-minute count and the times of what the strategy is told.
    /// The time the strategy lives in: a backtest's simulated clock, a replay's market clock,
    /// else the wall clock.
    var currentTime: Double { clock?.now ?? config.marketClock?.now() ?? Date().timeIntervalSince1970 }

    /// The strategy's own PnL in base currency, from its fills and the latest quotes (the
    /// last trade, else the mid): the daily loss limit holds with it even when TWS's PnL
    /// stream is silent.
    var ownPnL: Double {
        var book = positions
        return Self.ownPnL(of: &book, simulated: simulatedQuote, marks: simulatedMark, quotes: quotes)
    }

    /// The same of `book`. Static, with the quotes given: a closure that could reach
    /// `positions` through `self` makes Swift copy the whole book for each use, on every quote
    /// or bar held. A backtest's mark is its simulated quote's last, read without the quote.
    /// `inout`, though nothing is written: a book passed by value from the strategy's stored
    /// `positions` is copied first (a retain and a release of each of its parts, at every bar
    /// held); an inout access reads it where it lies. Nothing the marks reach is the strategy's.
    static func ownPnL(of book: inout PositionBook, simulated: ((String) -> MarketQuote?)?, marks: ((String) -> Double?)?,
                       quotes: [String: MarketQuote]) -> Double
    {
        book.realized + book.unrealized { symbol in
            if let marks, let mark = marks(symbol) { return mark }
            guard let quote = Self.quote(symbol, simulated: marks == nil ? simulated : nil, quotes: quotes) else { return nil }
            return quote.last ?? quote.bid.flatMap { bid in quote.ask.map { (bid + $0) / 2 } }
        }
    }

    /// Halts when the strategy's own PnL passes the daily loss limit.
    func checkOwnLoss() {
        guard gate.halted == nil else { return }
        // Read in place (a copy of the book is a retain and a release of each of its parts,
        // at every bar held).
        guard !positions.isFlat || positions.realized != realizedAtStart else { return }
        let pnl = Self.ownPnL(of: &positions, simulated: simulatedQuote, marks: simulatedMark, quotes: quotes)
        if gate.checkLoss(pnl - dayStartPnL, currency: services?.rates().base) { halt(reason: (gate.halted ?? "daily loss") + " (the strategy's own fills and quotes)") }
    }

    /// Calls `handler` when the file defines it (now: a handler may be defined at any time);
    /// its arguments are made only then.
    func call(_ handler: String, _ arguments: @autoclosure () -> [LuaValue], isErrorHandler: Bool = false) {
        guard !statistics.paused || handler == "on_stop" else { return }
        guard lua.hasFunction(env, handler) else { return }
        lua.label = Self.label(handler: handler)
        let started = LuaState.monotonicNanoseconds
        let outcome = lua.call(env, handler, arguments())
        if timesHandlers { handlerTimer.recordNanoseconds(LuaState.monotonicNanoseconds &- started) }
        run(outcome, handler: handler, isErrorHandler: isErrorHandler)
    }

    // What runs, for the watchdog's report: set (an atomic store) before every run, read on
    // the watchdog's thread only when a run overstays. A handler is its place in
    // `handlerNames` + 1, a resumed wait -1, timer N is -2 - N.
    static let resumedWaitLabel: Int64 = -1
    static let quoteLabel = label(handler: "on_quote")
    static let barLabel = label(handler: "on_bar")
    static let fillLabel = label(handler: "on_fill")
    static func label(handler: String) -> Int64 { handlerLabels[handler] ?? 0 }
    private static let handlerLabels = Dictionary(uniqueKeysWithValues: handlerNames.enumerated().map { ($1, Int64($0 + 1)) })
    /// The account values whose change on_account hears of.
    static let accountHandlerKeys: Set<String> = ["NetLiquidation", "TotalCashValue", "BuyingPower", "UnrealizedPnL", "RealizedPnL"]
    static func label(timer id: Int) -> Int64 { -2 - Int64(id) }

    /// What a label names: `on_quote`, `timer 3`, `a resumed wait`.
    static func describe(label: Int64) -> String {
        switch label {
        case 1...Int64(handlerNames.count): return handlerNames[Int(label) - 1]
        case resumedWaitLabel: return "a resumed wait"
        case ...(-2): return "timer \(-2 - label)"
        default: return "a handler"
        }
    }

    /// on_bar, its table written straight onto the Lua stack (a backtest calls it for every bar).
    func deliverBar(symbol: String, size: String, time: Int64, open: Double, high: Double, low: Double, close: Double,
                    volume: Double?, wap: Double?, count: Int?)
    {
        call("on_bar", label: Self.barLabel, shape: LuaTables.barShape) {
            LuaTables.bar(symbol: symbol, size: size, time: time, open: open, high: high, low: low, close: close,
                          volume: volume, wap: wap, count: count, into: &$0)
        }
    }

    /// The same with one table argument written straight onto the Lua stack (quotes, bars:
    /// no `LuaValue` in between), its fields set by `shape`'s interned names. The handler's
    /// time and its budget start at one clock read.
    func call(_ handler: String, label: Int64, shape: LuaRecordShape, _ fill: (inout LuaTableWriter) -> Void) {
        guard !statistics.paused else { return }
        lua.label = label
        let started = LuaState.monotonicNanoseconds
        let outcome = lua.call(env, handler, shape: shape, startedAt: started, fill)
        if timesHandlers { handlerTimer.recordNanoseconds(LuaState.monotonicNanoseconds &- started) }
        run(outcome, handler: handler)
    }

    /// What a handler run came to: done, waiting (fine: other events go on), or failed
    /// (logged, journaled, told to on_error; N failures in a row pause the strategy).
    func run(_ outcome: LuaState.Outcome, handler: String, isErrorHandler: Bool = false) {
        switch outcome {
        case .finished, .suspended:
            // on_error succeeding does not make the failing handler a success.
            if !isErrorHandler { consecutiveFailures = 0 }
        case let .failed(error):
            statistics.handlerFailures += 1
            consecutiveFailures += 1
            if handler == "on_start" { statistics.startFailed = true }
            // The whole traceback in the log file and the journal; one line on the console.
            logger.error("\(handler) failed: \(error.message)\n\(error.traceback)",
                         metadata: ConsoleLine.metadata(ConsoleLine.handlerFailure(handler, error)))
            services?.journal(strategy: name, kind: "error", detail: "\(handler): \(error.message)\n\(error.traceback)")
            if !isErrorHandler {
                let code = error.kind == .budget ? "budget" : (error.kind == .memory ? "memory" : "lua")
                statistics.errors += 1
                lua.label = Self.label(handler: "on_error")
                run(lua.call(env, "on_error", [LuaTables.error(code: code, message: error.message, orderId: nil)]),
                    handler: "on_error", isErrorHandler: true)
            }
            if consecutiveFailures >= limits.maxConsecutiveErrors && !statistics.paused {
                statistics.paused = true
                logger.error("paused after \(consecutiveFailures) failing handlers in a row; the process keeps running")
                services?.journal(strategy: name, kind: "paused", detail: "\(consecutiveFailures) consecutive handler failures")
            }
        }
    }

    /// The risk gate halted trading: cancel this strategy's open orders, refuse new ones.
    func halt(reason: String) {
        logger.error("halted: \(reason); cancelling open orders")
        services?.journal(strategy: name, kind: "halt", detail: reason)
        for record in openOrders {
            services?.cancel(id: record.orderId)
        }
        enqueue(.error(code: "risk:halted", message: "risk: trading halted: \(reason)", orderId: nil))
    }

    /// Writes the store to the journal when it changed (a backtest keeps it in Lua until the end).
    /// Bounded like every read of Lua: the copy and its journaled form each at most the
    /// memory cap, the entries visited at most `LuaState.maximumEntries`.
    func persistStore() {
        guard clock == nil || stopped else { return }
        let data: Data
        do {
            data = try lua.read(storeRef, path: "store").journaled(limit: lua.memoryLimit, path: "store")
        } catch {
            // Not journaled: the last good store stays. Said once per distinct problem.
            let message = "store: \(error)"
            if message != lastStoreProblem {
                lastStoreProblem = message
                logger.error("\(message); the store is not saved until this is fixed")
                services?.journal(strategy: name, kind: "error", detail: message)
                enqueue(.error(code: "store", message: message, orderId: nil))
            }
            return
        }
        lastStoreProblem = nil
        guard data != lastStoreData else { return }
        lastStoreData = data
        services?.saveStore(strategy: name, data: data)
    }

    /// Delivers `on_stop`, stops timers, persists the store. Returns the statistics.
    /// Bounded: a strategy whose loop does not answer within `limits.stopGraceSeconds` (a
    /// stuck handler) is left behind, and its last published statistics are returned.
    public func stop() async -> StrategyStatistics {
        inbox.withLockedValue { $0.closed = true }
        guard hungReason == nil else { return finalStatistics() }
        let future = loop.submit { () -> StrategyStatistics in
            self.drain()  // what was posted before the inbox closed
            self.deliver(.stop)
            self.stopped = true
            if self.clock != nil { self.persistStore() }  // a backtest's store, once, at the end
            self.resumeSettleWaiters()
            self.coalescingReport?.cancel()
            self.cancelAllTimers()
            self.publishedStatistics.withLockedValue { $0 = self.statistics }
            return self.statistics
        }
        return await future.value(within: limits.stopGraceSeconds) ?? finalStatistics()
    }

    /// The statistics published last, marked hung when the strategy was.
    func finalStatistics() -> StrategyStatistics {
        var statistics = publishedStatistics.withLockedValue { $0 }
        statistics.hung = statistics.hung || hungReason != nil
        return statistics
    }

    public func currentStatistics() async -> StrategyStatistics {
        guard hungReason == nil else { return finalStatistics() }
        return await loop.submit { self.statistics }.value(within: limits.stopGraceSeconds) ?? finalStatistics()
    }
}


