import Foundation
import Logging
import NIOCore
import TWSProtocol

/// The simulated TWS: sessions, market, orders and account, all on one event loop.
///
/// Every method runs on `loop` (the server binds all connections to it), so the state needs
/// no locks and the order of events is the order they happened. The engine is reached from
/// other threads only through `GatewayEngine.Handle`, which hops onto the loop.
public final class GatewayEngine {
    let config: PaperGatewayConfig
    let loop: EventLoop
    var logger: Logger
    let zone: TimeZone
    var market: MarketSimulator
    var sessions: [Int: GatewaySession] = [:]
    /// Sessions that sent startApi, in connection order (the market publishes to these every
    /// step, so they are kept rather than filtered and sorted each time).
    var startedSessions: [GatewaySession] = []
    /// The staggered realtime clock: when it started, how many moves it made, which
    /// instrument moves next.
    private var clockStart: NIODeadline?
    private var instrumentsMoved = 0
    private var nextInstrument = 0
    private var nextSessionId = 1
    var accounts: [String: PaperAccount] = [:]
    /// Keyed by client id and order id, as TWS scopes order ids.
    var orders: [OrderKey: PaperOrder] = [:]
    /// How many placeOrder requests each order id came in (the last 10,000 ids), whatever came
    /// of them (refused, unknown instrument): what "TWS never saw it" is checked against.
    public internal(set) var placeOrdersSeen: [Int: Int] = [:]
    var orderSequence: [OrderKey] = []
    /// When `orderSequence` is next compacted (GatewayEngine+Memory.swift).
    var compactOrdersAt = GatewayEngine.keptFinishedOrders * 2
    var executions: [ExecutionRecord] = []
    /// The next order id each client id may use (persisted with a state file).
    var nextValidIds: [Int: Int] = [:]
    var nextPermId: Int64 = 1_800_000_000
    /// This paper account's identity: a fresh one for each gateway without a state file, the
    /// same across restarts with one. It leads every execution id (IB's are unique across
    /// sessions too), so a fill of one paper account is never taken for another's.
    var instanceId = UInt32.random(in: 1...UInt32.max)
    lazy var historicalPacing: HistoricalPacing = {
        var pacing = HistoricalPacing()
        pacing.window = config.pacing.historicalWindowSeconds
        return pacing
    }()
    var realTimeBuckets: [String: RealTimeBucket] = [:]
    /// When each session was last sent its PnL (IB updates about once a second).
    var lastPnLPublished: Double = 0
    var faults = Faults()
    /// Called with each placeOrder as it is read off a client's socket, before the gateway
    /// handles or answers it (on the engine's loop; set through `withEngine`). For tests: what
    /// the client had done by the time its order reached "TWS" (journaled it first, say) is
    /// checked there, at the moment it matters, rather than inferred afterwards.
    public var placeOrderReceived: (@Sendable (PlaceOrder) -> Void)?
    /// Market time: the wall clock, or a clock advanced by `step` in manual mode.
    private(set) var manualTime: Double
    /// When a replay started on the wall clock.
    /// A replay's market time (nil: the wall clock, or the manual one).
    public let replayClock: MarketClock?
    let store: GatewayStateStore?
    /// How many times quotes have moved.
    public var steps: Int { market.steps }

    struct OrderKey: Hashable, Sendable {
        var clientId: Int
        var orderId: Int
    }

    struct ExecutionRecord {
        var contract: Contract
        var execution: Execution
        var commission: CommissionReport
        var time: Double
    }

    /// Faults switched on by the control port or the config.
    struct Faults {
        var rejectNextOrder: String?
        var refuseConnectionsUntil: Double = 0
        /// Until then requests are read and never answered (a hung TWS).
        var hangUntil: Double = 0
        /// Cancels take this long to be confirmed (a slow exchange); other requests do not wait.
        var cancelDelay: Double = 0
        /// Symbols whose trading is halted (tick 49 says so; the control command `halted`).
        var halted: Set<String> = []
        /// Until then requests are kept, in order, and handled when it ends (a busy TWS whose
        /// answers come late): see `hold(_:_:)`.
        var holdUntil: Double = 0
        var held: [(session: Int, request: ClientRequest)] = []
        var holdEverything = false
        var releasing = false
    }

