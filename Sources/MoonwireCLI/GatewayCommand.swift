import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import PaperGateway

/// `moonwire gateway`: the paper gateway as a server any TWS API client can use.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the built-in paper gateway: a TWS API server with a simulated market and paper account.",
        discussion: """
            Point any TWS API client (IB's ibapi, ib_async, ...) at HOST:PORT as you would at TWS. \
            The control port takes one command a line: drop, outage 1101|1102 [SECONDS], stall [SECONDS], hang [SECONDS], \
            restart [SECONDS], reject-next [REASON], replay-executions, step [N], price SYMBOL PRICE, position SYMBOL QTY COST, status.
            """
    )

    @Option(help: "YAML config file; its paper_gateway section is used (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).")
    var config: String?

    @Option(help: "Address to listen on.")
    var host: String?

    // `.unconditional` on the numbers: `--port -1` reaches the range check ("--port must be
    // between 0 and 65535, got -1") instead of ArgumentParser reading `-1` as an option and
    // saying the value is missing.
    @Option(parsing: .unconditional, help: "Port to listen on (7497, like TWS paper; 0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("control-port"), parsing: .unconditional, help: "Also listen for control commands on this port (0 picks a free one).")
    var controlPort: Int?

    @Option(parsing: .unconditional, help: "Seed of the simulated market.")
    var seed: UInt64?

    @Option(name: .customLong("state-file"), help: "SQLite file that keeps orders, fills, positions and cash across restarts.")
    var stateFile: String?

    @Option(help: "Market clock: realtime, or manual (moves only on the control command 'step').")
    var clock: String?

    @Option(name: .customLong("tick-interval-ms"), parsing: .unconditional, help: "Milliseconds between quote updates (default 250, like IB; fractions allowed; 0: as fast as the client reads).")
    var tickIntervalMs: Double?

    @Flag(help: "Log every connection, order and fill.")
    var verbose = false

    @OptionGroup var replay: ReplayOptions

    func run() async throws {
        // Checked here: a port outside 0-65535 would trap where it becomes a socket address.
        if let port { try OptionRange.check(port, "--port", 0...65_535) }
        if let controlPort { try OptionRange.check(controlPort, "--control-port", 0...65_535) }
        if let tickIntervalMs { try OptionRange.check(tickIntervalMs, "--tick-interval-ms", 0...3_600_000) }
        var settings: PaperGatewayConfig
        do {
            settings = try configFile(config).path.map { try PaperGatewayConfig.load(path: $0) } ?? PaperGatewayConfig()
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        if let host { settings.host = host }
        if let port { settings.port = port }
        if let seed { settings.seed = seed }
        if let stateFile { settings.stateFile = stateFile }
        if let clock { settings.market.clock = clock }
        if let tickIntervalMs { settings.market.tickIntervalMs = tickIntervalMs }
        do {
            try settings.validate()
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        settings.replay = try await replay.load(config: try historyConfig(config), universe: settings.instruments)
        var logger = Logger(label: "paper-gateway")
        logger.logLevel = verbose ? .info : .warning
        let server: PaperGatewayServer
        do {
            server = try await PaperGatewayServer.start(config: settings, controlPort: controlPort, logger: logger)
        } catch {
            throw RuntimeError("could not start the paper gateway on \(settings.host):\(settings.port): \(error)")
        }
        // Caught from before "listening" is said: a signal sent as soon as a script reads that
        // line would otherwise still find SIGTERM's default (killed, no shutdown, no status).
        let signals = SignalCatcher()
        say("paper gateway listening on \(server.host):\(server.port) (accounts \(settings.accounts.joined(separator: ",")), seed \(settings.seed))")
        if let control = server.controlPort { say("control port \(server.host):\(control)") }
        if let market = settings.replay { say(replay.describe(market)) }
        let signal = await signals.wait()
        say("paper gateway stopping")
        try await server.shutdown()
        // 130 after Ctrl-C, 143 after SIGTERM, as every command (a supervisor or a script tells
        // a gateway stopped on purpose from one that ended by itself).
        throw ExitCode(ExitStatus.signal(signal))
    }
}

/// Waits for SIGINT or SIGTERM (or the other `signals` given); returns the one that came.
final class SignalWaiter: Sendable {
    @discardableResult
    func wait(for signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let queue = DispatchQueue(label: "signals")
            let once = OnceFlag()
            for signalNumber in signals {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler {
                    if once.fire() { continuation.resume(returning: signalNumber) }
                }
                source.resume()
                SignalSources.keep(source)
            }
        }
    }
}

/// Catches SIGINT and SIGTERM (or the `signals` given) from the moment it is made, unlike
/// `SignalWaiter`, which catches them only once its `wait` runs; `wait` returns the first caught.
///
/// A handler of its own writes each signal into a pipe at once. A dispatch signal source would
/// not do: the signal is set to be ignored first, and the source starts listening only some
/// time after `resume()`, so a SIGTERM sent as soon as "listening" was read was now and then
/// lost, and the gateway never stopped.
final class SignalCatcher: Sendable {
    private let state = NIOLockedValueBox<(caught: Int32?, waiter: CheckedContinuation<Int32, Never>?)>((nil, nil))

    init(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        let readEnd = caughtSignals.read  // made here, before a handler can write to it
        for signalNumber in signals { signal(signalNumber, writeCaughtSignal) }
        let reader = Thread { [state] in
            var byte: UInt8 = 0
            while true {
                let got = read(readEnd, &byte, 1)
                if got < 0 && errno == EINTR { continue }
                guard got == 1 else { return }
                let signalNumber = Int32(byte)
                let waiter = state.withLockedValue { state -> CheckedContinuation<Int32, Never>? in
                    guard state.caught == nil else { return nil }
                    state.caught = signalNumber
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: signalNumber)
            }
        }
        reader.start()
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let caught = state.withLockedValue { state -> Int32? in
                if state.caught == nil { state.waiter = continuation }
                return state.caught
            }
            if let caught { continuation.resume(returning: caught) }
        }
    }
}

/// The pipe `writeCaughtSignal` writes caught signals to (made once, before any handler runs).
private let caughtSignals: (read: Int32, write: Int32) = {
    var ends: [Int32] = [-1, -1]
    precondition(pipe(&ends) == 0, "no pipe for the signal handler")
    return (ends[0], ends[1])
}()

/// The signal handler: one write of the signal's number (async-signal-safe).
private let writeCaughtSignal: @convention(c) (Int32) -> Void = { signalNumber in
    var byte = UInt8(truncatingIfNeeded: signalNumber)
    _ = write(caughtSignals.write, &byte, 1)
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    static func keep(_ source: DispatchSourceSignal) {
        lock.lock()
        sources.append(source)
        lock.unlock()
    }
}

/// True for the first `fire()` only. `@unchecked Sendable`: its one mutable field is read and
/// written only while `lock` is held.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    func fire() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if fired { return false }
        fired = true
        return true
    }
}
