import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway

/// Every request type the gateway serves, sent over a real loopback socket with each field in
/// turn replaced by an edge value (NaN, ±inf, -0, 1e300, ±2^63, Int.max, 2^31, empty, a
/// 100 KB string, NUL, control characters, absurd durations and dates). The gateway must
/// answer each, at worst with an error, and go on serving that connection: a trap here takes
/// the whole test process down, which is the failure this test exists to show.
///
/// The fields are replaced on the wire (the frame is split at its NULs), so the test needs no
/// knowledge of any layout and covers a field added tomorrow; the request types come from
/// `ClientRequest.allTypes`, and a type without a sample below fails `everyTypeHasASample`.
@Suite("Paper gateway: edge values in every field of every request", .serialized)
struct GatewayEdgeValueFuzzTests {
    /// Stands for a fresh id in the samples: each mutated frame gets a new one there (unless
    /// that is the field under attack), so orders and subscriptions are new, not duplicates.
    static let freshId = 424_242

    static let aapl: Contract = {
        var contract = Contract(symbol: "AAPL", primaryExchange: "NASDAQ")
        contract.conId = 265598
        return contract
    }()

    /// A normal request of each type, by IB's name: what the fields of the fuzzed frames start
    /// from (several for placeOrder, whose validation branches on the order type).
    static let samples: [String: [ClientRequest]] = {
        let id = freshId
        var bracketChild = Order(action: "SELL", quantity: 100, type: "STP", stop: 150)
        bracketChild.parentId = 1
        var trail = Order(action: "SELL", quantity: 100, type: "TRAIL")
        trail.trailingPercent = 1.5
        var execFilter = ExecutionFilter()
        execFilter.time = "20240102-14:30:00"
        execFilter.symbol = "AAPL"
        execFilter.lastNDays = 3
        execFilter.specificDates = [20240102]
        var oca = Order(action: "BUY", quantity: 100, type: "LMT", limit: 150, tif: "GTC")
        oca.ocaGroup = "g"
        oca.ocaType = 1
        return [
            "startApi": [.startAPI(StartAPI(clientId: 77, optionalCapabilities: ""))],
            "reqIds": [.reqIds(ReqIds(numIds: 1))],
            "reqCurrentTime": [.reqCurrentTime(ReqCurrentTime())],
            "reqCurrentTimeInMillis": [.reqCurrentTimeInMillis(ReqCurrentTimeInMillis())],
            "reqManagedAccts": [.reqManagedAccts(ReqManagedAccts())],
            "reqMktData": [.reqMktData(ReqMktData(reqId: id, contract: aapl, genericTickList: "233,236"))],
            "cancelMktData": [.cancelMktData(CancelMktData(reqId: id))],
            "reqMarketDataType": [.reqMarketDataType(ReqMarketDataType(marketDataType: 3))],
            "reqHistoricalData": [
                .reqHistoricalData(ReqHistoricalData(reqId: id, contract: aapl, endDateTime: "20240102 16:00:00 US/Eastern",
                                                     durationStr: "3600 S", barSizeSetting: "1 min", whatToShow: "TRADES",
                                                     useRTH: false, formatDate: 1, keepUpToDate: false)),
                .reqHistoricalData(ReqHistoricalData(reqId: id, contract: aapl, durationStr: "2 D", barSizeSetting: "1 hour",
                                                     whatToShow: "MIDPOINT", useRTH: true, formatDate: 2, keepUpToDate: true)),
            ],
            "cancelHistoricalData": [.cancelHistoricalData(CancelHistoricalData(reqId: id))],
            "reqHeadTimeStamp": [.reqHeadTimeStamp(ReqHeadTimestamp(reqId: id, contract: aapl, formatDate: 2))],
            "cancelHeadTimeStamp": [.cancelHeadTimeStamp(CancelHeadTimestamp(reqId: id))],
            "reqRealTimeBars": [.reqRealTimeBars(ReqRealTimeBars(reqId: id, contract: aapl))],
            "cancelRealTimeBars": [.cancelRealTimeBars(CancelRealTimeBars(reqId: id))],
            "reqContractDetails": [.reqContractDetails(ReqContractDetails(reqId: id, contract: aapl))],
            "reqTickByTickData": [.reqTickByTickData(ReqTickByTickData(reqId: id, contract: aapl, tickType: "Last", numberOfTicks: 10))],
            "cancelTickByTickData": [.cancelTickByTickData(CancelTickByTickData(reqId: id))],
            "placeOrder": [
                .placeOrder(PlaceOrder(orderId: id, contract: aapl, order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 190))),
                .placeOrder(PlaceOrder(orderId: id, contract: aapl, order: Order(action: "BUY", quantity: 100, type: "MKT"))),
                .placeOrder(PlaceOrder(orderId: id, contract: aapl, order: bracketChild)),
                .placeOrder(PlaceOrder(orderId: id, contract: aapl, order: trail)),
                .placeOrder(PlaceOrder(orderId: id, contract: aapl, order: oca)),
            ],
            "cancelOrder": [.cancelOrder(CancelOrder(orderId: 1))],
            "reqGlobalCancel": [.reqGlobalCancel(ReqGlobalCancel())],
            "reqOpenOrders": [.reqOpenOrders(ReqOpenOrders())],
            "reqAllOpenOrders": [.reqAllOpenOrders(ReqAllOpenOrders())],
            "reqAutoOpenOrders": [.reqAutoOpenOrders(ReqAutoOpenOrders(autoBind: true))],
            "reqCompletedOrders": [.reqCompletedOrders(ReqCompletedOrders(apiOnly: true))],
            "reqExecutions": [.reqExecutions(ReqExecutions(reqId: id, filter: execFilter))],
            "reqPositions": [.reqPositions(ReqPositions())],
            "cancelPositions": [.cancelPositions(CancelPositions())],
            "reqAccountUpdates": [.reqAccountUpdates(ReqAccountUpdates(subscribe: true, acctCode: "DU1234567"))],
            "reqAccountSummary": [.reqAccountSummary(ReqAccountSummary(reqId: id, tags: "NetLiquidation,$LEDGER,Leverage"))],
            "cancelAccountSummary": [.cancelAccountSummary(CancelAccountSummary(reqId: id))],
            "reqPnL": [.reqPnL(ReqPnL(reqId: id, account: "DU1234567"))],
            "cancelPnL": [.cancelPnL(CancelPnL(reqId: id))],
            "reqPnLSingle": [.reqPnLSingle(ReqPnLSingle(reqId: id, account: "DU1234567", conId: 265598))],
            "cancelPnLSingle": [.cancelPnLSingle(CancelPnLSingle(reqId: id))],
            "reqAccountUpdatesMulti": [.reqAccountUpdatesMulti(ReqAccountUpdatesMulti(reqId: id, account: "DU1234567", ledgerAndNLV: true))],
            "cancelAccountUpdatesMulti": [.cancelAccountUpdatesMulti(CancelAccountUpdatesMulti(reqId: id))],
            "reqPositionsMulti": [.reqPositionsMulti(ReqPositionsMulti(reqId: id, account: "All"))],
            "cancelPositionsMulti": [.cancelPositionsMulti(CancelPositionsMulti(reqId: id))],
        ]
    }()

    /// What each field is replaced by, as raw bytes (some are not UTF-8 on purpose).
    static let edgeValues: [[UInt8]] = {
        let texts = [
            "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "Infinite", "1e999", "-1e999", "-0", "-0.0", "0",
            "1e300", "-1e300", "1e-320", "1.7976931348623157E308", "4.9e-324",
            "9223372036854775808", "-9223372036854775808", "9223372036854775807", "-9223372036854775807",
            "18446744073709551616", "2147483648", "2147483647", "-2147483648", "-2147483649", "-1",
            "99999999999999999999999999999999999999", "0x7fffffff", " 1", "1 ", "+1", "1e19", "9.3e18",
            "", "\u{1}\u{7}\u{1B}[2J\r\n\t\u{7F}", "\\u0000\\ud800", "99999999999999999 Y", "999999999 mins", "-5 D", "0 S",
            "9223372036854775807 S", "1 months", "99999999-99:99:99", "20240102 9223372036854775807:00:00",
            "20240102 -1:-1:-1", "00000000 00:00:00", "99991231 23:59:59 Mars/Olympus", "20240230", "20240102 12:00:00 "
                + String(repeating: "Z", count: 2000),
            String(repeating: "A", count: 100_000), String(repeating: "9", count: 100_000),
        ]
        var values = texts.map { Array($0.utf8) }
        values.append([0xFF, 0xFE, 0xC3])  // not UTF-8
        values.append([0xED, 0xA0, 0x80])  // a UTF-8-encoded surrogate
        values.append(Array("1".utf8) + [0] + Array("2".utf8))  // a NUL inside: one field more
        return values
    }()

    static func config() -> PaperGatewayConfig {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.clock = "manual"
        // The test sends thousands of requests a second on purpose: pacing answers would hide
        // the code under test behind error 100 / 162.
        config.pacing.messageRate = false
        config.pacing.historical = false
        config.pacing.maxMarketDataLines = 1_000_000
        return config
    }

    @Test("every request type the gateway decodes has a sample here")
    func everyTypeHasASample() {
        for type in ClientRequest.allTypes {
            #expect(Self.samples["\(type.name)"] != nil, "no fuzz sample for \(type.name): add one to GatewayEdgeValueFuzzTests.samples")
        }
    }

    /// Frames of `sample` with each field (after the message id) replaced by each edge value,
    /// fresh ids filled in; grouped by field, so the caller can check in after each group.
    static func mutations(of sample: ClientRequest, serverVersion: Int, nextId: inout Int) throws -> [[[UInt8]]] {
        var fields = try sample.payload(serverVersion: serverVersion).split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if fields.last?.isEmpty == true { fields.removeLast() }  // after the last NUL
        let marker = Array(String(freshId).utf8)
        var groups: [[[UInt8]]] = []
        for index in fields.indices.dropFirst() {
            var group: [[UInt8]] = []
            for value in edgeValues {
                var mutated = fields
                for other in mutated.indices where other != index && mutated[other] == marker {
                    nextId += 1
                    mutated[other] = Array(String(nextId).utf8)
                }
                mutated[index] = value
                group.append(Framing.frame(Array(mutated.joined(separator: [0])) + [0]))
            }
            groups.append(group)
        }
        return groups
    }

    /// Sends reqCurrentTime and waits for its answer: the connection and the gateway live.
    static func probe(_ client: TestClient, _ what: String) throws {
        let before = client.received.count
        try client.send(.reqCurrentTime(ReqCurrentTime()))
        try client.wait(for: "currentTime after \(what)", timeout: 30) { received in
            received[before...].contains { if case .currentTime = $0 { true } else { false } }
        }
    }

    @Test("each field of each request, at each edge value: answered, and the connection lives on")
    func everyFieldEveryEdge() async throws {
        try await withGateway(Self.config()) { server in
            var nextId = 1_000_000
            var clientId = 100
            for type in ClientRequest.allTypes where "\(type.name)" != "startApi" {
                for (number, sample) in (Self.samples["\(type.name)"] ?? []).enumerated() {
                    clientId += 1
                    let client = try TestClient(port: server.port)
                    try client.start(clientId: clientId)
                    let groups = try Self.mutations(of: sample, serverVersion: client.serverVersion, nextId: &nextId)
                    for (field, frames) in groups.enumerated() {
                        for frame in frames { client.sendRaw(frame) }
                        try Self.probe(client, "\(type.name) sample \(number) field \(field + 1)")
                    }
                }
            }
            // And a new connection is served as usual.
            let fresh = try TestClient(port: server.port)
            try fresh.start(clientId: 1)
            try Self.probe(fresh, "the whole run")
        }
    }

    /// Sends `request` and waits for the error it must get, for `id`.
    static func expectError(_ client: TestClient, _ request: ClientRequest, id: Int, code: Int, _ what: String) throws {
        try client.send(request)
        let received = try client.wait(for: "error \(code) for \(what)") { received in
            received.contains { if case let .error(e) = $0 { e.reqId == id && e.errorCode != 2104 } else { false } }
        }
        let error = received.compactMap { if case let .error(e) = $0, e.reqId == id { e } else { nil } }.first
        #expect(error?.errorCode == code, "\(what): \(error.map { "\($0.errorCode) \($0.errorString)" } ?? "no error")")
    }

    @Test("absurd numbers get IB's error codes, each for its own request")
    func refusals() async throws {
        try await withGateway(Self.config()) { server in
            let client = try TestClient(port: server.port)
            try client.start(clientId: 5)
            func history(_ id: Int, duration: String = "1 D", bar: String = "1 min", end: String = "") -> ClientRequest {
                .reqHistoricalData(ReqHistoricalData(reqId: id, contract: Self.aapl, endDateTime: end, durationStr: duration,
                                                     barSizeSetting: bar, whatToShow: "TRADES", useRTH: false, formatDate: 1,
                                                     keepUpToDate: false))
            }
            try Self.expectError(client, history(1, duration: "99999999999999999 Y"), id: 1, code: 321, "a duration of 10^17 years")
            try Self.expectError(client, history(2, duration: "9223372036854775807 S"), id: 2, code: 321, "a duration of Int.max seconds")
            try Self.expectError(client, history(3, bar: "999999999 mins"), id: 3, code: 321, "a bar of 10^9 minutes")
            try Self.expectError(client, history(4, end: "20240102 9223372036854775807:00:00"), id: 4, code: 10314, "2^63 hours")
            try Self.expectError(client, history(5, end: "20241340 12:00:00"), id: 5, code: 10314, "month 13, day 40")
            func order(_ id: Int, _ change: (inout Order) -> Void) -> ClientRequest {
                var order = Order(action: "BUY", quantity: 100, type: "LMT", limit: 190)
                change(&order)
                return .placeOrder(PlaceOrder(orderId: id, contract: Self.aapl, order: order))
            }
            try Self.expectError(client, order(Int.max) { _ in }, id: Int.max, code: 321, "order id Int.max")
            try Self.expectError(client, order(Int(Int32.max) + 1) { _ in }, id: Int(Int32.max) + 1, code: 321, "order id 2^31")
            try Self.expectError(client, order(-7) { _ in }, id: -7, code: 321, "a negative order id")
            try Self.expectError(client, order(10) { $0.lmtPrice = 1e300 }, id: 10, code: 201, "a limit of 1e300")
            try Self.expectError(client, order(11) { $0.lmtPrice = .infinity }, id: 11, code: 201, "an infinite limit")
            try Self.expectError(client, order(12) { $0.auxPrice = -.infinity }, id: 12, code: 201, "an aux price of -inf on a LMT")
            try Self.expectError(client, order(13) { $0.totalQuantity = TWSDecimal(1_000_000_000_000) }, id: 13, code: 201, "10^12 shares")
            try Self.expectError(client, order(14) { $0.trailingPercent = 1e300 }, id: 14, code: 201, "a trailing percent of 1e300")
            try Self.expectError(client, .reqPnLSingle(ReqPnLSingle(reqId: 20, account: "DU1234567", conId: Int.max)), id: 20, code: 200,
                                 "con id Int.max")
            // And the client's ordinary requests still work.
            try Self.probe(client, "the refusals")
        }
    }

    @Test("control commands (and so the config's faults) with edge values: an error line, never a trap")
    func controlCommands() async throws {
        try await withGateway(Self.config()) { server in
            let commands = ["outage 1101 X", "outage X", "stall X", "restart X", "hang X", "slow-cancels X", "step X", "price AAPL X",
                            "position AAPL X 1", "position AAPL 1 X", "next-valid-id X", "notice 1 X", "notice X 1", "halted AAPL X", "hold X"]
            let values = Self.edgeValues.compactMap { String(validating: $0, as: UTF8.self) }.filter { !$0.contains(" ") && !$0.isEmpty }
            for command in commands {
                for value in values {
                    let line = command.replacingOccurrences(of: "X", with: value)
                    let reply = try await server.withEngine { $0.control(line) }
                    #expect(reply.hasPrefix("ok") || reply.hasPrefix("error"), "\(line.prefix(60)): \(reply.prefix(200))")
                }
            }
            for line in ["stall 1e300", "step 1e300", "slow-cancels inf", "outage 1101 nan", "price AAPL inf", "position AAPL 1e300 1"] {
                #expect(try await server.withEngine { $0.control(line) }.hasPrefix("error"), "\(line) must be refused")
            }
            #expect(try await server.withEngine { $0.control("status") }.hasPrefix("ok"))
        }
    }

    @Test("startApi and the hello with edge values: refused or served, the gateway lives on")
    func sessionStart() async throws {
        try await withGateway(Self.config()) { server in
            var nextId = 0
            let sample = try #require(Self.samples["startApi"]?.first)
            for frames in try Self.mutations(of: sample, serverVersion: 200, nextId: &nextId) {
                for frame in frames {
                    let client = try TestClient(port: server.port)
                    #expect(try client.handshake(clientId: nil) == 200)
                    client.sendRaw(frame)
                    // Either a session starts (managedAccounts...) or an error says why not.
                    try client.wait(for: "an answer to a startApi with an edge value") { !$0.isEmpty }
                }
            }
            for value in Self.edgeValues {
                // Answered by a server hello or by hanging up: either way, the next one is served.
                let client = try TestClient(port: server.port)
                client.sendRaw(Handshake.prefix + Framing.frame(Array("v".utf8) + value + Array("..".utf8) + value))
            }
            let fresh = try TestClient(port: server.port)
            try fresh.start(clientId: 1)
            try Self.probe(fresh, "edge-value session starts")
        }
    }
}