    init(config: PaperGatewayConfig, loop: EventLoop, logger: Logger, store: GatewayStateStore?) throws {
        self.config = config
        self.loop = loop
        self.logger = logger
        self.zone = TimeZone(identifier: config.timeZone) ?? TimeZone(identifier: "UTC")!
        let start = config.replay.map { Double($0.start) } ?? Date().timeIntervalSince1970
        self.manualTime = start
        self.replayClock = config.replay.map { MarketClock(start: Double($0.start), wallStart: Date().timeIntervalSince1970, speed: $0.speed) }
        self.market = MarketSimulator(instruments: Self.universe(config), seed: config.seed, now: start, replay: config.replay)
        self.store = store
        for id in config.accounts { accounts[id] = PaperAccount(id: id, cash: config.startingCash) }
        if let store { try restore(from: store) }
    }

    var defaultAccount: String { config.accounts[0] }

    /// Market time in epoch seconds: the wall clock; in a replay the bars' time, running
    /// `speed` times as fast as the wall clock; in manual mode what `step` made it.
    public var now: Double {
        if config.market.clock == "manual" { return manualTime }
        return replayClock?.now() ?? Date().timeIntervalSince1970
    }

    /// The configured instruments, and a stock for every replayed symbol they lack (priced
    /// from its first bar).
    static func universe(_ config: PaperGatewayConfig) -> [Instrument] {
        var instruments = config.instruments
        let known = Set(instruments.map(\.symbol))
        for (symbol, bars) in (config.replay?.bars ?? [:]).sorted(by: { $0.key < $1.key }) where !known.contains(symbol) {
            guard let first = bars.first else { continue }
            instruments.append(Instrument(symbol: symbol, conId: 900_000 + instruments.count, primaryExchange: "NASDAQ",
                                          longName: "\(symbol) (replayed)", startPrice: first.open, volatility: 0.3))
        }
        return instruments
    }

    // MARK: Sessions

    func openSession(channel: Channel) -> GatewaySession? {
        loop.preconditionInEventLoop()
        if Date().timeIntervalSince1970 < faults.refuseConnectionsUntil {
            logger.info("refusing a connection: restart fault active")
            return nil
        }
        // Connections that have not started an API session do not take a client's slot;
        // they are few (and closed after `handshakeTimeout` by the connection handler).
        guard sessions.count - startedSessions.count < Self.maxPendingConnections else {
            logger.warning("refusing a connection: \(Self.maxPendingConnections) connections have not started an API session yet")
            return nil
        }
        let session = GatewaySession(channel: channel, id: nextSessionId)
        nextSessionId += 1
        sessions[session.id] = session
        return session
    }

    func closeSession(_ session: GatewaySession) {
        sessions[session.id] = nil
        startedSessions.removeAll { $0 === session }
        if let clientId = session.clientId { logger.info("client \(clientId) disconnected") }
    }

    /// The answer to a client's hello: the version we speak with it, or nil to hang up.
    func negotiate(_ session: GatewaySession, hello: Handshake.ClientHello) -> Handshake.ServerHello? {
        let version = Handshake.negotiate(client: hello.versions)
        guard version >= ServerVersion.supported.lowerBound else {
            logger.warning("client offered versions \(hello.versions); the paper gateway needs \(ServerVersion.supported.lowerBound) or later")
            return nil
        }
        session.serverVersion = version
        return Handshake.ServerHello(serverVersion: version, connectionTime: connectionTime())
    }

    func connectionTime() -> String {
        BarHistory.format(Int(now), zone: zone)
    }

