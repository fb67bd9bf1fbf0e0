import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSProtocol
import TWSWire

/// Events for whoever keeps the trading state (TradingState) and for the strategy host.
public enum TWSClientEvent: Sendable {
    /// Connected and synchronized. `restored` is true after a reconnect.
    case ready(serverVersion: Int, accounts: [String], nextValidId: Int, restored: Bool)
    /// The socket dropped; the client is reconnecting.
    case connectionLost
    /// 1100 (lost), 1101 (restored, data lost), 1102 (restored, data kept).
    case connectivity(code: Int, message: String)
    /// Every message about orders, executions, positions and the account, solicited or not.
    case message(ServerMessage)
    /// An error that no pending request owns (order errors, notices), with its category.
    case error(id: Int, code: Int, message: String, category: IBErrorCategory)
    /// A problem with the connection itself (handshake timeout, unsupported version).
    case failure(TWSError)
}

/// The one connection to TWS / IB Gateway.
///
/// Runs on its own event loop: every piece of state below is touched on `loop` only, so
/// the order of events is the order TWS sent them. Public methods may be called from
/// anywhere; they hop onto the loop.
public final class TWSClient: @unchecked Sendable {
    public let configuration: TWSClientConfiguration
    let loop: EventLoop
    /// The loop every event is delivered on; the trading state lives on it too.
    public var eventLoop: EventLoop { loop }
    private let ownsGroup: MultiThreadedEventLoopGroup?
    var logger: Logger
    let historyNotice: (@Sendable (String) -> Void)?
    var machine: ConnectionStateMachine
    var channel: Channel?
    /// Increases with every connection, so late callbacks of an old channel are ignored.
    var generation = 0
    /// Negotiated version (loop only).
    var serverVersion = 0
    var accounts: [String] = []
    var receivedNextValidId: Int?
    /// The next id for a request or an order: never below TWS's nextValidId nor below any
    /// id this client ever used (persisted through `idStore`), so an id rollback after a
    /// gateway restart cannot reuse one.
    /// Guarded by a lock so an id can be taken from any thread (a strategy returns an order
    /// id to Lua at once, before the order is sent).
    let ids = NIOLockedValueBox(1)
    /// `stop()` was called: requests fail at once. A loop that has shut down drops what it is
    /// given, so a request hopping onto it after `stop()` would leave its promise for ever
    /// unanswered (and its caller waiting). Checked and set under its lock, around the hop.
    let stopped = NIOLockedValueBox(false)
    var nextId: Int {
        get { ids.withLockedValue { $0 } }
        set { ids.withLockedValue { $0 = newValue } }
    }
    let idStore: IdStore?
    /// The highest id reserved in `idStore` (see `reserve`).
    let reservedIds = NIOLockedValueBox(0)
    /// Requests waiting for their answer, by request id (an order's requests under its id).
    var pending: [Int: [PendingRequest]] = [:]
    /// Requests answered by messages without a request id (positions, open orders...).
    var pendingByKind: [String: PendingRequest] = [:]
    var observers: [(TWSClientEvent) -> Void] = []
    /// Who waits for the connection; `failFast` ones give up at the first failure that says
    /// something is wrong (refused, client id in use, version) instead of waiting for retries.
    var readyWaiters: [(promise: EventLoopPromise<Void>, failFast: Bool)] = []
    var quoteSubscriptions: [Int: QuoteSubscription] = [:]
    /// The quotes of those streams, updated tick by tick.
    var quoteBook = QuoteBook()
    var barSubscriptions: [Int: BarSubscription] = [:]
    var barByReqId: [Int: Int] = [:]
    var nextSubscriptionId = 1
    /// When the current socket read began (monotonic ns, 0 between reads), stamped on the
    /// quotes it updates.
    var readStartedAt: UInt64 = 0
    var limiter: RateLimiter
    var outgoing: [ClientRequest] = []
    var outgoingTimer: Scheduled<Void>?
    var handshakeTimer: Scheduled<Void>?
    var reconnectTimer: Scheduled<Void>?
    var heartbeatTask: RepeatedTask?
    /// When the latest read from TWS ended (system uptime, seconds): once per read, not per message.
    let lastRead = NIOLockedValueBox<Double>(0)
    var heartbeatDeadline: Scheduled<Void>?
    var historyScheduler: HistoryScheduler
    /// The kill switch at the socket (TWSClient+OrderGate.swift): any thread.
    public let orderGate = OrderGate()

