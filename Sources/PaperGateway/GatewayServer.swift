import Foundation
import Logging
import NIOCore
import NIOPosix
import TWSProtocol
import TWSWire

/// The paper gateway on a socket: accepts TWS API clients, and optionally a control port.
///
/// Everything runs on one event loop, which also owns the engine; `withEngine` is the one
/// way in from elsewhere.
public final class PaperGatewayServer: Sendable {
    public let host: String
    public let port: Int
    public let controlPort: Int?
    /// The paper account's identity (8 hex digits, the prefix of its execution ids): new for
    /// each gateway without a state file. A journal keeps what it knows of each apart.
    public let identity: String
    private let group: MultiThreadedEventLoopGroup
    private let channels: [Channel]
    private let engine: NIOLoopBound<GatewayEngine>
    private let ticker: NIOLoopBoundBox<RepeatedTask?>

    private init(host: String, port: Int, controlPort: Int?, group: MultiThreadedEventLoopGroup, channels: [Channel],
                 engine: NIOLoopBound<GatewayEngine>, ticker: NIOLoopBoundBox<RepeatedTask?>, identity: String)
    {
        self.host = host
        self.port = port
        self.identity = identity
        self.controlPort = controlPort
        self.group = group
        self.channels = channels
        self.engine = engine
        self.ticker = ticker
    }

    /// Starts a gateway. `controlPort`: nil for none, 0 for an ephemeral one.
    public static func start(config: PaperGatewayConfig, controlPort: Int? = nil, logger: Logger = Logger(label: "paper-gateway")) async throws -> PaperGatewayServer {
        try config.validate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let engine = try await loop.submit {
            let store = try config.stateFile.map { try GatewayStateStore(path: $0) }
            return NIOLoopBound(try GatewayEngine(config: config, loop: loop, logger: logger, store: store), eventLoop: loop)
        }.get()
        do {
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                // A client that stops reading shows as unwritable past 1 MiB queued (see GatewaySession).
                .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(GatewayInboundDecoder()),
                            GatewayConnectionHandler(engine: engine.value),
                        ])
                    }
                }
                .bind(host: config.host, port: config.port).get()
            var channels = [server]
            var boundControl: Int?
            if let controlPort {
                let control = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers([
                                ByteToMessageHandler(LineDecoder()),
                                ControlHandler(engine: engine.value),
                            ])
                        }
                    }
                    .bind(host: config.host, port: controlPort).get()
                channels.append(control)
                boundControl = control.localAddress?.port
            }
            let ticker = try await loop.submit { () -> NIOLoopBoundBox<RepeatedTask?> in
                let box = NIOLoopBoundBox<RepeatedTask?>(nil, eventLoop: loop)
                for command in config.faults {
                    let reply = engine.value.control(command)
                    guard reply.hasPrefix("ok") else {
                        throw ConfigError(message: "paper_gateway.faults: '\(command)': \(reply)")
                    }
                }
                if config.market.clock == "realtime" && config.market.tickIntervalMs > 0 {
                    // Each instrument moves once per interval, at its own moment (staggered).
                    // At least 1 ms between two runs (several instruments move in one when the
                    // slice is shorter): the delay counts from the end of a run, and a run longer
                    // than a shorter one keeps the loop in its tasks, so it reads no request for
                    // seconds (a client's reqCurrentTime went unanswered for 10 s at 2 ms ticks).
                    let slice = max(engine.value.realtimeClockSlice, .milliseconds(1))
                    box.value = loop.scheduleRepeatedTask(initialDelay: slice, delay: slice) { _ in
                        engine.value.advanceRealtimeClock(to: .now())
                    }
                } else if config.market.clock == "realtime" {
                    // As fast as the sockets take: step again as soon as every client can
                    // take more, back off a millisecond when one cannot.
                    box.value = loop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) { _ in
                        let engine = engine.value
                        var rounds = 0
                        while rounds < 1000 && engine.allClientsWritable {
                            engine.step()
                            rounds += 1
                        }
                    }
                }
                return box
            }.get()
            let port = server.localAddress?.port ?? config.port
            let identity = try await loop.submit { String(format: "%08x", engine.value.instanceId) }.get()
            logger.info("paper gateway listening on \(config.host):\(port)")
            return PaperGatewayServer(host: config.host, port: port, controlPort: boundControl, group: group, channels: channels,
                                      engine: engine, ticker: ticker, identity: identity)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Runs `body` on the engine's event loop (tests, the control port, the CLI).
    public func withEngine<T: Sendable>(_ body: @escaping @Sendable (GatewayEngine) throws -> T) async throws -> T {
        let engine = self.engine
        return try await group.next().submit { try body(engine.value) }.get()
    }

    public func shutdown() async throws {
        let ticker = self.ticker
        try await group.next().submit { ticker.value?.cancel() }.get()
        for channel in channels { try? await channel.close() }
        try await withEngine { engine in engine.dropAll() }
        try await group.shutdownGracefully()
    }

    /// Waits until the listening socket closes.
    public func waitUntilClosed() async throws {
        try await channels[0].closeFuture.get()
    }
}

extension GatewayEngine: @unchecked Sendable {}

/// `API\0`, then length-prefixed frames. Anything else at the start is not a TWS client.
struct GatewayInboundDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    private var sawPrefix = false
    private var frames = TWSFrameDecoder()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !sawPrefix {
            guard let prefix = buffer.getBytes(at: buffer.readerIndex, length: 4) else { return .needMoreData }
            guard prefix == Handshake.prefix else {
                throw TWSProtocolError.badHandshake("the connection did not start with API\\0 (got \(prefix)): not a TWS API client")
            }
            buffer.moveReaderIndex(forwardBy: 4)
            sawPrefix = true
        }
        return try frames.decode(context: context, buffer: &buffer)
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}

/// One TWS API connection: the hello, then requests handed to the engine.
final class GatewayConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let engine: GatewayEngine
    private var session: GatewaySession?

    init(engine: GatewayEngine) { self.engine = engine }

    func channelActive(context: ChannelHandlerContext) {
        session = engine.openSession(channel: context.channel)
        if session == nil { context.close(promise: nil) }
        // A connection that has not started an API session in time is closed: sockets that
        // connect and send nothing cannot hold the gateway's slots.
        let channel = context.channel
        let engine = self.engine
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: GatewayEngine.handshakeTimeout) {
            guard let session = handler.value.session, session.clientId == nil else { return }
            engine.logger.info("closing a connection that did not start an API session within \(GatewayEngine.handshakeTimeout)")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session { engine.closeSession(session) }
        session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }
        let payload = unwrapInboundIn(data)
        if session.serverVersion == 0 {
            let hello: Handshake.ClientHello
            do {
                hello = try Handshake.ClientHello.decode(payload: Array(payload.readableBytesView))
            } catch {
                engine.logger.warning("closing a connection: \(error)")
                context.close(promise: nil)
                return
            }
            guard let reply = engine.negotiate(session, hello: hello) else {
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply.encode())), promise: nil)
            return
        }
        let request: ClientRequest
        do {
            request = try ClientRequest.decode(payload: payload, serverVersion: session.serverVersion)
        } catch {
            // TWS answers a request it cannot read with an error and keeps the connection.
            engine.logger.warning("client \(session.clientId.map(String.init) ?? "?"): bad request: \(error)")
            session.sendError(-1, 320, "Error reading request. \(error)")
            session.flush()
            return
        }
        if case let .placeOrder(order) = request { engine.placeOrderReceived?(order) }
        if !engine.handle(session, request) {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        engine.logger.warning("closing a connection: \(error)")
        context.close(promise: nil)
    }
}
