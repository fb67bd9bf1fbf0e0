import ArgumentParser
import Foundation
import TWSProtocol
import TradingState

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
        say(try stateJSON(await state.snapshot(), state: state, report: report))
        await client.stop()
    }
}
