import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSClient
import TWSProtocol

/// Moonwire as a library: one connection to TWS (or a built-in paper gateway), the journal,
/// the trading state, and any number of Lua strategies on it, each on its own thread.
///
/// ```swift
/// var configuration = MoonwireConfiguration()          // paper gateway, defaults
/// let runtime = try await MoonwireRuntime.start(configuration)
/// try await runtime.addStrategy(file: "Strategies/sma_cross.lua")
/// for await event in runtime.events() { ... }
/// let summary = await runtime.stop()
/// ```
///
/// Everything `moonwire run` does goes through this type. Every method may be called from any
/// task; none waits on a strategy's thread for longer than that strategy's hard limit.
public final class MoonwireRuntime: Sendable {
    /// The account orders go to.
    public let account: String
    /// Where TWS (or the paper gateway) listens.
    public let host: String
    public let port: Int
    /// The journal's file and the part of it this run reads and writes (`paper:<gateway>` or
    /// `account:<id>`).
    public let journalPath: String
    public let scope: String
    /// The built-in paper gateway, when the configuration named no TWS.
    public let paperGateway: PaperGatewayServer?
    /// Whether saving a strategy's file reloads it.
    public let watchesFiles: Bool
    /// When `start` returned.
    public let startedAt: Date

    package let configuration: MoonwireConfiguration
    package let client: TWSClient
    package let state: TradingState
    package let journal: Journal
    package let runner: StrategyRunner
    let hub = EventHub()
    let files = FileFollower()
    let control = NIOLockedValueBox<ControlChannel.Server?>(nil)
    let stopped = NIOLockedValueBox<MoonwireRunSummary?>(nil)
    /// The connection's state and the day's PnL, as the latest events said.
    let tracked = NIOLockedValueBox<(connection: String, dailyPnL: Double?)>(("connected", nil))
    let stopping = NIOLockedValueBox<Task<MoonwireRunSummary, Never>?>(nil)

    private init(configuration: MoonwireConfiguration, account: String, host: String, port: Int, journalPath: String, scope: String,
                 paperGateway: PaperGatewayServer?, client: TWSClient, state: TradingState, journal: Journal, runner: StrategyRunner)
    {
        self.configuration = configuration
        self.account = account
        self.host = host
        self.port = port
        self.journalPath = journalPath
        self.scope = scope
        self.paperGateway = paperGateway
        self.client = client
        self.state = state
        self.journal = journal
        self.runner = runner
        self.watchesFiles = configuration.watchFiles ?? configuration.connection.usesPaperGateway
        self.startedAt = Date()
    }