    /// Handles one decoded request. Returns false when the session must be closed.
    func handle(_ session: GatewaySession, _ request: ClientRequest) -> Bool {
        loop.preconditionInEventLoop()
        defer { flushAll() }
        if case let .startAPI(start) = request { return startAPI(session, start) }
        if Date().timeIntervalSince1970 < faults.hangUntil {
            logger.info("hang fault: ignoring \(request.name)")
            return true
        }
        guard session.clientId != nil else {
            session.sendError(-1, 321, "Error validating request.-'\(request.name)' : cause - the API session has not started (send startApi first)")
            return true
        }
        if config.pacing.messageRate, !faults.releasing, let count = exceedsMessageRate(session) {
            // IB's answer to a flood: error 100, once a second; a client that keeps flooding
            // (10x the rate) is disconnected, and past twice the rate its requests are dropped,
            // so one client's flood never stalls the others.
            if !session.rateErrorSent {
                session.rateErrorSent = true
                session.sendError(-1, 100, "Max rate of messages per second has been exceeded:max=50 rec=\(count) (1)")
            }
            if count > 500 {
                logger.warning("client \(session.clientId ?? -1): \(count) messages in a second; disconnecting")
                return false
            }
            if count > 100 { return true }
        }
        if hold(session, request) { return true }
        switch request {
        case .startAPI: return true
        case let .reqIds(r): requestIds(session, r)
        case .reqCurrentTime: session.send(.currentTime(CurrentTime(time: Int64(now))))
        case .reqCurrentTimeInMillis: session.send(.currentTimeInMillis(CurrentTimeInMillis(timeInMillis: Int64(now * 1000))))
        case .reqManagedAccts: session.send(.managedAccounts(ManagedAccounts(accountsList: config.accounts.joined(separator: ","))))
        case let .reqMktData(r): requestMarketData(session, r)
        case let .cancelMktData(r): cancelMarketData(session, r.reqId)
        case let .reqMarketDataType(r): setMarketDataType(session, r.marketDataType)
        case let .reqHistoricalData(r): requestHistory(session, r)
        case let .cancelHistoricalData(r): cancelHistory(session, r.reqId)
        case let .reqHeadTimeStamp(r): requestHeadTimestamp(session, r)
        case .cancelHeadTimeStamp: break
        case let .reqRealTimeBars(r): requestRealTimeBars(session, r)
        case let .cancelRealTimeBars(r): session.realTimeBars[r.reqId] = nil
        case let .reqContractDetails(r): requestContractDetails(session, r)
        case let .reqTickByTickData(r):
            session.sendError(r.reqId, 10089, "Requested market data requires additional subscription for API. Tick-by-tick data is not simulated by the paper gateway.")
        case .cancelTickByTickData: break
        case let .placeOrder(r): placeOrder(session, r)
        case let .cancelOrder(r):
            if faults.cancelDelay > 0 {
                let sessionId = session.id
                loop.scheduleTask(in: .milliseconds(Int64(faults.cancelDelay * 1000))) { [self] in
                    if let session = sessions[sessionId] { cancelOrder(session, r.orderId) }
                }
            } else {
                cancelOrder(session, r.orderId)
            }
        case .reqGlobalCancel: globalCancel()
        case .reqOpenOrders: reportOpenOrders(session, allClients: false)
        case .reqAllOpenOrders: reportOpenOrders(session, allClients: true)
        case .reqAutoOpenOrders: break
        case let .reqCompletedOrders(r): reportCompletedOrders(session, apiOnly: r.apiOnly)
        case let .reqExecutions(r): reportExecutions(session, r)
        case .reqPositions: reportPositions(session)
        case .cancelPositions: session.positionUpdates = false
        case let .reqAccountUpdates(r): requestAccountUpdates(session, r)
        case let .reqAccountSummary(r): requestAccountSummary(session, r)
        case let .cancelAccountSummary(r): session.accountSummaries[r.reqId] = nil
        case let .reqPnL(r): requestPnL(session, r)
        case let .cancelPnL(r): session.pnl[r.reqId] = nil
        case let .reqPnLSingle(r): requestPnLSingle(session, r)
        case let .cancelPnLSingle(r): session.pnlSingle[r.reqId] = nil
        case let .reqAccountUpdatesMulti(r): requestAccountUpdatesMulti(session, r)
        case let .cancelAccountUpdatesMulti(r): session.accountUpdatesMulti[r.reqId] = nil
        case let .reqPositionsMulti(r): requestPositionsMulti(session, r)
        case let .cancelPositionsMulti(r): session.positionsMulti[r.reqId] = nil
        }
        return true
    }

    /// Connections that have not started an API session, at most, and how long they may take.
    static let maxPendingConnections = 64
    static let handshakeTimeout = TimeAmount.seconds(5)

