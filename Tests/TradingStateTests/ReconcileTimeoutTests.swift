import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

/// `TradingState.Options.reconcileTimeout` bounds each step of a reconciliation, apart from
/// the client's `requestTimeout`.
@Suite("The reconciliation's own step timeout", .serialized)
struct ReconcileTimeoutTests {
    @Test("a step TWS keeps unanswered fails after reconcileTimeout, while the hold still lasts, not after the client's 60 s")
    func stepTimeoutIsTheReconciliations() async throws {
        let path = temporaryPath("reconcile-timeout")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var config = PaperGatewayConfig()
        config.port = 0
        let server = try await PaperGatewayServer.start(config: config)
        let journal = try Journal(path: path)
        var clientConfig = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1)
        clientConfig.requestTimeout = 60  // a step waiting this long would outlast the hold below
        let client = TWSClient(configuration: clientConfig, idStore: journal)
        var options = TradingState.Options()
        options.reconcileTimeout = 1
        let state = try TradingState(client: client, journal: journal, options: options)
        client.start()
        do {
            try await client.waitUntilReady(timeout: 10)
            // Reports of orders and executions are kept unanswered for 30 s; each held step
            // must give up after its 1 s, so the reconciliation ends while the hold lasts.
            #expect(try await server.withEngine { $0.control("hold 30") }.hasPrefix("ok"))
            let report = await state.reconcile()
            let holding = try await server.withEngine { engine in Date().timeIntervalSince1970 < engine.faults.holdUntil }
            #expect(holding, "the reconciliation ended before TWS answered: its steps gave up on their own timeout")
            let openOrders = report.unknown.first { $0.hasPrefix("open orders") }
            #expect(openOrders?.contains("within 1.0 s") == true, "\(report.unknown)")
            #expect(!state.tradingAllowed, "an unknown step keeps trading closed")
        } catch {
            await client.stop()
            try? await server.shutdown()
            throw error
        }
        await client.stop()
        try await server.shutdown()
    }
}
