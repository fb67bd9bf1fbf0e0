import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Metrics
import Moonwire
import NIOCore
import ServiceLifecycle

/// `moonwire serve`'s HTTP server: the API, the event stream, the page and the metrics, for
/// one running `MoonwireRuntime`. A swift-service-lifecycle `Service`: it serves until the
/// group shuts down gracefully (then Hummingbird stops taking requests and closes its
/// connections) and the runtime is stopped by the service after it (`RuntimeService`).
public final class HTTPFace: Service, Sendable {
    let model: ServeModel
    let application: Application<RouterResponder<ServeContext>>
    /// Where it listens once it does (port 0 is replaced by the one bound).
    private let bound = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))

    public init(runtime: MoonwireRuntime, settings: ServeSettings, logTail: LogTail, logger: Logger) {
        let metrics = ServeMetrics()
        let model = ServeModel(runtime: runtime, settings: settings, logTail: logTail, metrics: metrics)
        self.model = model
        let limit = ConnectionLimit()
        let router = Router(context: ServeContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: AccessGuard(token: settings.token, readsNeedToken: !settings.isLoopback,
                                           allowedHosts: settings.isLoopback ? ["127.0.0.1", "localhost", "::1", settings.host.lowercased()] : nil,
                                           limiter: RequestRateLimiter(perSecond: settings.requestsPerSecond, burst: settings.requestBurst),
                                           counted: { status in Metrics.Counter(label: "moonwire_http_requests_total", dimensions: [("status", String(status))]).increment() }))
        router.get("/") { _, _ in
            var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
            headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; "
                + "img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            headers[.xContentTypeOptions] = "nosniff"
            headers[.cacheControl] = "no-store"
            headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        // Browsers ask for it; there is none (and a 404 shows as an error in their console).
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("/metrics") { _, _ in
            let text = await metrics.scrape(model)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        ReadRoutes.add(to: router, model: model)
        WriteRoutes.add(to: router, model: model)
        EventStreamRoute.add(to: router, model: model)
        let bound = self.bound.continuation
        application = Application(
            router: router,
            server: Self.server(router: router, limit: limit),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "moonwire"),
            onServerRunning: { channel in
                bound.yield(channel.localAddress?.port ?? settings.port)
                bound.finish()
            },
            logger: logger)
    }

    /// HTTP/1 with the WebSocket upgrade, every connection counted from its accept (at most
    /// `ConnectionLimit.maximum` at once) and closed after 30 s with nothing read or written
    /// (`LimitedChildChannel`): connections cannot use
    /// up the process's files (the journal and the TWS socket need theirs).
    static func server(router: Router<ServeContext>, limit: ConnectionLimit) -> HTTPServerBuilder {
        let webSocketResponder = router.buildResponder()
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: .seconds(15)),
            ws: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(10))))
        return HTTPServerBuilder { responder in
            LimitedChildChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                    configuration: configuration),
                                limit: limit)
        }
    }

    /// The port it listens on, once it does (nil when it never did).
    public func listeningPort() async -> Int? {
        for await port in bound.stream { return port }
        return nil
    }

    public func run() async throws {
        // Whatever ends it (a port in use included): whoever waits for the port hears nil.
        defer { bound.continuation.finish() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.model.follow() }
            if let plan = self.model.settings.ingest {
                group.addTask { await IngestSchedule.run(plan, model: self.model) }
            }
            // The application's own run ends at graceful shutdown (the event stream's clients
            // are let go first: an open WebSocket would hold the server); then the rest is cancelled.
            // `run`, not `runService`: that one makes a group of its own that takes SIGINT and
            // SIGTERM away from the run's handler (which says why the run stops, and how).
            try await withGracefulShutdownHandler {
                try await self.application.run()
            } onGracefulShutdown: {
                self.model.fanOut.closeAll()
            }
            group.cancelAll()
        }
    }
}

/// The runtime as a service: runs until the group shuts down gracefully, then stops the
/// runtime (strategies' on_stop, the journal drained, the connection closed: bounded) and
/// keeps its summary. Listed before the HTTP face, so it stops after it.
public final class RuntimeService: Service, Sendable {
    public let runtime: MoonwireRuntime
    private let summary = AsyncStream<MoonwireRunSummary>.makeStream(bufferingPolicy: .bufferingNewest(1))

    public init(runtime: MoonwireRuntime) { self.runtime = runtime }

    public func run() async throws {
        try? await gracefulShutdown()
        let result = await runtime.stop()
        summary.continuation.yield(result)
        summary.continuation.finish()
    }

    /// The run's summary once stopped.
    public func stoppedSummary() async -> MoonwireRunSummary? {
        for await result in summary.stream { return result }
        return nil
    }
}