    /// - Parameters:
    ///   - eventLoop: the loop to run on; by default the client makes its own thread.
    ///   - idStore: where the highest id ever used is kept across restarts.
    ///   - historyNotice: told when a history request is sent again after a pacing answer, and
    ///     when small-bar pacing holds the next request 5 s or more (with when it goes): a
    ///     command that keeps the client's log quiet still says why a download waits.
    public init(configuration: TWSClientConfiguration, eventLoop: EventLoop? = nil, idStore: IdStore? = nil,
                logger: Logger = Logger(label: "tws-client"), historyNotice: (@Sendable (String) -> Void)? = nil)
    {
        self.configuration = configuration
        self.historyNotice = historyNotice
        if let eventLoop {
            loop = eventLoop
            ownsGroup = nil
        } else {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownsGroup = group
            loop = group.next()
        }
        self.logger = logger
        self.idStore = idStore
        machine = ConnectionStateMachine(policy: configuration.reconnect, seed: UInt64(truncatingIfNeeded: configuration.clientId) &+ 0x5EED)
        limiter = RateLimiter(perSecond: configuration.messagesPerSecond)
        historyScheduler = HistoryScheduler(window: configuration.historicalPacingWindow)
    }

    /// Registers an observer, called on the client's loop for every event, in order.
    public func observe(_ observer: @escaping @Sendable (TWSClientEvent) -> Void) {
        loop.execute { self.observers.append(observer) }
    }

    /// Starts connecting (and reconnecting whenever the connection drops) until `stop()`.
    public func start() {
        stopped.withLockedValue { $0 = false }
        loop.execute { self.apply(self.machine.handle(.start)) }
    }

    /// Runs `body` on the loop, or fails `promise` with `notConnected` when the client was
    /// stopped (see `stopped`).
    func onLoop<T>(failing promise: EventLoopPromise<T>, _ body: @escaping @Sendable () -> Void) {
        let accepted = stopped.withLockedValue { stopped -> Bool in
            guard !stopped else { return false }
            loop.execute(body)
            return true
        }
        if !accepted { promise.fail(TWSError.notConnected) }
    }

