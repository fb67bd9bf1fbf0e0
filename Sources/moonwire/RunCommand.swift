import ArgumentParser
import Foundation
import Logging
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

    @Argument(help: "The strategy file (.lua).") var strategy: String
    @Option(help: "YAML config (default: Config/moonwire.yaml when present).") var config: String?
    @Option(help: "paper (a built-in paper gateway on a free loopback port) or HOST:PORT of TWS / IB Gateway.") var gateway = "paper"
    @Option(name: .customLong("param"), help: "A strategy parameter, key=value (repeatable).") var params: [String] = []
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(name: .customLong("client-id"), help: "API client id (default: trading.client_id).") var clientId: Int?
    @Option(help: "The SQLite journal (default: trading.journal).") var journal: String?
    @Flag(help: "Allow a live account; also needs trading.allow_live: true in the config.") var live = false
    @Flag(inversion: .prefixedNo, help: "Reload the strategy when its file is saved (default: on with paper, off live).") var watch: Bool?
    @Flag(help: "Log every event.") var verbose = false

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
        var parameters: [String: String] = [:]
        for item in params {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--param '\(item)' is not key=value") }
            parameters[String(parts[0])] = String(parts[1])
        }
        guard FileManager.default.fileExists(atPath: strategy) else { throw ValidationError("\(strategy): no such strategy file") }

        var logger = Logger(label: "moonwire")
        logger.logLevel = verbose ? .info : .notice
        // The gateway: the built-in paper one, or TWS.
        var paper: PaperGatewayServer?
        var host = "127.0.0.1"
        var port: Int
        if gateway == "paper" {
            paperSettings.port = 0
            paperSettings.host = "127.0.0.1"
            var gatewayLogger = Logger(label: "paper-gateway")
            gatewayLogger.logLevel = verbose ? .info : .warning
            paper = try await PaperGatewayServer.start(config: paperSettings, logger: gatewayLogger)
            port = paper!.port
            say("paper gateway on 127.0.0.1:\(port) (seed \(paperSettings.seed))")
        } else {
            (host, port) = try parseEndpoint(gateway)
            if let refusal = LiveSafety.refusal(port: port, accounts: [], liveFlag: live, allowLive: settings.trading.allowLive) {
                throw ValidationError(refusal)
            }
        }
        let journalPath = journal ?? settings.trading.journal
        let journal = try Journal(path: journalPath)
        var clientConfiguration = TWSClientConfiguration(host: host, port: port, clientId: clientId ?? settings.trading.clientId)
        clientConfiguration.requestTimeout = 30
        var clientLogger = Logger(label: "tws-client")
        clientLogger.logLevel = verbose ? .info : .warning
        let client = TWSClient(configuration: clientConfiguration, idStore: journal, logger: clientLogger)
        var stateOptions = TradingState.Options()
        stateOptions.failClosed = settings.trading.failClosed
        let state = try TradingState(client: client, journal: journal, options: stateOptions, logger: clientLogger)
        client.start()
        do {
            try await client.waitUntilReady(timeout: 30)
        } catch {
            try? await paper?.shutdown()
            throw ValidationError("could not connect to \(host):\(port): \(error)")
        }
        // Paper accounts start with D; anything else is live money.
        let accounts = try await client.accountSummary(tags: ["AccountType"]).map(\.account)
        if let refusal = LiveSafety.refusal(port: nil, accounts: accounts, liveFlag: live, allowLive: settings.trading.allowLive) {
            await client.stop()
            try? await paper?.shutdown()
            throw ValidationError(refusal)
        }
        let report = await state.reconcile()
        if !state.tradingAllowed {
            await client.stop()
            try? await paper?.shutdown()
            throw ValidationError("trading is closed: \(report.unknown.joined(separator: "; "))"
                + report.unexplainedPositions.map { " position \($0.key): TWS \($0.value.reported), journal \($0.value.explained)" }.joined()
                + " (set trading.fail_closed: false to run anyway, or reconcile by hand)")
        }
        let runner = StrategyRunner(client: client, state: state, journal: journal, logger: logger)
        await runner.adoptJournaledOrders()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let strategyInstance: Strategy
        do {
            // What the strategy logs is the user's own output: always shown.
            var strategyLogger = Logger(label: "strategy")
            strategyLogger.logLevel = .info
            strategyInstance = try await Strategy.make(path: strategy, loop: group.next(), services: runner, config: settings, params: parameters,
                                            logger: strategyLogger)
        } catch let error as LuaErrorDescription {
            throw ValidationError("\(error)")
        }
        runner.add(strategyInstance)
        // Hot reload: on save (watcher) and on SIGHUP / `moonwire reload`.
        let file = URL(fileURLWithPath: strategy).lastPathComponent
        try await strategyInstance.loop.submit {
            strategyInstance.onReload = { outcome in
                if outcome.succeeded {
                    say("reloaded \(file) (hash \(outcome.hash), swap \(String(format: "%.2f", outcome.milliseconds)) ms)")
                } else {
                    say("reload of \(file) failed, the old code keeps running: \(outcome.error ?? "?")")
                }
            }
        }.get()
        let watching = watch ?? (gateway == "paper")
        let watcher = watching ? try? FileWatcher { path in strategyInstance.fileChanged(path: path) } : nil
        try? watcher?.watch(strategy)
        // The modules it required from its folder are watched too (after on_start has run).
        let moduleWatch = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let modules = (try? await strategyInstance.loop.submit { strategyInstance.modulePaths }.get()) ?? []
                for module in modules { try? watcher?.watch(module) }
            }
        }
        let hangups = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "sighup"))
        signal(SIGHUP, SIG_IGN)
        hangups.setEventHandler {
            Task {
                let outcome = await strategyInstance.reload()
                try? await strategyInstance.loop.submit { strategyInstance.onReload?(outcome) }.get()
            }
        }
        hangups.resume()
        // Stopped explicitly before the strategy's loop shuts down (nothing may post to it after).
        func stopWatching() {
            hangups.cancel()
            moduleWatch.cancel()
            watcher?.stop()
        }
        strategyInstance.start(positions: await runner.initialPositions())
        say("running \(strategyInstance.name) (\(strategy)) on \(host):\(port), account \(accounts.first ?? "?"), journal \(journalPath)"
            + (watching ? "; saving the file reloads it" : ""))

        // `moonwire halt` finds this process through the pid file next to the journal.
        let pidFile = journalPath + ".pid"
        try? String(getpid()).write(toFile: pidFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let started = Date()
        let waiter = Task { await SignalWaiter().wait(for: [SIGINT, SIGTERM, SIGUSR1]) }
        var halted = false
        if let duration {
            let timer = Task {
                try? await Task.sleep(for: .seconds(duration))
                kill(getpid(), SIGTERM)
            }
            halted = await waiter.value == SIGUSR1
            timer.cancel()
        } else {
            halted = await waiter.value == SIGUSR1
        }
        // The kill switch: the strategy stops first (so it places nothing more), then every
        // open order is cancelled and the cancellations are awaited.
        stopWatching()
        let statistics = await strategyInstance.stop()
        if halted {
            say("halt: cancelling every open order and stopping")
            journal.connectionEvent("halt", "moonwire halt")
            try? await Task.sleep(for: .milliseconds(300))  // submissions already queued reach TWS
            try? await client.globalCancel()
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let open = await state.snapshot().orders.filter { !$0.status.isTerminal && $0.status != .unknown }
                if open.isEmpty { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let snapshot = await state.snapshot()
        let pnl = try? await client.pnl(account: accounts.first ?? "")
        runner.remove(strategyInstance)
        await client.stop()
        try? await paper?.shutdown()
        try? await group.shutdownGracefully()
        say(Self.summary(statistics, snapshot: snapshot, strategy: strategyInstance.name, seconds: Date().timeIntervalSince(started), pnl: pnl))
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
              errors            \(s.errors) (\(s.handlerFailures) failing handlers)\(s.paused ? ", strategy paused" : "")
            """
    }
}

typealias LuaErrorDescription = LuaRuntimeError
