import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway

/// What a replay must give for a backtest's fills to be met on the paper gateway: the bars a
/// client is sent are the stored ones, and a market order placed when a bar ends meets the
/// next bar's open as it is stored (the backtest's next-open rule). Manual clock: every move
/// is a `step` of a fifth of a 5-second bar, so each lands on a price the bar visits.
@Suite("Replay: bars and fills as stored", .serialized)
struct ReplayFillTests {
    static let start: Int64 = 1_704_205_800  // 2024-01-02 14:30 UTC
    //                    open    high    low     close
    static let prices = [(187.25, 187.40, 187.10, 187.31),
                         (187.33, 187.52, 187.28, 187.47),
                         (187.44, 187.46, 187.02, 187.09),
                         (187.12, 187.20, 186.95, 187.18)]
    static let bars = prices.enumerated().map { index, bar in
        ReplayBar(time: start + Int64(index) * 5, open: bar.0, high: bar.1, low: bar.2, close: bar.3, volume: 400)
    }

    /// A gateway replaying `bars` of `symbol` in 5-second bars, stepping 1 s of market time.
    func withReplay(_ bars: [ReplayBar], symbol: String = "AAPL", spread: Int,
                    _ body: (PaperGatewayServer, TestClient) async throws -> Void) async throws
    {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"
        config.market.tickIntervalMs = 1000
        config.fills.partialFills = false
        config.replay = MarketReplay(bars: [symbol: bars], barSeconds: 5, speed: 1, spreadTicks: spread)
        try await withGateway(config) { server in
            let client = try TestClient(port: server.port)
            try client.start(clientId: 1)
            try await body(server, client)
        }
    }

    func step(_ server: PaperGatewayServer, _ count: Int) async throws {
        try await server.withEngine { engine in for _ in 0..<count { engine.step() } }
    }

    func marketOrder(_ action: String, _ quantity: Double) -> Order {
        var order = Order()
        order.action = action
        order.orderType = "MKT"
        order.totalQuantity = TWSDecimal(approximating: quantity)
        return order
    }

    func fillPrices(_ client: TestClient, count: Int) throws -> [Double] {
        try client.wait(for: "\(count) fills") { $0.compactMap(\.execDetails).count >= count }
            .compactMap(\.execDetails).map(\.execution.price)
    }

    @Test("5-second bars from a replay are the stored bars: the next bar's open does not close the bar before it")
    func barsAsStored() async throws {
        try await withReplay(Self.bars, spread: 0) { server, client in
            try client.send(.reqRealTimeBars(ReqRealTimeBars(reqId: 7, contract: Contract(symbol: "AAPL"), whatToShow: "TRADES", useRTH: false)))
            try client.sync()
            // Four bars of five steps: the step onto a bar's end sends it.
            try await step(server, 20)
            let sent = try client.wait(for: "four bars") { $0.filter { if case .realtimeBar = $0 { true } else { false } }.count >= 4 }
                .compactMap { message -> RealTimeBar? in if case let .realtimeBar(bar) = message { bar } else { nil } }
            #expect(sent.map(\.time) == Self.bars.map(\.time))
            for (bar, stored) in zip(sent, Self.bars) {
                #expect(bar.open == stored.open && bar.high == stored.high && bar.low == stored.low && bar.close == stored.close,
                        "bar at \(bar.time)")
            }
        }
    }

    @Test("a 5-second window without a stored bar is a quiet bar at the last close, not at the next bar's open")
    func quietWindowKeepsTheLastClose() async throws {
        // Bars at 0, 5 and 15 s: nothing is stored for the window at 10 s.
        let gapped = [Self.bars[0], Self.bars[1], ReplayBar(time: Self.start + 15, open: 190.00, high: 190.20, low: 189.90, close: 190.10, volume: 400)]
        try await withReplay(gapped, spread: 0) { server, client in
            try client.send(.reqRealTimeBars(ReqRealTimeBars(reqId: 7, contract: Contract(symbol: "AAPL"), whatToShow: "TRADES", useRTH: false)))
            try client.sync()
            try await step(server, 20)
            let sent = try client.wait(for: "four bars") { $0.filter { if case .realtimeBar = $0 { true } else { false } }.count >= 4 }
                .compactMap { message -> RealTimeBar? in if case let .realtimeBar(bar) = message { bar } else { nil } }
            let quiet = try #require(sent.first { $0.time == Self.start + 10 }, "\(sent.map(\.time))")
            let lastClose = Self.bars[1].close
            #expect(quiet.count == 0 && quiet.volume == TWSDecimal(0), "no trade in the window")
            #expect(quiet.open == lastClose && quiet.high == lastClose && quiet.low == lastClose && quiet.close == lastClose,
                    "the quiet bar is at the last close \(lastClose): \(quiet.open) \(quiet.high) \(quiet.low) \(quiet.close)")
            #expect(sent.first { $0.time == Self.start + 15 }?.open == 190.00, "the next bar opens as stored")
        }
    }

    @Test("at a spread of 0 a market order placed when a bar ends fills at the next bar's open, as stored, both sides")
    func nextOpenFill() async throws {
        try await withReplay(Self.bars, spread: 0) { server, client in
            try await step(server, 5)  // bar 0 ended; bar 1 opens at 187.33
            try client.send(.placeOrder(PlaceOrder(orderId: 1, contract: Contract(symbol: "AAPL"), order: marketOrder("BUY", 100))))
            #expect(try fillPrices(client, count: 1) == [187.33])
            try await step(server, 5)  // bar 2 opens at 187.44
            try client.send(.placeOrder(PlaceOrder(orderId: 2, contract: Contract(symbol: "AAPL"), order: marketOrder("SELL", 100))))
            #expect(try fillPrices(client, count: 2) == [187.33, 187.44])
        }
    }

    @Test("at the default spread a market buy pays a tick above an open on the tick grid, a sell gets a tick below")
    func defaultSpreadPaysIt() async throws {
        try await withReplay(Self.bars, spread: 1) { server, client in
            try await step(server, 5)
            try client.send(.placeOrder(PlaceOrder(orderId: 1, contract: Contract(symbol: "AAPL"), order: marketOrder("BUY", 100))))
            try client.send(.placeOrder(PlaceOrder(orderId: 2, contract: Contract(symbol: "AAPL"), order: marketOrder("SELL", 100))))
            let prices = try fillPrices(client, count: 2)
            #expect(abs(prices[0] - 187.34) < 1e-9 && abs(prices[1] - 187.32) < 1e-9, "\(prices)")
        }
    }

    @Test("a stored forex price off the half-pip grid is quoted and filled as stored (EUR.USD 1.08437), never moved to a tick")
    func forexAsStored() async throws {
        let bars = [ReplayBar(time: Self.start, open: 1.08401, high: 1.08452, low: 1.08390, close: 1.08420, volume: 0),
                    ReplayBar(time: Self.start + 5, open: 1.08437, high: 1.08461, low: 1.08409, close: 1.08452, volume: 0)]
        try await withReplay(bars, symbol: "EUR.USD", spread: 0) { server, client in
            try await step(server, 5)
            var pair = Contract(symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD")
            pair.localSymbol = "EUR.USD"
            try client.send(.placeOrder(PlaceOrder(orderId: 1, contract: pair, order: marketOrder("BUY", 20_000))))
            #expect(try fillPrices(client, count: 1) == [1.08437])
        }
    }
}
