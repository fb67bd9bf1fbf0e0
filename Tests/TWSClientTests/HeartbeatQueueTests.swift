import Foundation
import NIOConcurrencyHelpers
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient

/// A live connection is never declared dead by our own send queue: orders go ahead of other
/// requests at the client's message rate, and a heartbeat queued behind a burst of them would
/// wait longer than its timeout (the edge-value fuzz saw exactly this: a drop, then trading
/// closed for a reconciliation, on a gateway that answered all along).
@Suite("Client: the heartbeat goes ahead of a burst of orders", .serialized)
struct HeartbeatQueueTests {
    // The timeout (3 s) is well below the queue (8 s), so a heartbeat behind the orders
    // would miss it, and well above what an answer takes on a loaded 2-core machine (a 1 s
    // timeout failed now and then in the full suite).
    @Test("400 orders queued at 50 messages a second (8 s of queue) with a 3 s heartbeat timeout: the connection stays up")
    func heartbeatAheadOfOrders() async throws {
        var gateway = PaperGatewayConfig()
        gateway.port = 0
        gateway.pacing.messageRate = false
        let server = try await PaperGatewayServer.start(config: gateway)
        var config = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 1)
        config.messagesPerSecond = 50
        config.heartbeatInterval = 1
        config.heartbeatTimeout = 3
        config.requestTimeout = 30
        let client = TWSClient(configuration: config)
        let drops = NIOLockedValueBox(0)
        client.observe { event in if case .connectionLost = event { drops.withLockedValue { $0 += 1 } } }
        client.start()
        do {
            try await client.waitUntilReady(timeout: 10)
            let answers = (0..<400).map { _ in
                client.startOrder(orderId: client.reserveIdNow(), contract: Contract(symbol: "AAPL"),
                                  order: Order(action: "BUY", quantity: 1, type: "LMT", limit: 1.0))
            }
            for answer in answers { _ = try await answer.get() }
            #expect(drops.withLockedValue { $0 } == 0, "the client declared the connection dead while its own queue held the heartbeat")
            #expect(try await server.withEngine { $0.orders.count } == 400)
        } catch {
            await client.stop()
            try? await server.shutdown()
            throw error
        }
        await client.stop()
        try await server.shutdown()
    }
}