    private func startAPI(_ session: GatewaySession, _ start: StartAPI) -> Bool {
        guard session.clientId == nil else { return true }
        guard clients.count < config.maxClients else {
            session.sendError(-1, 502, "Couldn't connect to TWS: \(config.maxClients) API clients are connected already (the most TWS allows).")
            logger.warning("refusing client \(start.clientId): \(config.maxClients) clients already connected")
            return false
        }
        if sessions.values.contains(where: { $0 !== session && $0.clientId == start.clientId }) {
            session.sendError(-1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id.")
            logger.warning("client id \(start.clientId) is already in use: closing the new connection")
            return false
        }
        session.clientId = start.clientId
        startedSessions.append(session)
        logger.info("client \(start.clientId) connected at server version \(session.serverVersion)")
        session.send(.managedAccounts(ManagedAccounts(accountsList: config.accounts.joined(separator: ","))))
        session.send(.nextValidId(NextValidId(orderId: nextValidId(for: start.clientId))))
        session.sendError(-1, 2104, "Market data farm connection is OK:usfarm")
        session.sendError(-1, 2106, "HMDS data farm connection is OK:ushmds")
        session.sendError(-1, 2158, "Sec-def data farm connection is OK:secdefnj")
        return true
    }

    func nextValidId(for clientId: Int) -> Int {
        let next = max(nextValidIds[clientId] ?? 1, orders.keys.filter { $0.clientId == clientId }.map { $0.orderId + 1 }.max() ?? 1)
        nextValidIds[clientId] = next
        return next
    }

    private func requestIds(_ session: GatewaySession, _ request: ReqIds) {
        guard let clientId = session.clientId else { return }
        session.send(.nextValidId(NextValidId(orderId: nextValidId(for: clientId))))
    }

    /// The count of messages in the client's current one-second window when it is over 50.
    private func exceedsMessageRate(_ session: GatewaySession) -> Int? {
        let t = Date().timeIntervalSince1970
        if t - session.rateWindowStart >= 1 {
            session.rateWindowStart = t
            session.rateCount = 0
            session.rateErrorSent = false
        }
        session.rateCount += 1
        return session.rateCount > 50 ? session.rateCount : nil
    }

    func flushAll() {
        for session in sessions.values { session.flush() }
    }

    /// True when no client's socket is backed up (the fast market waits for slow readers).
    var allClientsWritable: Bool { clients.allSatisfy { $0.channel.isWritable } }

    /// The sessions of live clients.
    var clients: [GatewaySession] { startedSessions.filter(\.isOpen) }

    // MARK: The market clock

    /// Moves quotes one step and does everything that follows from it: fills, ticks, bars.
    public func step() {
        loop.preconditionInEventLoop()
        // Full rate (0) still moves the market by a millisecond per step.
        let seconds = (config.market.tickIntervalMs > 0 ? config.market.tickIntervalMs : 1) / 1000
        if config.market.clock == "manual" { manualTime += seconds * (config.replay?.speed ?? 1) }
        settle(market.step(seconds: seconds, now: now))
    }

    /// The realtime clock: every instrument moves once per interval, each at its own moment
    /// (instrument k at k/n of the interval), so ticks reach clients spread out as a real
    /// feed's do rather than all symbols in lockstep. Called by a timer about every 1/n of the
    /// interval; moves whatever is due by `time`, so a late timer does not slow the market
    /// (but it never catches up more than one interval at once).
    func advanceRealtimeClock(to time: NIODeadline) {
        loop.preconditionInEventLoop()
        let count = market.instruments.count
        let start = clockStart ?? time
        clockStart = start
        let due = Int((time - start).nanoseconds / realtimeClockSlice.nanoseconds)
        for _ in 0..<min(due - instrumentsMoved, count) {
            let index = nextInstrument
            nextInstrument = (index + 1) % count
            let trade = market.stepInstrument(at: index, seconds: config.market.tickIntervalMs / 1000, now: now)
            settle(trade.map { [$0] } ?? [], moved: market.instruments[index].symbol)
        }
        instrumentsMoved = due
    }

    /// How often one instrument moves on the realtime clock: the interval over the instruments.
    var realtimeClockSlice: TimeAmount {
        .nanoseconds(max(Int64(config.market.tickIntervalMs * 1_000_000) / Int64(market.instruments.count), 1))
    }

    /// Everything that follows from quotes moving: fills, ticks, bars, PnL. With `moved`, only
    /// that instrument's quote moved: only its orders meet it (a quote that did not move shows
    /// no new size, so an order larger than it fills once per move of its own instrument, not
    /// once per move of any instrument).
    private func settle(_ trades: [Trade], moved: String? = nil) {
        matchOrders(onlySymbol: moved)
        publishQuotes()
        publishLiveHistory()
        aggregateRealTimeBars(trades)
        publishPnL()
        flushAll()
    }

    /// Sets a symbol's price (control port `price`), then lets orders react.
    func setPrice(symbol: String, price: Double) {
        market.setPrice(symbol: symbol, price: price)
        matchOrders()
        publishQuotes()
        flushAll()
    }
}
