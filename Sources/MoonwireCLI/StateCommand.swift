import ArgumentParser
import Foundation
import Logging
import TWSClient
import TWSProtocol
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

/// Reconciles a journal with TWS and prints the rebuilt state as JSON.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Rebuild the trading state from a journal and TWS, and print it as JSON.")

    @Option(help: "The SQLite journal.") var journal: String
    @Option(help: "TWS / IB Gateway as HOST:PORT.") var gateway: String
    @Option(name: .customLong("client-id"), help: "API client id.") var clientId = 0

    func run() async throws {
        let endpoint = try parseEndpoint(gateway)
        let (client, state) = try await connectTrading(host: endpoint.host, port: endpoint.port, clientId: clientId, journal: journal)
        let report = await state.reconcile()
        say(try await stateJSON(state, report: report))
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
    try await client.waitUntilReady(timeout: 20)
    return (client, state)
}

func stateJSON(_ state: TradingState, report: ReconciliationReport) async throws -> String {
    let snapshot = await state.snapshot()
    let object: [String: Any] = [
        "orders": snapshot.orders.map { ["key": $0.clientKey, "id": $0.orderId, "status": $0.status.rawValue, "filled": $0.filled,
                                         "quantity": $0.quantity, "reason": $0.reason] },
        "executions": snapshot.executions.map { ["exec_id": $0.execId, "order_id": $0.orderId, "shares": $0.shares, "price": $0.price,
                                                 "commission": $0.commission?.commission ?? NSNull()] as [String: Any] },
        "explained_positions": state.journalExplainedPositions(snapshot),
        "positions": snapshot.positions.map { ["symbol": $0.symbol, "quantity": $0.quantity] },
        "report": ["unknown": report.unknown, "lost_orders": report.lostOrders, "executions_recovered": report.executionsRecovered,
                   "unexplained": report.unexplainedPositions.mapValues { ["reported": $0.reported, "explained": $0.explained] }],
        "trading_allowed": snapshot.tradingAllowed,
    ]
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

/// Places orders through the journal as fast as TWS acknowledges them, until killed
/// (the crash test's workload), or reconciles and reports (`--orders 0`).
struct TradeProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trade-probe",
        abstract: "Test workload: place orders through the journal until killed, or reconcile and print the state.",
        shouldDisplay: false)

    @Option var journal: String
    @Option var gateway: String
    @Option(name: .customLong("client-id")) var clientId = 1
    @Option var orders = 0
    @Option var symbol = "AAPL"
    @Option var quantity = 300
    @Option(name: .customLong("settle-seconds"), help: "With --orders 0: wait this long for working orders to finish.")
    var settleSeconds = 5.0

    func run() async throws {
        let endpoint = try parseEndpoint(gateway)
        let (client, state) = try await connectTrading(host: endpoint.host, port: endpoint.port, clientId: clientId, journal: journal)
        _ = await state.reconcile()
        if orders > 0 {
            for index in 0..<orders {
                let order = Order(action: index % 2 == 0 ? "BUY" : "SELL", quantity: TWSDecimal(quantity), type: "MKT")
                let record = try await state.submit(contract: Contract(symbol: symbol), order: order, strategy: "probe")
                say("placed \(record.orderId)")
            }
            say("all placed")
            try await Task.sleep(for: .seconds(3600))
        }
        let deadline = Date().addingTimeInterval(settleSeconds)
        while Date() < deadline {
            let snapshot = await state.snapshot()
            if snapshot.orders.allSatisfy({ $0.status.isTerminal || $0.status == .unknown }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let report = await state.reconcile()
        say(try await stateJSON(state, report: report))
        await client.stop()
    }
}
