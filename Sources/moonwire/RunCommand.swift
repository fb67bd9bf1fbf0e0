import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaperGateway
import StrategyHost
import TWSClient
import TWSProtocol
import TradingState

/// `moonwire run STRATEGY.lua`: run a strategy against the paper gateway (default) or TWS.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua strategy against the built-in paper gateway (default) or TWS / IB Gateway.")

    @Argument(help: "The strategy files (.lua): several run side by side on one connection, each on its own thread (default: the config's strategies: list).")
    var strategies: [String] = []
    @Option(help: "YAML config (default: Config/moonwire.yaml when present).") var config: String?
    @Option(help: "paper (a built-in paper gateway on a free loopback port) or HOST:PORT / [IPV6]:PORT of TWS / IB Gateway (default: IB_HOST / IB_PORT or the config's connection: when set, else paper).")
    var gateway: String?
    @Option(name: .customLong("param"), help: "A strategy parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(name: .customLong("client-id"), help: "API client id (default: IB_CLIENT_ID, connection.client_id or trading.client_id, else 1).") var clientId: Int?
    @Option(help: "The SQLite journal (default: trading.journal).") var journal: String?
    @Flag(help: "Allow a live account; also needs trading.allow_live: true in the config.") var live = false
    @Flag(inversion: .prefixedNo, help: "Reload the strategy when its file is saved (default: on with paper, off live).") var watch: Bool?
    @Flag(help: "Log every event.") var verbose = false
    @Option(name: .customLong("reset-store"), help: "Start this strategy with an empty store, dropping the journaled one (repeatable).")
    var resetStore: [String] = []
    @Option(name: .customLong("log-format"), help: "text (default) or json: the log file's lines and, when given, the console's.")
    var logFormat: String?

    func run() async throws {
        let configPath = config ?? (FileManager.default.fileExists(atPath: "Config/moonwire.yaml") ? "Config/moonwire.yaml" : nil)
        var settings = HostConfig()
        var paperSettings = PaperGatewayConfig()
        if let configPath {
            do {
                settings = try HostConfig.load(path: configPath)
                paperSettings = try PaperGatewayConfig.load(path: configPath)
            } catch let error as HostConfigError {
                throw ValidationError(error.message)
            } catch let error as ConfigError {
                throw ValidationError(error.message)
            }
        }
        settings.strategy.testAPI = ProcessInfo.processInfo.environment["MOONWIRE_TEST_API"] == "1"
        settings.strategy.resetStore = Set(resetStore)
        var parameters: [String: String] = [:]
        for item in params {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--param '\(item)' is not key=value") }
            parameters[String(parts[0])] = String(parts[1])
        }
        // The files on the command line, or else the config's strategies: list (each with its
        // own name, parameters and risk limits; --param applies to every one).
        let entries: [HostConfig.StrategyEntry] = strategies.isEmpty ? settings.strategies : strategies.map { HostConfig.StrategyEntry(file: $0) }
        guard !entries.isEmpty else { throw ValidationError("no strategy: name a .lua file, or list them under strategies: in the config") }
        var names: [String: String] = [:]
        for entry in entries {
            guard FileManager.default.fileExists(atPath: entry.file) else { throw RuntimeError("\(entry.file): no such strategy file") }
            let name = entry.name ?? URL(fileURLWithPath: entry.file).deletingPathExtension().lastPathComponent
            if let other = names[name] {
                throw RuntimeError("\(other) and \(entry.file) would both run as \(name): give one a name: in the config's strategies: list")
            }
            names[name] = entry.file
        }

        let connection: ConnectionSettings
        do {
            connection = try ConnectionSettings.resolveForCommandLine(gateway: gateway, clientId: clientId, configPath: configPath)
        } catch {
            throw RuntimeError("\(error)")
        }
        if let logFormat {
            guard logFormat == "text" || logFormat == "json" else { throw ValidationError("--log-format '\(logFormat)' is not text or json") }
            settings.logging.format = logFormat
        }
        Self.startLogging(settings.logging, consoleJSON: logFormat == "json")
        var logger = Logger(label: "moonwire")
        logger.logLevel = verbose ? .info : .notice
        // The gateway: the built-in paper one, or TWS.
        var paper: PaperGatewayServer?
        var host = "127.0.0.1"
        var port: Int
        if connection.usesPaperGateway {
            paperSettings.port = 0
            paperSettings.host = "127.0.0.1"
            var gatewayLogger = Logger(label: "paper-gateway")
            gatewayLogger.logLevel = verbose ? .info : .warning
            paper = try await PaperGatewayServer.start(config: paperSettings, logger: gatewayLogger)
            port = paper!.port
            say("paper gateway on 127.0.0.1:\(port) (seed \(paperSettings.seed))")
        } else {
            (host, port) = (connection.host ?? "127.0.0.1", connection.port ?? 7497)
            if let refusal = LiveSafety.refusal(port: port, accounts: [], liveFlag: live, allowLive: settings.trading.allowLive) {
                throw RuntimeError(refusal)
            }
        }
        let journalPath = journal ?? settings.trading.journal
        try HostConfig.prepareFolder(of: journalPath)
        let journal: Journal
        do {
            journal = try Journal(path: journalPath)
        } catch {
            throw RuntimeError("\(error)")
        }
        var clientConfiguration = TWSClientConfiguration(host: host, port: port, clientId: connection.clientId)
        clientConfiguration.requestTimeout = connection.requestTimeout
        clientConfiguration.reconnect.backoffBase = connection.backoffBase
        clientConfiguration.reconnect.backoffCap = connection.backoffCap
        clientConfiguration.marketDataType = connection.marketDataType
        var clientLogger = Logger(label: "tws-client")
        clientLogger.logLevel = verbose ? .info : .warning
        let client = TWSClient(configuration: clientConfiguration, idStore: journal, logger: clientLogger)
        var stateOptions = TradingState.Options()
        stateOptions.failClosed = settings.trading.failClosed
        // The built-in gateway's paper account lives as long as that gateway: its records are
        // kept apart from every other account's, in the same journal.
        if let paper { stateOptions.scope = "paper:\(paper.identity)" }
        let state = try TradingState(client: client, journal: journal, options: stateOptions, logger: clientLogger)
        client.start()
        do {
            try await client.waitUntilReady(timeout: connection.connectTimeout)
        } catch {
            try? await paper?.shutdown()
            throw RuntimeError("could not connect to \(host):\(port): \(error)")
        }
        // Paper accounts start with D; anything else is live money.
        let accounts = try await client.accountSummary(tags: ["AccountType"]).map(\.account)
        if !connection.account.isEmpty && !accounts.contains(connection.account) {
            await client.stop()
            try? await paper?.shutdown()
            throw RuntimeError("account \(connection.account) (from \(connection.sources["account"] ?? "?")) is not one this login manages "
                               + "(\(accounts.joined(separator: ", ")))")
        }
        let account = connection.account.isEmpty ? (accounts.first ?? "") : connection.account
        if let refusal = LiveSafety.refusal(port: nil, accounts: accounts, liveFlag: live, allowLive: settings.trading.allowLive) {
            await client.stop()
            try? await paper?.shutdown()
            throw RuntimeError(refusal)
        }
        let report = await state.reconcile()
        // Decided from the report and a snapshot: nothing reads the state off its loop.
        let opening = await state.snapshot()
        if !opening.tradingAllowed {
            await client.stop()
            try? await paper?.shutdown()
            throw RuntimeError("trading is closed: \(report.unknown.joined(separator: "; "))"
                + report.unexplainedPositions.sorted { $0.key < $1.key }
                    .map { " position \($0.key): TWS \($0.value.reported), journal \($0.value.explained)" }.joined(separator: ";")
                + " (in \(opening.scope) of \(journalPath)). Look with `moonwire reconcile --gateway \(host):\(port) --journal \(journalPath)`"
                + " and accept TWS's positions with `--acknowledge`")
        }
        let runner = StrategyRunner(client: client, state: state, journal: journal, accountLimits: settings.accountRisk, logger: logger)
        runner.onSupervision = { say($0) }
        await runner.adoptJournaledOrders()
        runner.startWatchdog()
        var launched: [Strategy] = []
        for entry in entries {
            do {
                // What the strategy logs is the user's own output: always shown.
                var strategyLogger = Logger(label: "strategy")
                strategyLogger.logLevel = .info
                var own = settings
                if let risk = entry.risk { own.risk = risk }
                let entryParams = entry.params.merging(parameters) { $1 }
                launched.append(try await runner.launch(path: entry.file, name: entry.name, config: own, params: entryParams, logger: strategyLogger))
            } catch let error as LuaErrorDescription {
                _ = await runner.stopAll()
                await client.stop()
                try? await paper?.shutdown()
                throw RuntimeError("\(error)")
            }
        }
        // Hot reload: on save (watcher) and on SIGHUP / `moonwire reload`.
        for instance in launched {
            let file = URL(fileURLWithPath: instance.path).lastPathComponent
            try await instance.loop.submit {
                instance.onReload = { outcome in
                    if outcome.succeeded {
                        say("reloaded \(file) (hash \(outcome.hash), swap \(String(format: "%.2f", outcome.milliseconds)) ms)")
                    } else {
                        say("reload of \(file) failed, the old code keeps running: \(outcome.error ?? "?")")
                    }
                }
            }.get()
        }
        // Which strategy a saved file belongs to: its own file, or a module it required.
        let files = NIOLockedValueBox<[String: Set<String>]>(Dictionary(uniqueKeysWithValues: launched.map {
            ($0.name, [URL(fileURLWithPath: $0.path).standardizedFileURL.path])
        }))
        let watching = watch ?? connection.usesPaperGateway
        let watcher = watching ? try? FileWatcher { path in
            let changed = URL(fileURLWithPath: path).standardizedFileURL.path
            for (name, paths) in files.withLockedValue({ $0 }) where paths.contains(changed) {
                runner.fileChanged(strategy: name, path: path)
            }
        } : nil
        for instance in launched { try? watcher?.watch(instance.path) }
        // The modules they required from their folders are watched too (after on_start has run).
        let moduleWatch = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                for name in files.withLockedValue({ Array($0.keys) }) {
                    guard let instance = runner.strategy(named: name), instance.hungReason == nil else { continue }
                    let modules = await instance.loop.submit { instance.modulePaths }.value(within: 1) ?? []
                    for module in modules {
                        try? watcher?.watch(module)
                        files.withLockedValue { _ = $0[name, default: []].insert(URL(fileURLWithPath: module).standardizedFileURL.path) }
                    }
                }
            }
        }
        let hangups = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "sighup"))
        signal(SIGHUP, SIG_IGN)
        hangups.setEventHandler {
            Task {
                for name in files.withLockedValue({ Array($0.keys) }) { _ = await runner.reload(strategy: name) }
            }
        }
        hangups.resume()
        // Stopped explicitly before the strategies' loops shut down (nothing may post to them after).
        func stopWatching() {
            hangups.cancel()
            moduleWatch.cancel()
            watcher?.stop()
        }
        // The day's PnL, live, for risk.max_daily_loss.
        runner.followPnL(account: account)
        let positions = await runner.initialPositions()
        for instance in launched {
            instance.start(positions: positions)
            say("running \(instance.name) (\(instance.path)) on \(host):\(port), account \(account), journal \(journalPath)"
                + (watching ? "; saving the file reloads it" : ""))
        }

        // What ends the run: a signal, the duration, or `moonwire halt` through the control channel.
        let stop = StopLatch()
        let started = Date()
        Task {
            let signal = await SignalWaiter().wait(for: [SIGINT, SIGTERM, SIGUSR1])
            stop.fire(signal == SIGUSR1 ? .halt(everything: false, done: false) : .signal(signal))
        }
        if let duration {
            Task {
                try? await Task.sleep(for: .seconds(duration))
                stop.fire(.duration)
            }
        }
        // `moonwire halt`, `reload` and `status` reach this run through a socket next to the
        // journal (owner-only); SIGUSR1 and SIGHUP still work for `kill`.
        let channels = MultiThreadedEventLoopGroup.singleton
        let strategyNames = launched.map(\.name)
        let control = try? await ControlChannel.serve(journal: journalPath, group: channels) { command in
            switch command {
            case "status":
                return await Self.status(runner: runner, state: state, strategies: strategyNames, started: started)
            case "reload":
                var lines: [String] = []
                for name in strategyNames {
                    let outcome = await runner.reload(strategy: name)
                    lines.append("\(name): " + (outcome.map { $0.succeeded ? "reloaded (hash \($0.hash))" : "reload failed: \($0.error ?? "?")" } ?? "gone"))
                }
                return lines.joined(separator: "\n")
            case "halt", "halt --all":
                let everything = command == "halt --all"
                say("halt: cancelling every open order\(everything ? " of the account (global cancel)" : " the strategies placed") and stopping")
                let left = await runner.halt(reason: "moonwire halt: trading stopped", everything: everything)
                stop.fire(.halt(everything: everything, done: true))
                return left.isEmpty ? "halted: every open order is cancelled; the run is stopping"
                    : "halted, but \(left.count) order(s) not confirmed cancelled within 10 s: \(left.map { String($0.orderId) }.joined(separator: ", "))"
            default:
                return "error: unknown command '\(command)' (halt, halt --all, reload, status)"
            }
        }
        let cause = await stop.wait()
        // Everything from here on is bounded, whatever the strategies are doing: none of it
        // waits on a strategy's loop for longer than its hard limit.
        stopWatching()
        if case let .halt(everything, done) = cause, !done {
            // The kill switch: no order leaves any more, then every open order the
            // strategies placed is cancelled and the cancellations awaited; the strategies
            // stop after that (a hung one cannot delay it).
            say("halt: cancelling every open order and stopping")
            let left = await runner.halt(reason: "moonwire halt: trading stopped", everything: everything)
            if !left.isEmpty {
                say("halt: \(left.count) order(s) not confirmed cancelled within 10 s: \(left.map { String($0.orderId) }.joined(separator: ", "))")
            }
        }
        try? await control?.close()
        try? FileManager.default.removeItem(atPath: ControlChannel.socketPath(journal: journalPath))
        let statistics = await runner.stopAll()
        try await Task.sleep(for: .milliseconds(200))
        let snapshot = await state.snapshot()
        let pnl = try? await client.pnl(account: account)
        for instance in launched { runner.remove(instance) }
        await client.stop()
        try? await paper?.shutdown()
        try? await Task.sleep(for: .milliseconds(100))  // what the journal's writer still has
        journal.close()
        for instance in launched {
            guard let s = statistics[instance.name] else { continue }
            say(Self.summary(s, snapshot: snapshot, strategy: instance.name, seconds: Date().timeIntervalSince(started), pnl: pnl))
        }
    }

    /// Log lines go to the console (short) and to the day's log file (`logging:`), rotated by
    /// size and kept for `keep_days`. Once per process.
    static func startLogging(_ settings: LogSettings, consoleJSON: Bool) {
        let file: LogFile?
        do {
            file = try LogFile(settings: settings)
        } catch {
            file = nil
            FileHandle.standardError.write(Data("warning: no log file in \(settings.folder): \(error)\n".utf8))
        }
        LoggingSystem.bootstrap { label in
            let console: any LogHandler = consoleJSON ? FileLogHandler.standardErrorJSON(label: label) : StreamLogHandler.standardError(label: label)
            guard let file else { return console }
            return MultiplexLogHandler([console, FileLogHandler(label: label, file: file)])
        }
    }

    /// `moonwire status`: one line for the run, one per strategy.
    static func status(runner: StrategyRunner, state: TradingState, strategies: [String], started: Date) async -> String {
        let snapshot = await state.snapshot()
        let open = snapshot.orders.filter { !$0.strategy.isEmpty && !$0.status.isTerminal && $0.status != .unknown }
        var lines = ["running \(String(format: "%.0f", Date().timeIntervalSince(started))) s, \(snapshot.scope), trading "
            + (runner.orderFlowClosed.map { "closed (\($0.message))" } ?? "open") + ", \(open.count) open order(s), "
            + "\(snapshot.positions.filter { $0.quantity != 0 }.count) position(s)"]
        for name in strategies {
            guard let strategy = runner.strategy(named: name) else { continue }
            let s = await strategy.currentStatistics()
            lines.append("  \(name): \(s.eventsDelivered) events (\(s.quotesDelivered) quotes, \(s.quotesCoalesced) coalesced), "
                + "\(s.ordersPlaced) orders placed, \(s.ordersRefused) refused, \(s.fills) fills, \(s.errors) errors"
                + (s.paused ? ", paused" : "") + (strategy.hungReason != nil ? ", hung" : ""))
        }
        return lines.joined(separator: "\n")
    }

    static func summary(_ s: StrategyStatistics, snapshot: TradingState.Snapshot, strategy: String, seconds: Double, pnl: PnL?) -> String {
        let fills = snapshot.executions.filter { execution in snapshot.orders.contains { $0.orderId == execution.orderId && $0.strategy == strategy } }
        let commissions = fills.compactMap { $0.commission?.commission }.reduce(0, +)
        func money(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "n/a" }
        return """
            summary of \(strategy) after \(String(format: "%.1f", seconds)) s:
              events delivered  \(s.eventsDelivered) (quotes \(s.quotesDelivered) carrying \(s.ticksDelivered) ticks, quotes coalesced \(s.quotesCoalesced))
              orders            \(s.ordersPlaced) placed, \(s.ordersRefused) refused by the risk gate
              fills             \(fills.count) (\(fills.reduce(0) { $0 + $1.shares }) shares, commissions \(money(commissions)))
              pnl               daily \(money(pnl?.dailyPnL)), unrealized \(money(pnl?.unrealizedPnL)), realized \(money(pnl?.realizedPnL))
              errors            \(s.errors) (\(s.handlerFailures) failing handlers)\(s.paused ? ", strategy paused" : "")\(s.hung ? ", strategy declared hung" : "")
            """
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
