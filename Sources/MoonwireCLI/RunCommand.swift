import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Moonwire
import MoonwireServe
import TWSClient

/// `moonwire run STRATEGY.lua`: run a strategy against the paper gateway (default) or TWS.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua strategy against the built-in paper gateway (default) or TWS / IB Gateway.")

    @OptionGroup var options: RunOptions

    func run() async throws { try await options.execute(serving: options.listen != nil) }
}

/// What `run` and `serve` take, and the run itself (`serve` is a run with the HTTP face).
struct RunOptions: ParsableArguments {

    @Argument(help: "The strategy files (.lua): several run side by side on one connection, each on its own thread (default: the config's strategies: list).")
    var strategies: [String] = []
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "paper (a built-in paper gateway on a free loopback port) or HOST:PORT / [IPV6]:PORT of TWS / IB Gateway (default: IB_HOST / IB_PORT or the config's connection: when set, else paper).")
    var gateway: String?
    @Option(name: .customLong("param"), help: "A strategy parameter, key=value (repeatable).") var params: [String] = []
    @Option(parsing: .unconditional, help: "Stop after this many seconds.") var duration: Double?
    @Option(name: .customLong("client-id"), parsing: .unconditional, help: "API client id (default: IB_CLIENT_ID, connection.client_id or trading.client_id, else 1).") var clientId: Int?
    @Option(help: "The SQLite journal (default: trading.journal).") var journal: String?
    @Flag(help: "Allow a live account; also needs trading.allow_live: true in the config.") var live = false
    @Flag(inversion: .prefixedNo, help: "Reload the strategy when its file is saved (default: on with paper, off live).") var watch: Bool?
    @Flag(help: "Also log the connection's and the paper gateway's info lines.") var verbose = false
    @Flag(help: "Only warnings, errors and the summary: no progress lines, no status line, no info lines of the strategies.") var quiet = false
    @Option(name: .customLong("status-every"), parsing: .unconditional, help: "Seconds between status lines when standard error is not a terminal (0: none; default 30). On a terminal the status line is redrawn every second.")
    var statusEvery: Double = 30
    @Option(name: .customLong("reset-store"), help: "Start this strategy with an empty store, dropping the journaled one (repeatable).")
    var resetStore: [String] = []
    @OptionGroup var replay: ReplayOptions
    @Option(name: .customLong("log-format"), help: "text (default) or json: the log file's lines and, when given, the console's.")
    var logFormat: String?
    @Option(help: "Also serve the dashboard, the HTTP API and /metrics on HOST:PORT (as `moonwire serve`; see docs/http-api.md).")
    var listen: String?
    @Option(help: "The bar store /api/bars and history.ingest use (with --listen; default: history.store of the config, else bars.sqlite in the data folder).")
    var store: String?

    /// The run, and with `serving` the HTTP face beside it (`moonwire serve`, or `--listen`).
    func execute(serving: Bool) async throws {
        // First of all: a HUP from here on reloads (once there is something to reload), never
        // ends the process, however early it comes.
        let hangups = HangupCatcher()
        if verbose && quiet { throw ValidationError("--verbose and --quiet contradict each other: give one") }
        if let duration { try OptionRange.check(duration, "--duration", 0...OptionRange.maxSeconds, exclusive: true) }
        try OptionRange.check(statusEvery, "--status-every", 0...86_400)
        // 0 is none; a positive one at least 0.1 s (1e-300 wrote 12,000 status lines a second).
        if statusEvery > 0 { try OptionRange.check(statusEvery, "--status-every", 0.1...86_400) }
        if let clientId { try OptionRange.check(clientId, "--client-id", OptionRange.clientIds) }
        var (configuration, found) = try loadConfiguration(config: config, gateway: gateway, clientId: clientId)
        configuration.host.strategy.testAPI = ProcessInfo.processInfo.environment["MOONWIRE_TEST_API"] == "1"
        configuration.host.strategy.resetStore = Set(resetStore)
        configuration.journalPath = journal
        configuration.allowLive = live
        configuration.watchFiles = watch
        configuration.verbose = verbose
        var parameters: [String: String] = [:]
        for item in params {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--param '\(item)' is not key=value") }
            parameters[String(parts[0])] = String(parts[1])
        }
        // The files on the command line, or else the config's strategies: list (each with its
        // own name, parameters and risk limits; --param applies to every one).
        let entries = strategies.isEmpty ? configuration.host.strategies : strategies.map { HostConfig.StrategyEntry(file: $0) }
        guard !entries.isEmpty || serving else { throw ValidationError("no strategy: name a .lua file, or list them under strategies: in the config") }
        var listening: (host: String, port: Int)?
        var token: (token: String, generated: Bool)?
        if serving {
            do {
                listening = try ServeSettings.parseListen(listen ?? "127.0.0.1:8080")
                token = try ServeSettings.token(environment: ProcessInfo.processInfo.environment)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        for entry in entries where !FileManager.default.fileExists(atPath: entry.file) {
            throw RuntimeError("\(entry.file): no such strategy file")
        }
        if let market = try await replay.load(config: configuration.host, universe: configuration.paper.instruments) {
            guard configuration.connection.usesPaperGateway else {
                throw ValidationError("--replay plays stored bars through the built-in paper gateway: not with --gateway HOST:PORT (TWS has its own market)")
            }
            configuration.paper.replay = market
            if !quiet { say(replay.describe(market)) }
        }
        if let logFormat {
            guard logFormat == "text" || logFormat == "json" else { throw ValidationError("--log-format '\(logFormat)' is not text or json") }
            configuration.host.logging.format = logFormat
        }
        let logTail = serving ? LogTail() : nil
        Self.startLogging(configuration.host.logging, consoleJSON: logFormat == "json", quiet: quiet, tail: logTail)
        let quiet = self.quiet
        @Sendable func progress(_ line: String) { if !quiet { say(line) } }
        progress(describe(config: found))
        // What `moonwire check` would say, before anything connects: a handler named on_qoute
        // is never called, and nothing else would tell.
        for entry in Set(entries.map(\.file)).sorted() {
            let result = try await StrategyCheck.check(path: entry)
            // A file that does not load (a syntax error, a failing top level) stops the run
            // here, before anything connects.
            if let error = result.errors.first { throw RuntimeError("\(entry): \(error)") }
            for warning in result.warnings { Console.shared.log("warning: \(entry): \(warning)") }
        }
        if serving, let listening, let token {
            var settings = ServeSettings(host: listening.host, port: listening.port, token: token.token, tokenGenerated: token.generated)
            settings.ingest = configuration.host.historyIngest
            settings.strategyFolders = entries.map {
                URL(fileURLWithPath: $0.file).standardizedFileURL.deletingLastPathComponent().resolvingSymlinksInPath().path
            }
            try await withBarStore(store, config: configuration.host) { opened in
                settings.barStore = opened.store
                settings.storeName = opened.name
                try await launch(configuration: configuration, entries: entries, parameters: parameters, serving: settings, logTail: logTail,
                                 hangups: hangups)
            }
        } else {
            try await launch(configuration: configuration, entries: entries, parameters: parameters, serving: nil, logTail: nil, hangups: hangups)
        }
    }

    /// Starts the runtime (and the HTTP face), the strategies, and waits for what ends the run.
    private func launch(configuration: MoonwireConfiguration, entries: [HostConfig.StrategyEntry], parameters: [String: String],
                        serving: ServeSettings?, logTail: LogTail?, hangups: HangupCatcher) async throws
    {
        let quiet = self.quiet
        @Sendable func progress(_ line: String) { if !quiet { say(line) } }

        // What ends the run: a signal, the duration, or `moonwire halt` through the control channel.
        let stop = StopLatch()
        // Signals are caught from here on: one that comes while the strategies start (a test, or
        // a user, sending Ctrl-C as soon as a strategy prints) stops the run with its summary,
        // where before it met the default action (killed, no summary) or was lost. While
        // connecting nothing runs yet: a signal then ends the process at once, saying so.
        let signals = SignalCatcher([SIGINT, SIGTERM, SIGUSR1])
        let running = NIOLockedValueBox(false)
        Task {
            let signal = await signals.wait()
            if signal != SIGUSR1 && !running.withLockedValue({ $0 }) {
                Console.shared.log("interrupted while connecting: nothing ran, nothing was sent")
                Foundation.exit(ExitStatus.signal(signal))
            }
            stop.fire(signal == SIGUSR1 ? .halt(everything: false, done: false) : .signal(signal))
        }

        let runtime: MoonwireRuntime
        do {
            runtime = try await MoonwireRuntime.start(configuration) { line in progress(line) }
        } catch let error as MoonwireError {
            throw RuntimeError(error)
        }
        running.withLockedValue { $0 = true }
        // The HTTP face and the runtime as services of one group: at the end the face stops
        // first (no request meets a stopping runtime), then the runtime.
        var served: ServedRun?
        if let serving, let logTail {
            do {
                served = try await ServedRun.start(runtime: runtime, settings: serving, logTail: logTail)
            } catch {
                _ = await runtime.stop()
                throw RuntimeError("cannot serve on \(serving.host):\(serving.port): \(error)")
            }
            say(served!.announcement)
        }
        let events = runtime.events()
        Task {
            for await event in events {
                switch event {
                case let .notice(line): say(line)
                // A halt from the HTTP API leaves a served run up (trading closed) for the
                // operator to look at; `moonwire halt` stops any run, as it says.
                case let .halted(_, _, by) where served == nil || !by.hasPrefix("the HTTP API"): stop.fire(.halt(everything: false, done: true))
                case let .trading(.error(id, code, message)) where id != nil && Self.isOrderProblem(code):
                    // An order TWS refused: one readable line (on_error has it too).
                    // (An id that is no order is a request's: its caller reports it.)
                    // 10148: a cancel that found the order already done (its status says how): no problem.
                    guard code != 10148, let order = await runtime.snapshot().orders.first(where: { $0.orderId == id }) else { continue }
                    let terms = "\(order.order.action) \(StateTables.quantity(order.quantity)) \(order.instrumentKey) \(order.order.orderType)"
                    // Only a placement is rejected; a refused modify or cancel leaves the order working.
                    Console.shared.log(order.status == .rejected
                        ? "warning: order \(order.orderId) of \(order.strategy) (\(terms)) rejected by TWS: \(code) \(message)"
                        : "warning: TWS refused a request on order \(order.orderId) of \(order.strategy) (\(terms)): \(code) \(message); "
                            + "the order stays \(order.status.rawValue)")
                default: break
                }
            }
        }
        for entry in entries {
            ParamNotes.note(for: Array(parameters.keys), strategyAt: entry.file)
            do {
                let name = try await runtime.addStrategy(file: entry.file, name: entry.name, params: entry.params.merging(parameters) { $1 },
                                                         risk: entry.risk)
                progress("running \(name) (\(entry.file)) on \(runtime.host):\(runtime.port), account \(runtime.account), journal \(runtime.journalPath)"
                    + (runtime.watchesFiles ? "; saving the file reloads it" : ""))
            } catch let error as MoonwireError {
                if let served { _ = await served.stop() } else { _ = await runtime.stop() }
                throw RuntimeError(error)
            }
        }
        hangups.running(runtime)
        // The duration counts from when the strategies run, not from the start of connecting.
        if let duration {
            Task {
                try? await Task.sleep(for: .seconds(duration))
                stop.fire(.duration)
            }
        }
        let statusLine = quiet ? nil : Self.showStatus(of: runtime, every: Console.shared.statusInPlace ? 1 : statusEvery)
        let cause = await stop.wait()
        statusLine?.cancel()
        Console.shared.clearStatus()
        hangups.stopping()
        if case let .halt(everything, done) = cause, !done {
            // The kill switch: no order leaves any more, then every open order the
            // strategies placed is cancelled and the cancellations awaited; the strategies
            // stop after that (a hung one cannot delay it).
            say("halt: cancelling every open order and stopping")
            say(await runtime.halt(everything: everything).text)
        }
        if case let .signal(number) = cause { progress(number == SIGINT ? "interrupted: stopping" : "terminated: stopping") }
        // Bounded, whatever the strategies are doing.
        let summary = if let served { await served.stop() } else { await runtime.stop() }
        say(summary.text)
        if case let .signal(number) = cause { throw ExitCode(ExitStatus.signal(number)) }
        // Journal writes lost at the end are a failure a script must see (the summary said which).
        if summary.unjournaled > 0 { throw ExitCode(1) }
    }

    /// TWS's answer about one order that went wrong (a rejection, an unknown instrument).
    static func isOrderProblem(_ code: Int) -> Bool {
        let category = IBErrorCategory.of(code: code, message: "")
        return category == .orderRejection || code == 200
    }

    /// The status line: redrawn every second on a terminal, a plain line every `seconds`
    /// otherwise (none with 0).
    static func showStatus(of runtime: MoonwireRuntime, every seconds: Double) -> Task<Void, Never>? {
        guard seconds > 0 else { return nil }
        return Task {
            var lastQuotes = 0
            var lastTime = Date()
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled else { return }
                let status = await runtime.liveStatus()
                let now = Date()
                let rate = Double(status.quotes - lastQuotes) / max(now.timeIntervalSince(lastTime), 0.001)
                (lastQuotes, lastTime) = (status.quotes, now)
                guard !Task.isCancelled else { return }
                Console.shared.status(status.line(quotesPerSecond: rate))
            }
        }
    }

    /// Log lines go to the console (short) and to the day's log file (`logging:`), rotated by
    /// size and kept for `keep_days`. Once per process.
    static func startLogging(_ settings: LogSettings, consoleJSON: Bool, quiet: Bool = false, tail: LogTail? = nil) {
        let file: LogFile?
        do {
            file = try LogFile(settings: settings)
        } catch {
            file = nil
            DescriptorOutput.write("warning: no log file in \(settings.folder): \(error)\n", to: STDERR_FILENO)
        }
        Console.shared.mirror(to: file, json: consoleJSON)
        LoggingSystem.bootstrap { label in
            let console: any LogHandler = consoleJSON ? FileLogHandler.standardErrorJSON(label: label)
                : ConsoleLogHandler(label: label, floor: quiet ? .warning : .trace, logFile: file)
            var handlers: [any LogHandler] = [console]
            if let file { handlers.append(FileLogHandler(label: label, file: file)) }
            if let tail { handlers.append(tail.handler(label: label)) }
            return handlers.count == 1 ? console : MultiplexLogHandler(handlers)
        }
    }
}

typealias LuaErrorDescription = LuaRuntimeError

/// Why a run ends; the first cause wins.
enum StopCause: Sendable {
    case signal(Int32)
    case duration
    /// The kill switch; `done` when the control channel already cancelled the orders.
    case halt(everything: Bool, done: Bool)
}

final class StopLatch: Sendable {
    private let state = NIOLockedValueBox<(cause: StopCause?, waiter: CheckedContinuation<StopCause, Never>?)>((nil, nil))

    func fire(_ cause: StopCause) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<StopCause, Never>? in
            guard state.cause == nil else { return nil }
            state.cause = cause
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: cause)
    }

    func wait() async -> StopCause {
        await withCheckedContinuation { continuation in
            let fired = state.withLockedValue { state -> StopCause? in
                if state.cause == nil { state.waiter = continuation }
                return state.cause
            }
            if let fired { continuation.resume(returning: fired) }
        }
    }
}
