import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TWSProtocol
@testable import PaperGateway

/// The gateway holds against broken or hostile clients on raw sockets: idle sockets, floods,
/// clients that stop reading, and orders IB would refuse.
@Suite("Paper gateway limits against hostile clients", .serialized)
struct GatewayLimitTests {
    func withGateway(_ change: (inout PaperGatewayConfig) -> Void = { _ in }, _ body: (PaperGatewayServer) async throws -> Void) async throws {
        var config = PaperGatewayConfig()
        config.port = 0
        change(&config)
        try await PaperGatewayTests.withGateway(config, body)
    }

    @Test("40 sockets that connect and send nothing hold no client slot, and are closed after the handshake deadline")
    func idleSockets() async throws {
        try await withGateway { server in
            let idle = try (0..<40).map { _ in try TestClient(port: server.port) }
            let real = try TestClient(port: server.port)
            #expect(try real.handshake(clientId: 1) == 200)
            try real.wait(for: "startup") { $0.contains { $0.nextValidId != nil } }
            #expect(idle.allSatisfy { $0.waitForClose(timeout: 8) }, "idle sockets are closed after the handshake deadline")
            let later = try TestClient(port: server.port)
            #expect(try later.handshake(clientId: 2) == 200)
        }
    }

    @Test("a flood of 100,000 requests ends in a disconnect; another client is answered meanwhile")
    func flood() async throws {
        try await withGateway { server in
            let calm = try TestClient(port: server.port)
            try calm.start(clientId: 1)
            let flooder = try TestClient(port: server.port)
            try flooder.handshake(clientId: 2)
            let one = try ClientRequest.reqCurrentTime(ReqCurrentTime()).frame(serverVersion: flooder.serverVersion)
            var burst: [UInt8] = []
            burst.reserveCapacity(one.count * 100_000)
            for _ in 0..<100_000 { burst += one }
            let started = ContinuousClock.now  // monotonic: a paused machine's wall clock jumps
            let fd = flooder.fd
            let bytes = burst
            Thread.detachNewThread {
                var offset = 0
                while offset < bytes.count {
                    let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent <= 0 { break }
                    offset += sent
                }
            }
            try calm.send(.reqCurrentTime(ReqCurrentTime()))
            // Answered while the flood comes (100,000 requests handled first would take far longer
            // than this generous ceiling, which a loaded machine still meets).
            try calm.wait(for: "the calm client's answer", timeout: 10) { $0.contains { if case .currentTime = $0 { true } else { false } } }
            #expect(ContinuousClock.now - started < .seconds(10), "the calm client was not stalled by the flood")
            #expect(flooder.waitForClose(timeout: 10), "a client at ten times the rate is disconnected")
        }
    }

    @Test("a burst past 50 a second gets error 100 once and keeps its connection; requests past twice the rate are dropped")
    func burst() async throws {
        try await withGateway { server in
            let client = try TestClient(port: server.port)
            try client.start(clientId: 1)
            // The burst opens a second of its own (the handshake's messages fall in an earlier
            // one), so the counts are exact: 300 requests arrive in one read, well within it.
            try await Task.sleep(for: .milliseconds(1100))
            let one = try ClientRequest.reqCurrentTime(ReqCurrentTime()).frame(serverVersion: client.serverVersion)
            client.sendRaw(Array((0..<300).map { _ in one }.joined()))
            try client.wait(for: "error 100") { _ in !client.errors(100).isEmpty }
            // The rule is per second: in the next second a request is served again, and its
            // answer comes after every answer to the burst, so counting then counts them all.
            try await Task.sleep(for: .milliseconds(1100))
            try client.sync()
            // The sync is answered with currentTimeInMillis: every currentTime is the burst's.
            #expect(client.serverVersion >= ServerVersion.currentTimeInMillis)
            let answered = client.received.filter { if case .currentTime = $0 { true } else { false } }.count
            #expect(client.errors(100).count == 1, "once a second")
            #expect(answered == 100, "\(answered) of 300 answered: twice the rate (50 within it, 50 past it with the error), the rest dropped")
        }
    }

    @Test("a client that subscribes and stops reading: its market data is dropped, not buffered without bound; others keep theirs")
    func slowReader() async throws {
        try await withGateway({ $0.market.tickIntervalMs = 2 }) { server in
            // The other client connects first: its session is up before the sleeper loads the
            // gateway (connecting during the load raced the gateway's 5 s handshake limit on a
            // busy machine; what is tested is that its quotes keep coming).
            let awake = try TestClient(port: server.port)
            try awake.handshake(clientId: 2)
            try awake.sync()
            let sleeper = try TestClient(port: server.port)
            try sleeper.handshake(clientId: 1)
            for (index, symbol) in ["AAPL", "MSFT", "NVDA", "TSLA", "META", "SPY", "QQQ", "IWM", "AMZN", "GOOGL"].enumerated() {
                for line in 0..<10 {
                    try sleeper.send(.reqMktData(ReqMktData(reqId: 1000 + index * 10 + line, contract: Contract(symbol: symbol))))
                }
            }
            // The sleeper never reads again: once its socket is full, the gateway drops its market
            // data (rather than buffering it without bound).
            try awake.send(.reqMktData(ReqMktData(reqId: 7, contract: Contract(symbol: "AAPL"))))
            let deadline = Date().addingTimeInterval(20)
            var dropped = 0
            while dropped == 0 && Date() < deadline {
                try awake.sync()  // the other client reads meanwhile, as a live one does
                dropped = try await server.withEngine { engine in engine.sessions.values.first { $0.clientId == 1 }?.droppedWhileUnread ?? 0 }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(dropped > 0, "the sleeper's market data is dropped while it does not read")
            // With the sleeper backed up, the other client keeps getting quotes: counted from a
            // sync on (it reads all that came before), then more must arrive.
            try awake.sync()
            var scanned = awake.received.count, more = 0  // each message counted once as it comes
            try awake.wait(for: "more quotes for the client that reads", timeout: 10) { messages in
                while scanned < messages.count {
                    if case let .tickPrice(tick) = messages[scanned], tick.reqId == 7 { more += 1 }
                    scanned += 1
                }
                return more > 5
            }
        }
    }

    @Test("an order for 0.0000001 shares is refused as IB refuses fractional API orders")
    func fractionalOrder() async throws {
        try await withGateway { server in
            let client = try TestClient(port: server.port)
            let id = try client.start(clientId: 1)
            try client.send(.placeOrder(PlaceOrder(orderId: id, contract: Contract(symbol: "AAPL"),
                                                   order: Order(action: "BUY", quantity: TWSDecimal(approximating: 0.0000001), type: "LMT", limit: 100))))
            try client.wait(for: "the refusal") { _ in !client.errors(10243).isEmpty }
            #expect(try await server.withEngine { engine in engine.orders.values.allSatisfy { !$0.isWorking } }, "nothing rests")
        }
    }
}