    /// Waits until the client is connected and synchronized. With `failFast`, the first
    /// attempt that fails for a reason worth telling (nothing listens, the client id is in use,
    /// TWS refused the connection or its version) ends the wait at once with that error; the
    /// client keeps retrying in the background until `stop()`.
    public func waitUntilReady(timeout: Double, failFast: Bool = false) async throws {
        let promise = loop.makePromise(of: Void.self)
        onLoop(failing: promise) {
            if self.machine.isReady { promise.succeed(()) } else { self.readyWaiters.append((promise, failFast)) }
        }
        let timer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            promise.fail(TWSError.timeout(request: "connect to \(self.configuration.host):\(self.configuration.port)", seconds: timeout))
        }
        defer { timer.cancel() }
        try await promise.futureResult.get()
    }

    public func stop() async {
        // Once: a second stop (a `defer` and an explicit call, say) would hop onto the loop
        // the first one shut down.
        let already = stopped.withLockedValue { stopped -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        try? await loop.submit { self.apply(self.machine.handle(.stop)) }.get()
        try? await ownsGroup?.shutdownGracefully()
    }

    /// The API version the server speaks (0 before the handshake).
    public var currentServerVersion: Int {
        get async { (try? await loop.submit { self.serverVersion }.get()) ?? 0 }
    }

    public var isReady: Bool {
        get async { (try? await loop.submit { self.machine.isReady }.get()) ?? false }
    }

    // MARK: Events and actions

    func emit(_ event: TWSClientEvent) {
        for observer in observers { observer(event) }
    }

    func apply(_ actions: [ConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .connect: connect()
            case .sendHello: sendHello()
            case .startHandshakeTimer:
                handshakeTimer?.cancel()
                let generation = self.generation
                handshakeTimer = loop.scheduleTask(in: .milliseconds(Int64(configuration.handshakeTimeout * 1000))) {
                    guard generation == self.generation else { return }
                    self.emit(.failure(.handshakeTimeout(host: self.configuration.host, port: self.configuration.port,
                                                         seconds: self.configuration.handshakeTimeout)))
                    self.failReadyWaiters(.handshakeTimeout(host: self.configuration.host, port: self.configuration.port,
                                                            seconds: self.configuration.handshakeTimeout))
                    self.apply(self.machine.handle(.handshakeTimedOut))
                }
            case .sendStartAPI:
                sendNow(.startAPI(StartAPI(clientId: configuration.clientId)))
            case .closeConnection:
                let old = channel
                channel = nil
                generation += 1
                old?.close(promise: nil)
            case let .scheduleReconnect(delay):
                logger.info("reconnecting to \(configuration.host):\(configuration.port) in \(String(format: "%.1f", delay)) s")
                reconnectTimer?.cancel()
                reconnectTimer = loop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) {
                    self.apply(self.machine.handle(.reconnectTimerFired))
                }
            case let .becameReady(restored):
                becameReady(restored: restored)
            case .connectionLost:
                connectionLost()
            case .markStale:
                quoteBook.markAllStale()
                quoteBook.flush()
            case .resubscribeAll:
                resubscribeAll()
            case .sendHeartbeat:
                sendHeartbeat()
            case let .report(error):
                emit(.failure(error))
                failReadyWaiters(error)
            case .cancelTimers:
                handshakeTimer?.cancel()
                reconnectTimer?.cancel()
                heartbeatTask?.cancel()
                heartbeatTask = nil
                heartbeatDeadline?.cancel()
            }
        }
    }

    func failReadyWaiters(_ error: TWSError, onlyFailFast: Bool = false) {
        let failing = readyWaiters.filter { !onlyFailFast || $0.failFast }
        readyWaiters.removeAll { !onlyFailFast || $0.failFast }
        for waiter in failing { waiter.promise.fail(error) }
    }

    private func connect() {
        generation += 1
        let generation = self.generation
        serverVersion = 0
        receivedNextValidId = nil
        accounts = []
        let handler = ClientChannelHandler(client: self, generation: generation)
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { result in
                guard generation == self.generation else {
                    if case let .success(channel) = result { channel.close(promise: nil) }
                    return
                }
                switch result {
                case let .success(channel):
                    self.channel = channel
                    self.apply(self.machine.handle(.channelActive))
                case let .failure(error):
                    self.logger.info("cannot connect to \(self.configuration.host):\(self.configuration.port): \(error)")
                    self.failReadyWaiters(.cannotConnect(host: self.configuration.host, port: self.configuration.port,
                                                         reason: TWSError.describeConnectFailure(error)), onlyFailFast: true)
                    self.apply(self.machine.handle(.connectFailed))
                }
            }
    }

    private func sendHello() {
        guard let channel else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: Handshake.ClientHello().encode()), promise: nil)
    }

    /// A frame from the current connection.
    func received(_ payload: ByteBuffer, generation: Int) {
        guard generation == self.generation else { return }
        if readStartedAt == 0 { readStartedAt = DispatchTime.now().uptimeNanoseconds }
        if serverVersion == 0 {
            do {
                guard let hello = try Handshake.ServerHello.decode(payload: Array(payload.readableBytesView)) else { return }
                serverVersion = hello.serverVersion
                apply(machine.handle(.serverHello(version: hello.serverVersion)))
            } catch {
                logger.error("bad handshake from \(configuration.host):\(configuration.port): \(error)")
                apply(machine.handle(.connectionClosed))
            }
            return
        }
        let message: ServerMessage
        do {
            // Ticks first, straight into their quotes: they are most of the traffic.
            if let tick = try payload.withUnsafeReadableBytes({ try MarketTick.decode(payload: $0, serverVersion: serverVersion) }) {
                if !quoteBook.apply(tick, readAt: readStartedAt) { route(tick.message) }
                return
            }
            message = try ServerMessage.decode(payload: payload, serverVersion: serverVersion)
        } catch {
            // A message we cannot read is logged and skipped; the stream stays in step
            // because framing is by length.
            logger.error("skipping a message TWS sent that does not decode: \(error)")
            return
        }
        route(message)
    }

    func channelClosed(generation: Int) {
        guard generation == self.generation else { return }
        channel = nil
        self.generation += 1
        apply(machine.handle(.connectionClosed))
    }

    /// The end of one socket read: the quotes its ticks changed go out now, once each (not at
    /// NIO's read-complete, which comes only after a further read finds the socket empty).
    func readEnded(generation: Int) {
        guard generation == self.generation else { return }
        quoteBook.flush()
        readStartedAt = 0
        lastRead.withLockedValue { $0 = ProcessInfo.processInfo.systemUptime }
    }

    /// Seconds since TWS last sent anything (a heartbeat's answer at least every
    /// `heartbeatInterval`); nil before the first read. Any thread.
    public var secondsSinceLastMessage: Double? {
        let last = lastRead.withLockedValue { $0 }
        return last > 0 ? ProcessInfo.processInfo.systemUptime - last : nil
    }

    private func becameReady(restored: Bool) {
        let tws = receivedNextValidId ?? 1
        let stored = min(max(idStore?.highestUsedId() ?? 0, 0), TWSClient.largestOrderId - 1)
        let next = ids.withLockedValue { value -> Int in
            value = max(value, tws, stored + 1)
            return value
        }
        reserve(through: next)  // the first block, here rather than on an order's way
        logger.info("ready: server version \(serverVersion), accounts \(accounts), next id \(nextId)\(restored ? " (reconnected)" : "")")
        sendNow(.reqMarketDataType(ReqMarketDataType(marketDataType: max(configuration.marketDataType, 1))))
        if restored { resubscribeAll() }
        startHeartbeat()
        flushOutgoing()
        let waiters = readyWaiters
        readyWaiters = []
        for waiter in waiters { waiter.promise.succeed(()) }
        emit(.ready(serverVersion: serverVersion, accounts: accounts, nextValidId: nextId, restored: restored))
        historyScheduler.resume(client: self)
    }

    private func connectionLost() {
        // An order whose frame was never written never reached TWS: it fails as not sent
        // (`notConnected`), not as lost in flight (whose fate only the reconciliation tells).
        let byId = Array(pending.values.joined())
        let byKind = Array(pendingByKind.values)
        pending.removeAll()
        pendingByKind.removeAll()
        for request in byId {
            request.fail(!request.written && request.name == "placeOrder" ? .notConnected : .connectionLost(request: request.name))
        }
        for request in byKind { request.fail(.connectionLost(request: request.name)) }
        quoteBook.markAllStale()
        quoteBook.flush()
        quoteBook.forgetRequestIds()
        barByReqId.removeAll()
        outgoing.removeAll()
        emit(.connectionLost)
    }

    // MARK: Ids

    /// Ids are Java ints at TWS.
    static let largestOrderId = Int(Int32.max)

    /// Ids are reserved in the id store a block at a time: one write per `idBlock` ids, not one
    /// per order under the caller's lock (a strategy's order call, the runner's). A restart
    /// goes on after the block (ids skipped are harmless: TWS wants them increasing only).
    static let idBlock = 100

    /// The next id for a request or an order.
    func takeId() -> Int {
        let id = ids.withLockedValue { value -> Int in
            let id = value
            value += 1
            return id
        }
        reserve(through: id)
        return id
    }

    /// Makes sure the id store holds a mark at or past `id` before `id` is used: a new block
    /// when `id` is past the last one (a taker of an id in it waits here until it is written).
    func reserve(through id: Int) {
        guard let idStore else { return }
        reservedIds.withLockedValue { through in
            guard id > through else { return }
            through = min(id + Self.idBlock - 1, TWSClient.largestOrderId)
            idStore.recordUsedId(through)
        }
    }

    /// An id for an order yet to be sent, taken at once from any thread.
    public func reserveIdNow() -> Int { takeId() }

    // MARK: Sending

    /// Sends now, bypassing the limiter (handshake messages).
    func sendNow(_ request: ClientRequest) {
        guard let channel else { return }
        do {
            let frame = try request.frame(serverVersion: serverVersion)
            guard write(frame, of: request, to: channel) else { return }  // an order, after the kill switch
            limiter.record(now: Date().timeIntervalSince1970)
        } catch {
            logger.error("cannot encode \(request.name): \(error)")
        }
    }

    /// Sends in order, at most `messagesPerSecond`; queued while not connected are dropped
    /// by `connectionLost` (their requests fail and are retried by their owners).
    func send(_ request: ClientRequest) throws {
        guard machine.isReady, channel != nil else { throw TWSError.notConnected }
        if case .placeOrder = request, let reason = orderGate.closedReason { throw TWSError.orderGateClosed(reason) }
        _ = try request.payload(serverVersion: serverVersion)  // refuse what this version cannot carry, now
        // Orders and cancels go ahead of queued requests (a storm of resubscriptions or
        // history requests must not hold up an order), in their own order.
        switch request {
        case .placeOrder, .cancelOrder, .reqGlobalCancel:
            let firstOther = outgoing.firstIndex { if case .placeOrder = $0 { false } else if case .cancelOrder = $0 { false } else if case .reqGlobalCancel = $0 { false } else { true } }
            outgoing.insert(request, at: firstOther ?? outgoing.count)
        default:
            outgoing.append(request)
        }
        flushOutgoing()
    }

    func flushOutgoing() {
        while !outgoing.isEmpty {
            let now = Date().timeIntervalSince1970
            let wait = limiter.delay(now: now)
            guard wait <= 0 else {
                if outgoingTimer == nil {
                    outgoingTimer = loop.scheduleTask(in: .microseconds(Int64(wait * 1_000_000) + 100)) {
                        self.outgoingTimer = nil
                        self.flushOutgoing()
                    }
                }
                return
            }
            sendNow(outgoing.removeFirst())
        }
    }

    // MARK: Heartbeat

    private func startHeartbeat() {
        heartbeatTask?.cancel()
        let interval = TimeAmount.milliseconds(Int64(configuration.heartbeatInterval * 1000))
        heartbeatTask = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            self.apply(self.machine.handle(.heartbeatDue))
        }
    }

    private func sendHeartbeat() {
        guard heartbeatDeadline == nil else { return }
        let generation = self.generation
        heartbeatDeadline = loop.scheduleTask(in: .milliseconds(Int64(configuration.heartbeatTimeout * 1000))) {
            self.heartbeatDeadline = nil
            guard generation == self.generation else { return }
            self.logger.warning("no heartbeat answer in \(self.configuration.heartbeatTimeout) s: the connection is dead")
            self.apply(self.machine.handle(.heartbeatMissed))
        }
        // At the head of the send queue: behind a burst of orders (which go ahead of other
        // requests, at 50 messages a second) it would wait longer than its own timeout, and a
        // live connection would be declared dead by our own queue.
        guard machine.isReady, channel != nil else { return }
        outgoing.insert(.reqCurrentTime(ReqCurrentTime()), at: 0)
        flushOutgoing()
    }
}

