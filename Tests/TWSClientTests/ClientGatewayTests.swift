import Foundation
import NIOCore
import NIOPosix
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient

/// Collects what a handler receives, for tests.
final class Collector<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }

    func wait(_ what: String, timeout: Double = 15, _ predicate: ([T]) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate(all) {
            guard Date() < deadline else { throw WaitTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

typealias TWSClientQuote = MarketQuote

struct WaitTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

final class MemoryIdStore: IdStore, @unchecked Sendable {
    private let lock = NSLock()
    private var highest: Int
    init(highest: Int = 0) { self.highest = highest }
    func highestUsedId() -> Int { lock.lock(); defer { lock.unlock() }; return highest }
    func recordUsedId(_ id: Int) { lock.lock(); highest = max(highest, id); lock.unlock() }
}

@Suite("TWSClient against the paper gateway (real sockets)", .serialized)
struct ClientGatewayTests {
    static func gatewayConfig(_ change: (inout PaperGatewayConfig) -> Void = { _ in }) -> PaperGatewayConfig {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.tickIntervalMs = 50
        change(&config)
        return config
    }

    static func clientConfig(port: Int, clientId: Int = 1) -> TWSClientConfiguration {
        var config = TWSClientConfiguration(host: "127.0.0.1", port: port, clientId: clientId)
        config.reconnect.backoffBase = 0.1
        config.reconnect.backoffCap = 0.5
        config.reconnect.duplicateClientIdDelay = 0.3
        config.requestTimeout = 5
        return config
    }

    func withGateway(_ config: PaperGatewayConfig = gatewayConfig(), _ body: (PaperGatewayServer) async throws -> Void) async throws {
        let server = try await PaperGatewayServer.start(config: config)
        do { try await body(server) } catch {
            try? await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    func control(_ server: PaperGatewayServer, _ command: String) async throws -> String {
        try await server.withEngine { $0.control(command) }
    }

    @Test("connects, answers requests, and names TWS's errors")
    func requests() async throws {
        try await withGateway { server in
            let client = TWSClient(configuration: Self.clientConfig(port: server.port))
            client.start()
            try await client.waitUntilReady(timeout: 10)
            let details = try await client.contractDetails(Contract(symbol: "AAPL"))
            #expect(details.map(\.contract.conId) == [265598])
            await #expect(throws: TWSError.ib(code: 200, message: "No security definition has been found for the request", advancedOrderRejectJson: "")) {
                try await client.contractDetails(Contract(symbol: "NOPE"))
            }
            #expect(try await client.currentTime() > 1_700_000_000)
            let summary = try await client.accountSummary(tags: ["NetLiquidation"])
            #expect(summary.first?.tag == "NetLiquidation")
            let id = try await client.placeOrder(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 10, type: "LMT", limit: 1.0))
            let open = try await client.openOrders()
            #expect(open.map(\.openOrder.order.orderId) == [id])
            try await client.cancelOrder(id: id)
            await #expect(throws: TWSError.self) { try await client.cancelOrder(id: 999_999) }
            await #expect(throws: TWSError.ib(code: 434, message: "The order size cannot be zero", advancedOrderRejectJson: "")) {
                _ = try await client.placeOrder(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 0, type: "MKT"))
            }
            let fill = try await client.placeOrder(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 10, type: "MKT"))
            // The execution and its commission report come after the order's acknowledgement:
            // asked until they are there (bounded), not after a sleep that hopes they came.
            var executions = try await client.executions()
            let deadline = ContinuousClock.now + .seconds(10)
            while !executions.contains(where: { $0.details.execution.orderId == fill && $0.commission != nil }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                executions = try await client.executions()
            }
            #expect(executions.contains { $0.details.execution.orderId == fill && $0.commission != nil })
            #expect(try await client.positions().first?.position == 10)
            await client.stop()
        }
    }

    @Test("a request TWS never answers ends in a typed timeout")
    func timeout() async throws {
        try await withGateway { server in
            var config = Self.clientConfig(port: server.port)
            config.requestTimeout = 0.5
            let client = TWSClient(configuration: config)
            client.start()
            try await client.waitUntilReady(timeout: 10)
            _ = try await control(server, "hang 3")
            await #expect(throws: TWSError.timeout(request: "reqContractDetails", seconds: 0.5)) {
                try await client.contractDetails(Contract(symbol: "AAPL"))
            }
            await client.stop()
        }
    }

    @Test("quotes resume after a dropped connection, after 1100→1101 and after 1100→1102")
    func quotesResume() async throws {
        try await withGateway { server in
            let client = TWSClient(configuration: Self.clientConfig(port: server.port))
            let events = Collector<String>()
            client.observe { event in
                switch event {
                case .ready(_, _, _, let restored): events.add(restored ? "restored" : "ready")
                case .connectionLost: events.add("lost")
                case let .connectivity(code, _): events.add(String(code))
                default: break
                }
            }
            client.start()
            try await client.waitUntilReady(timeout: 10)
            let quotes = Collector<TWSClientQuote>()
            _ = try await client.subscribeQuotes(Contract(symbol: "MSFT")) { event in
                if case let .quote(quote) = event { quotes.add(quote) }
            }
            try await quotes.wait("first quotes") { $0.count >= 3 }

            _ = try await control(server, "drop")
            try await events.wait("reconnected") { $0.contains("restored") }
            var seen = quotes.all.count
            try await quotes.wait("quotes after the drop") { $0.count > seen + 3 && !$0.last!.stale }
            #expect(events.all.prefix(3) == ["ready", "lost", "restored"])

            _ = try await control(server, "outage 1101 0.3")
            try await events.wait("1101") { $0.contains("1101") }
            seen = quotes.all.count
            try await quotes.wait("quotes after 1101") { $0.count > seen + 3 }

            _ = try await control(server, "outage 1102 0.3")
            try await events.wait("1102") { $0.contains("1102") }
            seen = quotes.all.count
            try await quotes.wait("quotes after 1102") { $0.count > seen + 3 }
            #expect(quotes.all.contains { $0.stale }, "quotes are marked stale while the link is down")
            await client.stop()
        }
    }

    @Test("a connection whose socket stays up but that no longer answers is detected by the heartbeat and replaced")
    func heartbeat() async throws {
        try await withGateway { server in
            var config = Self.clientConfig(port: server.port)
            config.heartbeatInterval = 0.2
            config.heartbeatTimeout = 0.3
            let client = TWSClient(configuration: config)
            let events = Collector<String>()
            client.observe { event in
                switch event {
                case .ready(_, _, _, let restored): events.add(restored ? "restored" : "ready")
                case .connectionLost: events.add("lost")
                default: break
                }
            }
            client.start()
            try await client.waitUntilReady(timeout: 10)
            _ = try await control(server, "hang 1")
            try await events.wait("the dead connection noticed") { $0.contains("lost") }
            // The hang ends at the gateway's own deadline; a heartbeat it ignored just before is
            // declared lost up to heartbeatTimeout later (a connection made during the hang can
            // be lost again). Past both, with the last event a restored connection, TWS answers.
            let hangEnds = try await server.withEngine { $0.faults.hangUntil }
            try await events.wait("the hang over, its last ignored heartbeat timed out, a working connection again") {
                Date().timeIntervalSince1970 > hangEnds + config.heartbeatTimeout && $0.last == "restored"
            }
            try await client.waitUntilReady(timeout: 10)
            #expect(try await client.currentTime() > 0)
            let lost = events.all.filter { $0 == "lost" }.count
            // Once TWS answers again, the connection stays. Absence over a window, so a sleep:
            // five heartbeat rounds, each answered within its timeout, or a "lost" shows. The
            // round trip after it proves the connection answers and that the client has read
            // (and acted on) all that came before the count.
            try await Task.sleep(for: .milliseconds(Int(5 * config.heartbeatInterval * 1000 + config.heartbeatTimeout * 1000)))
            #expect(try await client.currentTime() > 0)
            #expect(events.all.filter { $0 == "lost" }.count == lost, "\(events.all)")
            await client.stop()
        }
    }

    @Test("326: the client waits and gets its client id once it is free")
    func duplicateClientId() async throws {
        try await withGateway { server in
            let impostor = TWSClient(configuration: Self.clientConfig(port: server.port, clientId: 7))
            impostor.start()
            try await impostor.waitUntilReady(timeout: 10)
            let client = TWSClient(configuration: Self.clientConfig(port: server.port, clientId: 7))
            let errors = Collector<Int>()
            client.observe { if case let .error(_, code, _, _) = $0 { errors.add(code) } }
            client.start()
            try await errors.wait("326") { $0.contains(326) }
            #expect(await !client.isReady)
            await impostor.stop()
            try await client.waitUntilReady(timeout: 10)
            await client.stop()
        }
    }

    @Test("a silent server: the handshake times out with a message about TWS's accept dialog")
    func handshakeTimeout() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        var config = Self.clientConfig(port: silent.localAddress!.port!)
        config.handshakeTimeout = 0.3
        let client = TWSClient(configuration: config)
        let failures = Collector<TWSError>()
        client.observe { if case let .failure(error) = $0 { failures.add(error) } }
        client.start()
        try await failures.wait("handshake timeout") { !$0.isEmpty }
        #expect("\(failures.all[0])".contains("Accept incoming connection"))
        await client.stop()
        try await silent.close()
        try await group.shutdownGracefully()
    }

    @Test("a gateway restart that rolls ids back cannot make the client reuse one")
    func idRollback() async throws {
        let store = MemoryIdStore()
        var port = 0
        try await withGateway { server in
            port = server.port
            let client = TWSClient(configuration: Self.clientConfig(port: port), idStore: store)
            client.start()
            try await client.waitUntilReady(timeout: 10)
            for _ in 0..<5 { _ = try await client.contractDetails(Contract(symbol: "AAPL")) }
            _ = try await client.placeOrder(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 1, type: "LMT", limit: 1))
            await client.stop()
        }
        let highest = store.highestUsedId()
        #expect(highest >= 6)
        // A fresh gateway (no state file) says nextValidId 1 again.
        try await withGateway(Self.gatewayConfig { $0.port = port }) { server in
            let client = TWSClient(configuration: Self.clientConfig(port: server.port), idStore: store)
            client.start()
            try await client.waitUntilReady(timeout: 10)
            let id = try await client.placeOrder(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 1, type: "LMT", limit: 1))
            #expect(id > highest)
            await client.stop()
        }
    }

    @Test("70 history requests in a burst all complete; not one 162 reaches the caller")
    func pacing() async throws {
        try await withGateway(Self.gatewayConfig { $0.pacing.historicalWindowSeconds = 4 }) { server in
            var config = Self.clientConfig(port: server.port)
            config.historicalPacingWindow = 4
            config.requestTimeout = 60
            let violations = Collector<Int>()
            let client = TWSClient(configuration: config)
            client.observe { if case let .error(_, code, _, _) = $0, code == 162 { violations.add(code) } }
            client.start()
            try await client.waitUntilReady(timeout: 10)
            let symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "SPY", "QQQ", "IWM"]
            let started = Date()
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<70 {
                    group.addTask {
                        // Ending inside a session (2024-01-03 11:00 New York): history keeps trading hours.
                        let bars = try await client.historicalBars(Contract(symbol: symbols[index % 10]), end: "20240103-16:00:00",
                                                                   duration: "\(600 + index) S", barSize: "30 secs")  // small bars: IB's pacing applies
                        return bars.count
                    }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            #expect(counts.count == 70 && counts.allSatisfy { $0 >= 10 })
            #expect(Date().timeIntervalSince(started) >= 3, "the 61st request had to wait for the window")
            #expect(violations.all.isEmpty, "the client scheduled every request within IB's rules")
            await client.stop()
        }
    }

    @Test("long spans are split into requests IB accepts and joined")
    func longHistory() async throws {
        try await withGateway(Self.gatewayConfig { $0.pacing.historical = false }) { server in
            let client = TWSClient(configuration: Self.clientConfig(port: server.port))
            client.start()
            try await client.waitUntilReady(timeout: 10)
            // Five days to Saturday 2024-01-06 00:00 UTC (Friday 19:00 New York) in 1-minute
            // bars, in requests of 2,000 bars: Monday to Friday 04:00-20:00 New York (the
            // paper history keeps trading hours), the last day to 19:00.
            let bars = try await client.historicalBars(Contract(symbol: "AAPL"), end: "20240106-00:00:00", duration: "5 D", barSize: "1 min")
            let dates = bars.map(\.date)
            #expect(Set(dates).count == bars.count)
            #expect(dates == dates.sorted())
            #expect(bars.count >= 4 * 960 + 900, "\(bars.count) bars from \(dates.first ?? "") to \(dates.last ?? "")")
            await client.stop()
        }
    }
}
