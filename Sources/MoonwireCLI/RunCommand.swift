import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Moonwire

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
        var configuration: MoonwireConfiguration
        do {
            configuration = try MoonwireConfiguration.load(configFile: configPath, gateway: gateway, clientId: clientId)
        } catch let error as MoonwireError {
            throw RuntimeError(error.message)
        }
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
        guard !entries.isEmpty else { throw ValidationError("no strategy: name a .lua file, or list them under strategies: in the config") }
        for entry in entries where !FileManager.default.fileExists(atPath: entry.file) {
            throw RuntimeError("\(entry.file): no such strategy file")
        }
        if let logFormat {
            guard logFormat == "text" || logFormat == "json" else { throw ValidationError("--log-format '\(logFormat)' is not text or json") }
            configuration.host.logging.format = logFormat
        }
        Self.startLogging(configuration.host.logging, consoleJSON: logFormat == "json")

        let runtime: MoonwireRuntime
        do {
            runtime = try await MoonwireRuntime.start(configuration)
        } catch let error as MoonwireError {
            throw RuntimeError(error.message)
        }
        if let paper = runtime.paperGateway {
            say("paper gateway on 127.0.0.1:\(paper.port) (seed \(configuration.paper.seed))")
        }
        // What ends the run: a signal, the duration, or `moonwire halt` through the control channel.
        let stop = StopLatch()
        let events = runtime.events()
        Task {
            for await event in events {
                switch event {
                case let .notice(line): say(line)
                case .halted: stop.fire(.halt(everything: false, done: true))
                default: break
                }
            }
        }
        for entry in entries {
            do {
                let name = try await runtime.addStrategy(file: entry.file, name: entry.name, params: entry.params.merging(parameters) { $1 },
                                                         risk: entry.risk)
                say("running \(name) (\(entry.file)) on \(runtime.host):\(runtime.port), account \(runtime.account), journal \(runtime.journalPath)"
                    + (runtime.watchesFiles ? "; saving the file reloads it" : ""))
            } catch let error as MoonwireError {
                _ = await runtime.stop()
                throw RuntimeError(error.message)
            }
        }
        // SIGHUP (and `moonwire reload`) reloads every strategy.
        let hangups = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "sighup"))
        signal(SIGHUP, SIG_IGN)
        hangups.setEventHandler {
            Task { for name in runtime.strategyNames { _ = await runtime.reload(strategy: name) } }
        }
        hangups.resume()
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
        let cause = await stop.wait()
        hangups.cancel()
        if case let .halt(everything, done) = cause, !done {
            // The kill switch: no order leaves any more, then every open order the
            // strategies placed is cancelled and the cancellations awaited; the strategies
            // stop after that (a hung one cannot delay it).
            say("halt: cancelling every open order and stopping")
            let left = await runtime.halt(everything: everything)
            if !left.isEmpty {
                say("halt: \(left.count) order(s) not confirmed cancelled within 10 s: \(left.map { String($0.orderId) }.joined(separator: ", "))")
            }
        }
        // Bounded, whatever the strategies are doing.
        let summary = await runtime.stop()
        say(summary.text)
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