/// Where the highest id ever used is kept (the journal), so ids are never reused.
public protocol IdStore: AnyObject, Sendable {
    func highestUsedId() -> Int
    func recordUsedId(_ id: Int)
}

/// Bridges the NIO pipeline to the client: cuts frames out of each read and hands them to
/// the client directly. The frames are cut by `NIOSingleStepByteToMessageProcessor` inside
/// this handler rather than by a `ByteToMessageHandler` in front of it, which would cost a
/// pipeline hop and an `NIOAny` per frame; market data is tens of thousands of frames a second.
final class ClientChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let client: TWSClient
    private let generation: Int
    private let frames = NIOSingleStepByteToMessageProcessor(TWSFrameDecoder())

    init(client: TWSClient, generation: Int) {
        self.client = client
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try frames.process(buffer: unwrapInboundIn(data)) { client.received($0, generation: generation) }
            client.readEnded(generation: generation)
        } catch {
            // A frame longer than TWS ever sends: the stream cannot be trusted past it.
            client.logger.error("closing the connection: \(error)")
            context.close(promise: nil)
        }
    }


    func channelInactive(context: ChannelHandlerContext) {
        if frames.unprocessedBytes > 0 {
            // The peer closed in the middle of a message; what it had sent whole was handled.
            client.logger.info("the connection closed inside a message (\(frames.unprocessedBytes) bytes of it dropped)")
        }
        client.channelClosed(generation: generation)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset is how a peer that went away ends a connection (TWS restarting, a test's
        // gateway stopping): the loss and the reconnect are said where they are handled.
        if let error = error as? IOError, error.errnoCode == ECONNRESET {
            client.logger.info("connection reset by TWS")
        } else {
            client.logger.warning("connection error: \(error)")
        }
        context.close(promise: nil)
    }
}
