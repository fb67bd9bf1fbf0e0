import ArgumentParser
import Foundation
import Logging
import Moonwire
import MoonwireServe
import ServiceLifecycle

/// `moonwire serve [STRATEGY.lua ...] --listen 127.0.0.1:8080`: what `moonwire run` runs, and
/// beside it the dashboard, the HTTP API, the event stream and /metrics (docs/http-api.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run strategies (or none: a data service) with a browser dashboard, an HTTP API and Prometheus metrics.",
        discussion: """
            Listens on 127.0.0.1:8080 unless --listen says otherwise. Writes (halt, cancel, flatten, add, pause, \
            reload) need the token printed at start (or MOONWIRE_HTTP_TOKEN), always; off loopback every request \
            needs it. A halt closes trading and leaves the server up; Ctrl-C or SIGTERM stops the server, then \
            the strategies and the connection. The API is described in docs/http-api.md.
            """)

    @OptionGroup var options: RunOptions

    func run() async throws { try await options.execute(serving: true) }
}

/// The runtime and its HTTP face in one swift-service-lifecycle group, started and stopped
/// by `moonwire run --listen` / `moonwire serve`.
struct ServedRun: Sendable {
    let runtimeService: RuntimeService
    let face: HTTPFace
    let group: ServiceGroup
    let running: Task<Void, any Error>
    let announcement: String

    static func start(runtime: MoonwireRuntime, settings: ServeSettings, logTail: LogTail) async throws -> ServedRun {
        var logger = Logger(label: "http")
        logger.logLevel = .warning
        raiseOpenFileLimit()
        let face = HTTPFace(runtime: runtime, settings: settings, logTail: logTail, logger: logger)
        let runtimeService = RuntimeService(runtime: runtime)
        // Shut down in reverse order: the face first, then the runtime. No signals here: the
        // run's own handler decides (and says) why it stops.
        let group = ServiceGroup(configuration: .init(services: [runtimeService, face], gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        guard let port = await face.listeningPort() else {
            running.cancel()
            do { try await running.value } catch { throw error }
            throw RuntimeError("the HTTP server did not start")
        }
        let shownHost = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        // A token of one's own (MOONWIRE_HTTP_TOKEN) is not printed: it would land in every
        // service log. One made for the run is, once: it is the only way to learn it.
        var line = "dashboard: http://\(shownHost):\(port)/"
        line += settings.tokenGenerated ? "#token=\(settings.token) (a token made for this run; set MOONWIRE_HTTP_TOKEN to choose one)"
            : " (the token is MOONWIRE_HTTP_TOKEN's: add #token=... to the address)"
        if settings.host == "0.0.0.0" || settings.host == "::" { line += "; from elsewhere, use this machine's name or address instead of \(shownHost)" }
        if !settings.isLoopback { line += "; listening beyond loopback: every request needs the token" }
        return ServedRun(runtimeService: runtimeService, face: face, group: group, running: running, announcement: line)
    }

    /// Stops the face, then the runtime (bounded as `MoonwireRuntime.stop`); the run's summary.
    /// A request that holds the face (a long download for /api/bars) gets 3 s, then the group
    /// is cancelled: the runtime still stops, as it would.
    func stop() async -> MoonwireRunSummary {
        await group.triggerGracefulShutdown()
        let running = self.running
        let deadline = Task {
            try await Task.sleep(for: .seconds(3))
            running.cancel()
        }
        defer { deadline.cancel() }
        if let summary = await runtimeService.stoppedSummary() { return summary }
        // The group ended without the runtime's service stopping it (a failure): stop it here.
        return await runtimeService.runtime.stop()
    }
}

/// The soft limit on open files up to the hard one: the HTTP face's connections (at most
/// `ConnectionLimit.maximum`) come on top of the journal, the log, the TWS socket and the
/// paper gateway's, and 1024 is a common soft default.
private func raiseOpenFileLimit() {
    var limits = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limits) == 0, limits.rlim_cur < limits.rlim_max else { return }
    limits.rlim_cur = max(limits.rlim_cur, min(limits.rlim_max, 65_536))
    _ = setrlimit(RLIMIT_NOFILE_VALUE, &limits)
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
