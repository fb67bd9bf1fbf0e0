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
        try await TradingStateTests().withRig(journalPath: temporaryPath("reconcile-timeout"),
                                              client: { $0.requestTimeout = 60 },  // a step waiting this long would outlast the hold below
                                              options: { $0.reconcileTimeout = 1 }, reconcileFirst: false) { rig in
            let (server, state) = (rig.server, rig.state)
            // Reports of orders and executions are kept unanswered for 30 s; each held step
            // must give up after its 1 s, so the reconciliation ends while the hold lasts.
            #expect(try await server.withEngine { $0.control("hold 30") }.hasPrefix("ok"))
            let report = await state.reconcile()
            let holding = try await server.withEngine { engine in Date().timeIntervalSince1970 < engine.faults.holdUntil }
            #expect(holding, "the reconciliation ended before TWS answered: its steps gave up on their own timeout")
            let openOrders = report.unknown.first { $0.hasPrefix("open orders") }
            #expect(openOrders?.contains("within 1.0 s") == true, "\(report.unknown)")
            #expect(!state.tradingAllowed, "an unknown step keeps trading closed")
        }
    }
}
