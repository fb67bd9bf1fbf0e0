import ArgumentParser
import Foundation
import Logging
import TWSClient
import TWSProtocol
import Moonwire
import StrategyHost
import TradingState

/// Where to connect: `paper` is not meaningful here (no embedded gateway), HOST:PORT is.
func parseEndpoint(_ text: String) throws -> (host: String, port: Int) {
    do {
        return try ConnectionSettings.parseEndpoint(text)
    } catch {
        throw ValidationError("\(error)")
    }
}

/// `moonwire state`: the orders, executions and positions of a journal, as tables (or JSON):
/// offline from the journal alone, or reconciled with TWS first (`--gateway`).
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Show a journal's orders, executions and positions (offline, or reconciled with TWS with --gateway).")

    @Option(help: "The SQLite journal (default: trading.journal of the config, in the data folder).") var journal: String?
    @Option(help: "YAML config (default: $MOONWIRE_CONFIG, else ./Config/moonwire.yaml, else ~/.config/moonwire/moonwire.yaml).") var config: String?
    @Option(help: "TWS / IB Gateway as HOST:PORT to reconcile with first (default: none, the journal alone; paper: the journal alone, as a built-in paper gateway ends with its run).")
    var gateway: String?
    @Option(name: .customLong("client-id"), help: "API client id with --gateway.") var clientId = 0
    @Option(help: "Which part of the journal (account:ID or paper:IDENTITY; default: the most recently active).") var scope: String?
    @Flag(help: "Print JSON instead of tables.") var json = false

    func run() async throws {
        let path = try journalPath(journal: journal, config: config)
        if let gateway, gateway != "paper" {
            let endpoint = try parseEndpoint(gateway)
            let (client, state) = try await connectTrading(host: endpoint.host, port: endpoint.port, clientId: clientId, journal: path)
            let report = await state.reconcile()
            let snapshot = await state.snapshot()
            say(json ? try stateJSON(snapshot, state: state, report: report) : StateTables.render(snapshot, report: report, online: true))
            await client.stop()
            return
        }
        guard FileManager.default.fileExists(atPath: path) else { throw RuntimeError("\(path): no such journal") }
        let store = try Journal(path: path)
        defer { store.close() }
        let scopes = try store.scopes()
        guard let chosen = scope ?? scopes.first?.scope else {
            say(json ? "{}" : "\(path): no orders or executions yet")
            return
        }
        guard scope == nil || scopes.contains(where: { $0.scope == chosen }) else {
            throw RuntimeError("\(path) has no records of \(chosen); it has: \(scopes.map(\.scope).joined(separator: ", "))")
        }
        var configuration = TWSClientConfiguration(host: "127.0.0.1", port: 1, clientId: 0)
        configuration.requestTimeout = 1
        let client = TWSClient(configuration: configuration)  // never started: nothing connects
        let state = try TradingState(client: client, journal: store)
        let snapshot = try await state.journaledSnapshot(scope: chosen)
        if json {
            say(try stateJSON(snapshot, state: state, report: nil))
        } else {
            say("\(chosen) in \(path) (offline: from the journal alone; positions are what its executions add up to)"
                + (scopes.count > 1 ? "; other scopes: \(scopes.map(\.scope).filter { $0 != chosen }.joined(separator: ", ")) (--scope)" : ""))
            say(StateTables.render(snapshot, report: nil, online: false))
        }
        await client.stop()
    }
}

func connectTrading(host: String, port: Int, clientId: Int, journal path: String) async throws -> (TWSClient, TradingState) {
    let journal = try Journal(path: path)
    var configuration = TWSClientConfiguration(host: host, port: port, clientId: clientId)
    configuration.reconnect.backoffBase = 0.2
    configuration.reconnect.backoffCap = 2
    configuration.reconnect.duplicateClientIdDelay = 0.5
    var logger = Logger(label: "moonwire")
    logger.logLevel = .warning
    let client = TWSClient(configuration: configuration, idStore: journal, logger: logger)
    let state = try TradingState(client: client, journal: journal, logger: logger)
    client.start()
    do {
        try await client.waitUntilReady(timeout: 20, failFast: true)
    } catch {
        await client.stop()
        throw RuntimeError(ConnectionAdvice.message(for: error, host: host, port: port, clientId: clientId, seconds: 20))
    }
    return (client, state)
}

/// The state as JSON (numbers as Swift prints them: 415.59, not 415.59000000000003).
func stateJSON(_ snapshot: TradingState.Snapshot, state: TradingState, report: ReconciliationReport?) throws -> String {
    func number(_ value: Double) -> NSDecimalNumber { NSDecimalNumber(string: "\(value)") }
    var object: [String: Any] = [
        "scope": snapshot.scope,
        "orders": snapshot.orders.map { ["key": $0.clientKey, "id": $0.orderId, "strategy": $0.strategy, "symbol": $0.instrumentKey,
                                         "side": $0.order.action, "status": $0.status.rawValue, "filled": number($0.filled),
                                         "quantity": number($0.quantity), "reason": $0.reason] as [String: Any] },
        "executions": snapshot.executions.map { ["exec_id": $0.execId, "order_id": $0.orderId, "symbol": $0.symbol, "side": $0.side,
                                                 "shares": number($0.shares), "price": number($0.price),
                                                 "commission": $0.commission.map { number($0.commission) } ?? NSNull()] as [String: Any] },
        "explained_positions": state.journalExplainedPositions(snapshot).mapValues(number),
        "positions": snapshot.positions.map { ["symbol": $0.symbol, "quantity": number($0.quantity)] as [String: Any] },
        "trading_allowed": snapshot.tradingAllowed,
    ]
    if let report {
        object["report"] = ["unknown": report.unknown, "lost_orders": report.lostOrders, "executions_recovered": report.executionsRecovered,
                            "unexplained": report.unexplainedPositions.mapValues { ["reported": number($0.reported), "explained": number($0.explained)] }]
    }
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

extension TradingState {
    func journalExplainedPositions(_ snapshot: Snapshot) -> [String: Double] {
        var result: [String: Double] = [:]
        for execution in snapshot.executions { result[execution.symbol, default: 0] += execution.signedShares }
        return result
    }
}

