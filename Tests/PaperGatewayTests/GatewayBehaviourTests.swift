import Foundation
import NIOCore
import Testing
import TWSProtocol
@testable import PaperGateway

/// What a client sees from the gateway's market, orders and account (manual clock: every
/// quote move is a `step`, so nothing here depends on timing).
@Suite("Paper gateway behaviour", .serialized)
struct GatewayBehaviourTests {
    func withClient(_ change: (inout PaperGatewayConfig) -> Void = { _ in },
                    _ body: (PaperGatewayServer, TestClient) async throws -> Void) async throws
    {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"
        change(&config)
        let server = try await PaperGatewayServer.start(config: config)
        do {
            let client = try TestClient(port: server.port)
            try client.start(clientId: 1)
            try await body(server, client)
        } catch {
            try? await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    func control(_ server: PaperGatewayServer, _ command: String) async throws -> String {
        try await server.withEngine { $0.control(command) }
    }

    func place(_ client: TestClient, _ id: Int, _ order: Order, symbol: String = "AAPL") throws {
        try client.send(.placeOrder(PlaceOrder(orderId: id, contract: Contract(symbol: symbol), order: order)))
    }

    func statuses(_ client: TestClient, _ id: Int) -> [String] {
        client.received.compactMap { $0.orderStatus }.filter { $0.orderId == id }.map(\.status)
    }

    @Test("market data: params and type first, sizes repeated, delayed ticks, snapshots, line limit")
    func marketData() async throws {
        try await withClient({ $0.pacing.maxMarketDataLines = 2 }) { server, client in
            try client.send(.reqMktData(ReqMktData(reqId: 1, contract: Contract(symbol: "AAPL"), genericTickList: "233,236")))
            try client.wait(for: "first ticks") { $0.contains { if case let .tickPrice(t) = $0 { t.tickType == 14 } else { false } } }
            guard case .tickReqParams = client.received.first(where: { if case .tickReqParams = $0 { true } else { false } }) else {
                Issue.record("no tickReqParams"); return
            }
            let bid = client.received.compactMap { if case let .tickPrice(t) = $0, t.tickType == 1 { t } else { nil } }.first!
            #expect(client.received.contains(.tickSize(TickSize(reqId: 1, tickType: 0, size: bid.size))))
            #expect(client.received.contains { if case let .tickGeneric(g) = $0 { g.tickType == 46 } else { false } })

            try client.send(.reqMarketDataType(ReqMarketDataType(marketDataType: 3)))
            try client.send(.reqMktData(ReqMktData(reqId: 2, contract: Contract(symbol: "MSFT"))))
            try client.wait(for: "delayed ticks") { $0.contains { if case let .tickPrice(t) = $0 { t.reqId == 2 && t.tickType == 66 } else { false } } }
            #expect(client.received.contains(.marketDataType(MarketDataType(reqId: 2, marketDataType: 3))))
            try client.sync()  // everything the gateway sent by now has been read
            #expect(!client.received.contains { if case let .tickPrice(t) = $0 { t.reqId == 2 && t.tickType == 1 } else { false } })

            try client.send(.reqMktData(ReqMktData(reqId: 3, contract: Contract(symbol: "SPY"))))
            try client.wait(for: "101") { _ in !client.errors(101).isEmpty }
            try client.send(.reqMktData(ReqMktData(reqId: 4, contract: Contract(symbol: "SPY"), snapshot: true)))
            try client.wait(for: "tickSnapshotEnd") { $0.contains(.tickSnapshotEnd(TickSnapshotEnd(reqId: 4))) }
            try client.send(.reqMktData(ReqMktData(reqId: 5, contract: Contract(symbol: "NOPE"), snapshot: true)))
            try client.wait(for: "200") { _ in !client.errors(200).isEmpty }

            let before = client.received.count
            _ = try await control(server, "step 3")
            try client.wait(for: "updates after steps") { $0.count > before }
            try client.send(.cancelMktData(CancelMktData(reqId: 9)))
            try client.wait(for: "300") { _ in !client.errors(300).isEmpty }
        }
    }

    @Test("rejections: zero size 434, off-tick 110, unknown type 201, unknown cancel 10147")
    func rejections() async throws {
        try await withClient { _, client in
            try place(client, 1, Order(action: "BUY", quantity: 0, type: "MKT"))
            try place(client, 2, Order(action: "BUY", quantity: 10, type: "LMT", limit: 187.123))
            try place(client, 3, Order(action: "BUY", quantity: 10, type: "TRAIL"))
            try place(client, 4, Order(action: "BUY", quantity: 10, type: "LMT"))
            try client.send(.cancelOrder(CancelOrder(orderId: 77)))
            try client.wait(for: "all rejections") { _ in !client.errors(10147).isEmpty && client.errors(201).count == 2 }
            #expect(client.errors(434).map(\.reqId) == [1])
            #expect(client.errors(110).map(\.reqId) == [2])
            #expect(client.errors(201).map(\.reqId) == [3, 4])
            #expect(client.errors(201)[0].errorString.contains("TRAIL"))
            #expect(statuses(client, 1) == ["Inactive"])
            try place(client, 4, Order(action: "BUY", quantity: 10, type: "MKT"))
            try client.wait(for: "103") { _ in !client.errors(103).isEmpty }
        }
    }

    @Test("LMT rests then fills when the market crosses; modify; partial fills; STP triggers")
    func fills() async throws {
        try await withClient { server, client in
            _ = try await control(server, "price AAPL 100")
            try place(client, 1, Order(action: "BUY", quantity: 100, type: "LMT", limit: 99.00))
            try client.wait(for: "Submitted") { _ in statuses(client, 1).contains("Submitted") }
            _ = try await control(server, "price AAPL 99.50")
            try client.sync()  // read what the gateway sent before asserting it sent no fill
            #expect(!statuses(client, 1).contains("Filled"))
            try place(client, 1, Order(action: "BUY", quantity: 100, type: "LMT", limit: 99.60))  // modify: now marketable
            try client.wait(for: "Filled") { _ in statuses(client, 1).contains("Filled") }
            let fill = try #require(client.received.compactMap(\.execDetails).first)
            #expect(fill.execution.price <= 99.60 && fill.execution.side == "BOT" && fill.reqId == -1)

            try place(client, 2, Order(action: "SELL", quantity: 100, type: "STP", stop: 98.00))
            try client.wait(for: "PreSubmitted") { _ in statuses(client, 2).contains("PreSubmitted") }
            _ = try await control(server, "price AAPL 98.50")
            try client.sync()  // read what the gateway sent before asserting it sent no fill
            #expect(!statuses(client, 2).contains("Filled"))
            _ = try await control(server, "price AAPL 97.90")
            try client.wait(for: "stop filled") { _ in statuses(client, 2).contains("Filled") }

            try place(client, 3, Order(action: "BUY", quantity: 5000, type: "MKT"))
            for _ in 0..<40 { _ = try await control(server, "step 1") }
            try client.wait(for: "big order filled") { _ in statuses(client, 3).contains("Filled") }
            let parts = client.received.compactMap(\.execDetails).filter { $0.execution.orderId == 3 }
            #expect(parts.count > 1, "5000 shares exceed the displayed size: several fills")
            #expect(parts.last?.execution.cumQty == 5000)
            // Modifying a filled order is 104.
            try place(client, 3, Order(action: "BUY", quantity: 6000, type: "MKT"))
            try client.wait(for: "104") { _ in !client.errors(104).isEmpty }
        }
    }

    @Test("an order larger than the displayed size fills once per move of its own instrument, not of any instrument")
    func partialFillsFollowTheirOwnQuote() async throws {
        try await withClient({
            $0.market.tickIntervalMs = 100
            $0.instruments = Array(Instrument.defaultUniverse.prefix(10))  // the realtime clock moves one every 10 ms
        }) { server, client in
            let start = NIODeadline.now()
            func fills() async throws -> Int {
                try await server.withEngine { engine in engine.executions.filter { $0.execution.orderId == 7 }.count }
            }
            func advance(ms: Int64) async throws {
                try await server.withEngine { engine in engine.advanceRealtimeClock(to: start + .milliseconds(ms)) }
            }
            try await advance(ms: 0)
            // At most 12 lots show on a side: 1,000,000 shares stay working for the whole test.
            try place(client, 7, Order(action: "BUY", quantity: 1_000_000, type: "MKT"))
            try client.wait(for: "the first part") { _ in !client.received.compactMap(\.execDetails).isEmpty }
            let onArrival = try await fills()
            #expect(onArrival == 1, "it meets the quote it arrived at once")
            for round in 1...3 {
                // One interval: each of the ten instruments moves once, AAPL among them.
                try await advance(ms: Int64(round) * 100)
                #expect(try await fills() == onArrival + round, "round \(round): one more part per move of AAPL's quote")
            }
            #expect(statuses(client, 7).last != "Filled")
        }
    }

    @Test("a bracket: the parent waits for its child to transmit; the fill releases the exits; OCA cancels the other")
    func bracket() async throws {
        try await withClient { server, client in
            _ = try await control(server, "price AAPL 100")
            var parent = Order(action: "BUY", quantity: 100, type: "LMT", limit: 100.5)
            parent.transmit = false
            var takeProfit = Order(action: "SELL", quantity: 100, type: "LMT", limit: 105)
            takeProfit.parentId = 1
            takeProfit.transmit = false
            takeProfit.ocaGroup = "exit"
            var stopLoss = Order(action: "SELL", quantity: 100, type: "STP", stop: 95)
            stopLoss.parentId = 1
            stopLoss.ocaGroup = "exit"
            try place(client, 1, parent)
            try place(client, 2, takeProfit)
            try client.wait(for: "staged") { _ in statuses(client, 2).contains("PreSubmitted") }
            try client.sync()  // read what the gateway sent before asserting it sent no fill
            #expect(!statuses(client, 1).contains("Filled"))
            try place(client, 3, stopLoss)  // transmits the family
            try client.wait(for: "parent filled") { _ in statuses(client, 1).contains("Filled") }
            try client.wait(for: "take-profit working") { _ in statuses(client, 2).contains("Submitted") }
            _ = try await control(server, "price AAPL 105.50")
            try client.wait(for: "take-profit filled") { _ in statuses(client, 2).contains("Filled") }
            try client.wait(for: "stop cancelled by OCA") { _ in statuses(client, 3).contains("Cancelled") }
            try client.send(.reqCompletedOrders(ReqCompletedOrders(apiOnly: false)))
            try client.wait(for: "completedOrdersEnd") { $0.contains(.completedOrdersEnd(CompletedOrdersEnd())) }
            let completed = client.received.compactMap { if case let .completedOrder(c) = $0 { c } else { nil } }
            #expect(completed.map(\.orderState.status).sorted() == ["Cancelled", "Filled", "Filled"])
            try client.send(.reqPositions(ReqPositions()))
            try client.wait(for: "positionEnd") { $0.contains(.positionEnd(PositionEnd())) }
            #expect(client.received.compactMap(\.position).last?.position == 0)
            try client.send(.reqPnL(ReqPnL(reqId: 5, account: "DU1234567")))
            try client.wait(for: "pnl") { $0.contains { if case .pnl = $0 { true } else { false } } }
            guard case let .pnl(pnl) = client.received.last(where: { if case .pnl = $0 { true } else { false } })! else { return }
            #expect((pnl.realizedPnL ?? 0) > 400, "bought near 100.5, sold near 105.5, less commissions")
        }
    }

    @Test("history: bars then historicalDataEnd; keepUpToDate updates, at any hour; bad requests named")
    func history() async throws {
        try await withClient { server, client in
            // An hour inside the regular session (the history keeps trading hours).
            try client.send(.reqHistoricalData(ReqHistoricalData(reqId: 4, contract: Contract(symbol: "AAPL"), endDateTime: "20260106 15:00:00 US/Eastern",
                                                                 durationStr: "3600 S", barSizeSetting: "5 mins")))
            try client.wait(for: "historicalDataEnd") { $0.contains { if case .historicalDataEnd = $0 { true } else { false } } }
            guard case let .historicalData(data) = client.received.first(where: { if case .historicalData = $0 { true } else { false } })! else { return }
            #expect(data.bars.count == 12)
            // Live updates follow the live market, which moves at night and on weekends too,
            // even when the last hour holds no history.
            try client.send(.reqHistoricalData(ReqHistoricalData(reqId: 1, contract: Contract(symbol: "AAPL"), durationStr: "3600 S",
                                                                 barSizeSetting: "5 mins", keepUpToDate: true)))
            try client.wait(for: "historicalDataEnd") { $0.filter { if case .historicalDataEnd = $0 { true } else { false } }.count == 2 }
            _ = try await control(server, "step 2")
            try client.wait(for: "historicalDataUpdate") { $0.contains { if case .historicalDataUpdate = $0 { true } else { false } } }
            try client.send(.reqHistoricalData(ReqHistoricalData(reqId: 2, contract: Contract(symbol: "AAPL"), durationStr: "1 D",
                                                                 barSizeSetting: "7 mins")))
            try client.send(.reqHistoricalData(ReqHistoricalData(reqId: 3, contract: Contract(symbol: "AAPL"), endDateTime: "tomorrow",
                                                                 durationStr: "1 D", barSizeSetting: "1 min")))
            try client.wait(for: "errors") { _ in !client.errors(321).isEmpty && !client.errors(10314).isEmpty }
            #expect(client.errors(321)[0].errorString.contains("7 mins"))
        }
    }

    @Test("account updates, summary and the multi variants reflect a fill")
    func account() async throws {
        try await withClient { server, client in
            _ = try await control(server, "price MSFT 400")
            try client.send(.reqAccountUpdates(ReqAccountUpdates(subscribe: true, acctCode: "DU1234567")))
            try client.wait(for: "accountDownloadEnd") { $0.contains(.accountDownloadEnd(AccountDownloadEnd(accountName: "DU1234567"))) }
            try place(client, 1, Order(action: "BUY", quantity: 10, type: "MKT"), symbol: "MSFT")
            try client.wait(for: "portfolio update") { $0.contains { if case let .updatePortfolio(p) = $0 { p.contract.symbol == "MSFT" } else { false } } }
            try client.send(.reqAccountSummary(ReqAccountSummary(reqId: 4, tags: "NetLiquidation,TotalCashValue,Leverage")))
            try client.wait(for: "summary end") { $0.contains(.accountSummaryEnd(AccountSummaryEnd(reqId: 4))) }
            let summary = client.received.compactMap { if case let .accountSummary(s) = $0, s.reqId == 4 { s } else { nil } }
            #expect(Set(summary.map(\.tag)) == ["NetLiquidation", "TotalCashValue", "Leverage"])
            let cash = Double(summary.first { $0.tag == "TotalCashValue" }!.value)!
            #expect(cash < 1_000_000 - 3990 && cash > 1_000_000 - 4020)
            try client.send(.reqPositionsMulti(ReqPositionsMulti(reqId: 6, account: "DU1234567")))
            try client.send(.reqAccountUpdatesMulti(ReqAccountUpdatesMulti(reqId: 7, account: "DU1234567")))
            try client.wait(for: "multi ends") {
                $0.contains(.positionMultiEnd(PositionMultiEnd(reqId: 6))) && $0.contains(.accountUpdateMultiEnd(AccountUpdateMultiEnd(reqId: 7)))
            }
            try client.send(.reqAccountUpdates(ReqAccountUpdates(subscribe: true, acctCode: "DU9999999")))
            try client.wait(for: "unknown account") { _ in !client.errors(321).isEmpty }
        }
    }
}
