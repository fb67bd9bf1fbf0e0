import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway

/// The gateway on a real loopback socket, driven through our own codec.
@Suite("Paper gateway over a socket", .serialized)
struct GatewaySocketTests {
    static func config(_ change: (inout PaperGatewayConfig) -> Void = { _ in }) -> PaperGatewayConfig {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"
        change(&config)
        return config
    }

    static func aapl() -> Contract { Contract(symbol: "AAPL") }

    @Test("startup: managedAccounts, nextValidId and the farm notices")
    func startup() async throws {
        try await withGateway(Self.config()) { server in
            let client = try TestClient(port: server.port)
            #expect(try client.handshake(clientId: 3) == 200)
            try client.wait(for: "farm notices") { _ in client.errors(2158).count == 1 }
            #expect(client.received.contains(.managedAccounts(ManagedAccounts(accountsList: "DU1234567"))))
            #expect(client.received.compactMap(\.nextValidId) == [1])
            #expect(client.errors(2104).count == 1 && client.errors(2106).count == 1)
        }
    }

    @Test("versions: min(client max, 200); below 157 the connection is closed")
    func versions() async throws {
        try await withGateway(Self.config()) { server in
            let modern = try TestClient(port: server.port)
            #expect(try modern.handshake(versions: 100...226, clientId: nil) == 200)
            let asyncLike = try TestClient(port: server.port)
            #expect(try asyncLike.handshake(versions: 157...178, clientId: nil) == 178)
            let old = try TestClient(port: server.port)
            #expect(try old.handshake(versions: 100...156, clientId: nil) == 0)
            #expect(old.waitForClose())
            let stranger = try TestClient(port: server.port)
            stranger.sendRaw(Array("GET / HTTP/1.1\r\n\r\n".utf8))
            #expect(stranger.waitForClose())
        }
    }

    @Test("bad requests get error 320 and the gateway keeps serving every client")
    func badInput() async throws {
        try await withGateway(Self.config()) { server in
            let bad = try TestClient(port: server.port)
            try bad.handshake(clientId: 1)
            let good = try TestClient(port: server.port)
            try good.start(clientId: 2)
            bad.sendRaw(Framing.frame(Array("9999\u{0}1\u{0}".utf8)))  // unknown message id
            bad.sendRaw(Framing.frame(Array("49\u{0}".utf8)))  // reqCurrentTime without its version field
            bad.sendRaw(Framing.frame(Array("49\u{0}1\u{0}extra\u{0}".utf8)))  // a field too many
            try bad.wait(for: "three 320 errors") { _ in bad.errors(320).count == 3 }
            #expect(bad.errors(320)[0].errorString.contains("unknown request message id 9999"))
            #expect(bad.errors(320)[1].errorString.contains("reqCurrentTime: field 'version' is missing"))
            try bad.send(.reqCurrentTime(ReqCurrentTime()))
            try bad.wait(for: "currentTime") { $0.contains { if case .currentTime = $0 { true } else { false } } }
            try good.send(.reqCurrentTime(ReqCurrentTime()))
            try good.wait(for: "currentTime") { $0.contains { if case .currentTime = $0 { true } else { false } } }
            // A length over 16 MiB - 1 is not recoverable: that connection closes, the other lives.
            bad.sendRaw([0x7F, 0xFF, 0xFF, 0xFF])
            #expect(bad.waitForClose())
            try good.send(.reqIds(ReqIds(numIds: 1)))
            try good.wait(for: "nextValidId again") { $0.compactMap(\.nextValidId).count == 2 }
        }
    }

    @Test("a duplicate client id gets 326 and is closed; at most max_clients connect")
    func clientLimits() async throws {
        try await withGateway(Self.config { $0.maxClients = 3 }) { server in
            let first = try TestClient(port: server.port)
            try first.start(clientId: 5)
            let twin = try TestClient(port: server.port)
            try twin.handshake(clientId: 5)
            #expect(twin.waitForClose())
            #expect(twin.errors(326).count == 1)
            let others = try (0..<2).map { _ in try TestClient(port: server.port) }
            for (index, other) in others.enumerated() { try other.handshake(clientId: 10 + index) }
            let extra = try TestClient(port: server.port)
            try extra.handshake(clientId: 99)
            #expect(extra.waitForClose())
            #expect(extra.errors(502).count == 1, "refused with IB's 'couldn't connect' error")
        }
    }