    /// Starts the paper gateway (when no TWS is named), opens the journal, connects, checks
    /// the account (a live one needs `allowLive` and `trading.allow_live`), reconciles the
    /// journal with TWS (fail-closed: a position nobody can explain refuses the start), and
    /// starts the watchdog. Strategies are added afterwards (`addStrategy`).
    /// `extensions` are registered in every strategy (see `LuaExtension`).
    /// `progress` hears each step as a line (`connecting to 127.0.0.1:7497 (client id 1)...`).
    public static func start(_ configuration: MoonwireConfiguration, extensions: [LuaExtension] = [],
                             progress: @Sendable (String) -> Void = { _ in }) async throws -> MoonwireRuntime {
        var configuration = configuration
        let connection = configuration.connection
        var paper: PaperGatewayServer?
        var host = "127.0.0.1"
        var port: Int
        if connection.usesPaperGateway {
            var paperSettings = configuration.paper
            paperSettings.port = 0
            paperSettings.host = "127.0.0.1"
            var gatewayLogger = Logger(label: "paper-gateway")
            gatewayLogger.logLevel = configuration.verbose ? .info : .warning
            paper = try await PaperGatewayServer.start(config: paperSettings, logger: gatewayLogger)
            port = paper!.port
            // A replay: the strategies live in its time (now(), timers), on the gateway's own clock.
            configuration.host.marketClock = try await paper!.withEngine { engine in engine.replayClock }
            progress("paper gateway on 127.0.0.1:\(port) (seed \(paperSettings.seed))")
        } else {
            (host, port) = (connection.host ?? "127.0.0.1", connection.port ?? 7497)
            if let refusal = LiveSafety.refusal(port: port, accounts: [], liveFlag: configuration.allowLive, allowLive: configuration.host.trading.allowLive) {
                throw MoonwireError(refusal, refused: true)
            }
        }
        // From here on, a failure takes down what was started.
        var cleanups: [@Sendable () async -> Void] = []
        if let paper { cleanups.append { try? await paper.shutdown() } }
        func fail(_ message: String, refused: Bool = false) async -> MoonwireError {
            for cleanup in cleanups.reversed() { await cleanup() }
            return MoonwireError(message, refused: refused)
        }
        let journalPath = configuration.journalPath ?? configuration.host.trading.journal
        let journal: Journal
        do {
            try HostConfig.prepareFolder(of: journalPath)
            journal = try Journal(path: journalPath)
        } catch {
            throw await fail("\(error)")
        }
        cleanups.append { journal.close() }
        var clientConfiguration = TWSClientConfiguration(host: host, port: port, clientId: connection.clientId)
        clientConfiguration.requestTimeout = connection.requestTimeout
        clientConfiguration.handshakeTimeout = min(clientConfiguration.handshakeTimeout, max(connection.connectTimeout * 0.8, 0.5))  // told before the overall deadline
        clientConfiguration.reconnect.backoffBase = connection.backoffBase
        clientConfiguration.reconnect.backoffCap = connection.backoffCap
        clientConfiguration.marketDataType = connection.marketDataType
        var clientLogger = Logger(label: "tws-client")
        clientLogger.logLevel = configuration.verbose ? .info : .warning
        let client = TWSClient(configuration: clientConfiguration, idStore: journal, logger: clientLogger)
        var stateOptions = TradingState.Options()
        stateOptions.failClosed = configuration.host.trading.failClosed
        // The built-in gateway's paper account lives as long as that gateway: its records are
        // kept apart from every other account's, in the same journal.
        if let paper { stateOptions.scope = "paper:\(paper.identity)" }
        let state: TradingState
        do {
            state = try TradingState(client: client, journal: journal, options: stateOptions, logger: clientLogger)
        } catch {
            throw await fail("\(error)")
        }
        client.start()
        cleanups.insert({ await client.stop() }, at: 1)
        progress("connecting to \(host.contains(":") ? "[\(host)]" : host):\(port) (client id \(connection.clientId))...")
        let connecting = Date()
        do {
            try await client.waitUntilReady(timeout: connection.connectTimeout, failFast: true)
        } catch {
            throw await fail(ConnectionAdvice.message(for: error, host: host, port: port, clientId: connection.clientId,
                                                      seconds: connection.connectTimeout))
        }
        // Paper accounts start with D; anything else is live money.
        let accounts: [String]
        do {
            accounts = try await client.accountSummary(tags: ["AccountType"]).map(\.account)
        } catch {
            throw await fail("could not read the accounts of \(host):\(port): \(error)")
        }
        if !connection.account.isEmpty && !accounts.contains(connection.account) {
            throw await fail("account \(connection.account) (from \(connection.sources["account"] ?? "?")) is not one this login manages "
                             + "(\(accounts.joined(separator: ", ")))")
        }
        let account = connection.account.isEmpty ? (accounts.first ?? "") : connection.account
        if let refusal = LiveSafety.refusal(port: nil, accounts: accounts, liveFlag: configuration.allowLive, allowLive: configuration.host.trading.allowLive) {
            throw await fail(refusal, refused: true)
        }
        progress("connected in \(String(format: "%.2f", Date().timeIntervalSince(connecting))) s: account \(account) "
                 + "(\(account.hasPrefix("D") ? "paper" : "LIVE")), server version \(await client.currentServerVersion)")
        let report = await state.reconcile()
        // Decided from the report and a snapshot: nothing reads the state off its loop.
        let opening = await state.snapshot()
        if !opening.tradingAllowed {
            let why = "trading is closed: \(report.unknown.joined(separator: "; "))"
                + report.unexplainedPositions.sorted { $0.key < $1.key }
                    .map { " position \($0.key): TWS \($0.value.reported), journal \($0.value.explained)" }.joined(separator: ";")
                + " (in \(opening.scope) of \(journalPath)). Look with `moonwire reconcile --gateway \(host):\(port) --journal \(journalPath)`"
                + " and accept TWS's positions with `--acknowledge`"
            throw await fail(why, refused: true)
        }
        var logger = Logger(label: "moonwire")
        logger.logLevel = configuration.verbose ? .info : .notice
        let runner = StrategyRunner(client: client, state: state, journal: journal, accountLimits: configuration.host.accountRisk, logger: logger)
        for item in extensions {
            do { try runner.register(item) } catch { throw await fail("\(error)") }
        }
        let runtime = MoonwireRuntime(configuration: configuration, account: account, host: host, port: port, journalPath: journalPath,
                                      scope: opening.scope, paperGateway: paper, client: client, state: state, journal: journal, runner: runner)
        runner.onSupervision = { [hub = runtime.hub] line in hub.publish(.notice(line)) }
        state.observe { [hub = runtime.hub, tracked = runtime.tracked] event in
            hub.publish(.trading(event))
            switch event {
            case let .connection(text):
                tracked.withLockedValue { $0.connection = text }
                hub.publish(.connection(text))
            case let .pnl(daily, _, _):
                if let daily { tracked.withLockedValue { $0.dailyPnL = daily } }
            default:
                break
            }
        }
        await runner.adoptJournaledOrders()
        runner.startWatchdog()
        // The day's PnL, live, for risk.max_daily_loss.
        runner.followPnL(account: account)
        if runtime.watchesFiles { runtime.startWatchingFiles() }
        if configuration.controlChannel {
            do {
                try await runtime.serveControlChannel()
            } catch {
                // No run without its kill switch.
                _ = await runtime.stop()
                throw MoonwireError("the control channel (`moonwire halt`, `status`, `reload`) cannot be served: \(error)")
            }
        }
        return runtime
    }

