import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

/// Issue 23, item 2: an order that never left (the socket was down: `notConnected`, raised
/// before anything is written) is `not_sent`: over, with no exposure, through reconnects,
/// reconciliations and restarts. (Before, it stayed pending, then `unknown`, which counts as
/// exposure until a restart: five refused buys of 100 blocked a 500 limit for good.)
@Suite("Orders that never left are not_sent", .serialized)
struct NotSentOrderTests {
    @Test("five buys sent while the socket is down are not_sent, stay so after the reconnect's reconciliation and a reload")
    func neverSent() async throws {
        let path = temporaryPath("not-sent")
        try await TradingStateTests().withRig(journalPath: path) { rig in
            let (server, client, state) = (rig.server, rig.client, rig.state)
            // The gateway goes away and refuses connections for a while.
            _ = try await server.withEngine { $0.control("restart 2") }
            try await eventually("disconnected") { await !client.isReady }
            var refused = 0
            for id in 9001...9005 {
                do {
                    _ = try await state.submit(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 1.0),
                                               strategy: "t", id: id)
                    Issue.record("order \(id) was sent while the socket was down")
                } catch TWSError.notConnected {
                    refused += 1
                }
            }
            #expect(refused == 5)
            func statuses() async -> [String] {
                await state.snapshot().orders.filter { (9001...9005).contains($0.orderId) }.map(\.status.rawValue)
            }
            let told = await statuses()
            #expect(told == Array(repeating: "not_sent", count: 5), "told at once: \(told)")
            // Reconnected and reconciled: TWS has no trace of them, and they stay not_sent (not
            // `unknown`, which counts as exposure).
            try await client.waitUntilReady(timeout: 15)
            let report = await state.reconcile()
            #expect(report.lostOrders.isEmpty, "\(report.lostOrders)")
            let after = await statuses()
            #expect(after == Array(repeating: "not_sent", count: 5), "after the reconciliation: \(after)")
            let open = await state.snapshot().orders.filter { (9001...9005).contains($0.orderId) && !$0.status.isTerminal }
            #expect(open.isEmpty, "no exposure left: \(open.map(\.status.rawValue))")
            // The journal holds the same (a restart reads them back as not_sent).
            let reloaded = try Journal(path: path).loadOrders(scope: state.scope).filter { (9001...9005).contains($0.orderId) }
            #expect(reloaded.map(\.status.rawValue) == Array(repeating: "not_sent", count: 5))
            #expect(reloaded.allSatisfy { $0.reason.contains("not sent") })
            #expect(try await server.withEngine { engine in engine.orders.count } == 0)
        }
    }
}