    @Test("orders, fills and ids survive a gateway restart with a state file")
    func stateFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-state-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = Self.config {
            $0.stateFile = path
            $0.fills.partialFills = false
        }
        var fill: ExecDetails?
        try await withGateway(config) { server in
            let client = try TestClient(port: server.port)
            try client.handshake(clientId: 4)
            try client.wait(for: "nextValidId") { $0.contains { $0.nextValidId != nil } }
            try client.send(.placeOrder(PlaceOrder(orderId: 7, contract: Self.aapl(), order: Order(action: "BUY", quantity: 50, type: "MKT"))))
            try client.send(.placeOrder(PlaceOrder(orderId: 8, contract: Self.aapl(), order: Order(action: "BUY", quantity: 10, type: "LMT", limit: 1.0, tif: "GTC"))))
            try client.wait(for: "a fill") { $0.contains { $0.execDetails != nil } }
            try client.wait(for: "the resting order") { $0.contains { $0.orderStatus?.orderId == 8 && $0.orderStatus?.status == "Submitted" } }
            fill = client.received.compactMap(\.execDetails).first
        }
        #expect(fill != nil)
        // A new process on the same file.
        try await withGateway(config) { server in
            let client = try TestClient(port: server.port)
            try client.handshake(clientId: 4)
            try client.wait(for: "nextValidId") { $0.contains { $0.nextValidId != nil } }
            #expect(client.received.compactMap(\.nextValidId).first == 9)
            try client.send(.reqPositions(ReqPositions()))
            try client.wait(for: "positionEnd") { $0.contains { if case .positionEnd = $0 { true } else { false } } }
            let position = try #require(client.received.compactMap(\.position).first)
            #expect(position.position == 50 && position.contract.symbol == "AAPL")
            try client.send(.reqExecutions(ReqExecutions(reqId: 3)))
            try client.wait(for: "execDetailsEnd") { $0.contains { if case .execDetailsEnd = $0 { true } else { false } } }
            let replayed = client.received.compactMap(\.execDetails)
            #expect(replayed.map(\.execution.execId) == [fill?.execution.execId])
            try client.send(.reqOpenOrders(ReqOpenOrders()))
            try client.wait(for: "openOrderEnd") { $0.contains { if case .openOrderEnd = $0 { true } else { false } } }
            #expect(client.received.contains { $0.orderStatus?.orderId == 8 && $0.orderStatus?.status == "Submitted" })
            // An order id at or below one already used is a duplicate (103).
            try client.send(.placeOrder(PlaceOrder(orderId: 7, contract: Self.aapl(), order: Order(action: "BUY", quantity: 1, type: "MKT"))))
            try client.wait(for: "error 104 (modifying the filled order 7)") { _ in !client.errors(104).isEmpty }
        }
    }

    @Test("faults: 1100 then 1101 drops subscriptions, 1102 keeps them; reject-next")
    func faults() async throws {
        try await withGateway(Self.config()) { server in
            let client = try TestClient(port: server.port)
            try client.start(clientId: 9)
            try client.send(.reqMktData(ReqMktData(reqId: 1, contract: Self.aapl())))
            try client.wait(for: "ticks") { $0.contains { if case .tickPrice = $0 { true } else { false } } }
            #expect(try await server.withEngine { $0.control("outage 1102 0.1") } == "ok outage 1102 after 0.1")
            try client.wait(for: "1102") { _ in !client.errors(1102).isEmpty }
            #expect(client.errors(1100).count == 1)
            #expect(try await server.withEngine { engine in engine.sessions.values.first!.marketData.count } == 1)
            _ = try await server.withEngine { $0.control("outage 1101 0.1") }
            try client.wait(for: "1101") { _ in !client.errors(1101).isEmpty }
            #expect(try await server.withEngine { engine in engine.sessions.values.first!.marketData.count } == 0)
            #expect(try await server.withEngine { $0.control("reject-next Margin") } == "ok reject-next")
            try client.send(.placeOrder(PlaceOrder(orderId: 1, contract: Self.aapl(), order: Order(action: "BUY", quantity: 1, type: "MKT"))))
            try client.wait(for: "201") { _ in !client.errors(201).isEmpty }
            #expect(client.errors(201)[0].errorString == "Order rejected - reason:Margin")
            #expect(try await server.withEngine { $0.control("bogus") }.hasPrefix("error unknown command 'bogus'"))
        }
    }
}