    // MARK: Strategies

    /// The names of the strategies running now.
    public var strategyNames: [String] { files.names }

    /// Loads `file`, runs its top level, and starts it (`on_start`) under `name` (default: the
    /// file's name; when another running strategy has that name, the shortest part of the path
    /// that tells them apart, as `a/momentum`). Its orders carry the name (in `orderRef`), its
    /// `store`, positions and orders are its own and survive restarts under that name.
    /// `params` and `risk` override the configuration's for this strategy only.
    /// Returns the name it runs under. Throws `MoonwireError` for a missing file, a name in
    /// use, or a file that fails to load (with the Lua error).
    @discardableResult
    public func addStrategy(file: String, name: String? = nil, params: [String: String] = [:], risk: RiskLimits? = nil) async throws -> String {
        guard stopped.withLockedValue({ $0 == nil }) else { throw MoonwireError("the runtime is stopped") }
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else { throw MoonwireError("\(file): no such strategy file") }
        let chosen: String
        if let name {
            guard runner.strategy(named: name) == nil else { throw MoonwireError("a strategy named \(name) is running already") }
            chosen = name
        } else {
            chosen = try files.reserveName(for: path)
        }
        var own = configuration.host
        if let risk { own.risk = risk }
        // What the strategy logs is the user's own output: always shown.
        var strategyLogger = Logger(label: "strategy")
        strategyLogger.logLevel = .info
        let strategy: Strategy
        do {
            strategy = try await runner.launch(path: path, name: chosen, config: own, params: params, logger: strategyLogger)
        } catch {
            files.release(chosen)
            throw MoonwireError("\(error)")
        }
        files.added(name: chosen, path: path)
        let hub = self.hub
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        _ = try? await strategy.loop.submit {
            strategy.onReload = { outcome in
                hub.publish(.reloaded(strategy: chosen, outcome: outcome))
                // A failed reload is logged by the strategy itself (one line, as an error).
                if outcome.succeeded {
                    hub.publish(.notice("reloaded \(fileName) (hash \(outcome.hash), swap \(String(format: "%.2f", outcome.milliseconds)) ms)"))
                }
            }
        }.get()
        if watchesFiles { files.watch(path) }
        strategy.start(positions: await runner.startingPositions(strategy: chosen), orders: await runner.startingOrders(strategy: chosen))
        hub.publish(.strategyAdded(name: chosen, path: path))
        return chosen
    }

    /// Stops the strategy (`on_stop`, bounded by its hard limit) and takes it off the
    /// connection; with `cancelOrders`, its open orders are cancelled first (otherwise they
    /// stay open, journaled under its name). Returns its statistics, nil when none has that name.
    @discardableResult
    public func removeStrategy(named name: String, cancelOrders: Bool = false) async -> StrategyStatistics? {
        guard let statistics = await runner.stop(strategy: name, cancelOrders: cancelOrders) else { return nil }
        files.removed(name: name)
        hub.publish(.strategyRemoved(name: name, statistics: statistics))
        return statistics
    }

    /// Reloads the strategy from its file now: the new code takes over between two events,
    /// with its `store`, orders and subscriptions, or the old code keeps running. A hung
    /// strategy starts afresh. Nil when none has that name.
    public func reload(strategy name: String) async -> Strategy.ReloadOutcome? {
        await runner.reload(strategy: name)
    }

    /// The kill switch: the order gate closes first (no order leaves any more, for good:
    /// queued ones and those on their way included), every working order the strategies
    /// placed is cancelled (with `everything`, every order of the account: TWS's global
    /// cancel), and TWS's open orders are read back, up to `seconds`. Returns what was
    /// stopped, cancelled and left (`complete` when TWS lists nothing of ours working). The
    /// strategies keep running (without order flow) until `stop`.
    @discardableResult
    /// `by` says who asked (`moonwire halt`, `the HTTP API (127.0.0.1)`): in the reason
    /// strategies and the journal are told, and in the `.halted` event.
    public func halt(everything: Bool = false, within seconds: Double = 10, by: String = "moonwire halt") async -> HaltReport {
        let report = await runner.halt(reason: "\(by): trading stopped", everything: everything, within: seconds)
        hub.publish(.halted(everything: everything, ordersLeftOpen: report.left.map(\.orderId), by: by))
        return report
    }

    /// Whether orders may leave now, and if not why (`halted`, `journal`, `reconcile`).
    public var orderFlowClosed: (code: String, message: String)? { runner.orderFlowClosed }

    // MARK: The application's own events and functions

    /// Adds Lua functions to every strategy added from now on (see `LuaExtension`).
    public func register(_ extension: LuaExtension) throws {
        do { try runner.register(`extension`) } catch { throw MoonwireError("\(error)") }
    }

    /// Delivers an event of the application to `handler` (`on_signal`, any name `on_...` that
    /// is not one of Moonwire's) of the strategy named, or of every strategy: in order with
    /// everything else it is told, never coalesced, within its budget like any handler.
    /// Returns how many strategies it was posted to.
    @discardableResult
    public func post(_ handler: String, _ values: [LuaValue] = [], to strategy: String? = nil) throws -> Int {
        guard handler.hasPrefix("on_"), LuaExtension.isIdentifier(handler), !Strategy.handlerNames.contains(handler) else {
            throw MoonwireError("'\(handler)' is not a handler an application may post to: on_ and a name that is not one of Moonwire's "
                                + "(\(Strategy.handlerNames.joined(separator: ", ")))")
        }
        if let strategy, runner.strategy(named: strategy) == nil { throw MoonwireError("no strategy named \(strategy) is running") }
        return runner.post(handler: handler, values: values, to: strategy)
    }
}
