import Foundation
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

func eventually(_ what: String, timeout: Double = 15, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try await !condition() {
        guard Date() < deadline else { throw TimeoutFailure(what: what) }
        try await Task.sleep(for: .milliseconds(25))
    }
}

struct TimeoutFailure: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-\(name)-\(UUID().uuidString).sqlite").path
}

@Suite("TradingState: journal, order states, reconciliation", .serialized)
struct TradingStateTests {
    static func gateway(_ change: (inout PaperGatewayConfig) -> Void = { _ in }) -> PaperGatewayConfig {
        var config = PaperGatewayConfig()
        config.port = 0
        config.market.tickIntervalMs = 20
        change(&config)
        return config
    }

    struct Rig {
        let server: PaperGatewayServer
        let client: TWSClient
        let state: TradingState
        let journal: Journal
    }

    /// A paper gateway, a client of it, a journal and the trading state over both, for `body`;
    /// stopped after it (also when it throws). `client` and `options` change the defaults;
    /// `reconcileFirst`: false for a test whose subject is the reconciliation itself.
    func withRig(_ config: PaperGatewayConfig = gateway(), journalPath: String = temporaryPath("journal"), clientId: Int = 1,
                 failClosed: Bool = true, client changeClient: (inout TWSClientConfiguration) -> Void = { _ in },
                 options changeOptions: (inout TradingState.Options) -> Void = { _ in }, reconcileFirst: Bool = true,
                 _ body: (Rig) async throws -> Void) async throws
    {
        let server = try await PaperGatewayServer.start(config: config)
        defer { try? FileManager.default.removeItem(atPath: journalPath) }
        let journal = try Journal(path: journalPath)
        var clientConfig = TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: clientId)
        clientConfig.reconnect.backoffBase = 0.1
        clientConfig.reconnect.backoffCap = 0.3
        changeClient(&clientConfig)
        let client = TWSClient(configuration: clientConfig, idStore: journal)
        var options = TradingState.Options()
        options.failClosed = failClosed
        changeOptions(&options)
        let state = try TradingState(client: client, journal: journal, options: options)
        client.start()
        do {
            try await client.waitUntilReady(timeout: 10)
            if reconcileFirst { _ = await state.reconcile() }  // orders leave only once reconciled
            try await body(Rig(server: server, client: client, state: state, journal: journal))
        } catch {
            await client.stop()
            try? await server.shutdown()
            throw error
        }
        await client.stop()
        try await server.shutdown()
    }

    @Test("an order is journaled before it is sent, fills once, and its commission pairs")
    func orderLifecycle() async throws {
        try await withRig { rig in
            let events = Box<String>()
            rig.state.observe { event in
                switch event {
                case let .order(o): events.add("order \(o.status.rawValue)")
                case .fill: events.add("fill")
                case .commission: events.add("commission")
                default: break
                }
            }
            let record = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 100, type: "MKT"), strategy: "test")
            #expect(record.order.orderRef == "mw:" + record.clientKey)
            try await eventually("filled") { await rig.state.snapshot().orders.first?.status == .filled }
            // orderStatus(Filled) may come ahead of execDetails: wait for the execution itself, not an
            // empty list that trivially has every commission.
            try await eventually("commission") {
                let executions = await rig.state.snapshot().executions
                return !executions.isEmpty && executions.allSatisfy { $0.commission != nil }
            }
            // The journal is written off the client's loop: what the state holds is in it once
            // the drain returns.
            #expect(await rig.state.drainJournal(within: 10) == nil)
            let executions = try rig.journal.count("executions")
            #expect(executions >= 1)
            #expect(try rig.journal.count("orders") == 1)
            #expect(try rig.journal.count("order_events") >= 2)
            // TWS replays the executions (as after a reconnect) and reqExecutions reports them again: no double count.
            #expect(try await rig.server.withEngine { $0.control("replay-executions") }.hasPrefix("ok replayed"))
            // reqExecutions answers after the replayed ones (one socket, in order): when it has,
            // the state has seen them all; the drain waits for their journal writes.
            _ = try await rig.client.executions()
            #expect(await rig.state.drainJournal(within: 10) == nil)
            #expect(try rig.journal.count("executions") == executions)
            let snapshot = await rig.state.snapshot()
            #expect(snapshot.orders[0].filled == 100)
            #expect(rig.state.explainedPositions()["AAPL"] == 100)
            #expect(events.all.contains("fill") && events.all.contains("commission"))
        }
    }

    @Test("a fill in execDetails counts without orderStatus; a commission may come first")
    func messageOrder() async throws {
        try await withRig { rig in
            let record = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 10, type: "LMT", limit: 1.0), strategy: "t")
            var built = Execution()
            built.orderId = record.orderId
            built.execId = "synthetic.01"
            built.side = "BOT"
            built.shares = 10
            built.price = 1.0
            built.orderRef = record.order.orderRef
            let execution = built
            let commission = CommissionReport(execId: "synthetic.01", commission: 1.0, currency: "USD", realizedPNL: nil)
            try await rig.client.eventLoop.submit {
                rig.state.handle(.commissionReport(commission))
                rig.state.handle(.execDetails(ExecDetails(reqId: -1, contract: Contract(symbol: "AAPL"), execution: execution)))
                rig.state.handle(.execDetails(ExecDetails(reqId: -1, contract: Contract(symbol: "AAPL"), execution: execution)))
            }.get()
            let snapshot = await rig.state.snapshot()
            let order = try #require(snapshot.orders.first { $0.orderId == record.orderId })
            #expect(order.status == .filled && order.filled == 10)
            #expect(snapshot.executions.filter { $0.execId == "synthetic.01" }.count == 1)
            #expect(snapshot.executions.first { $0.execId == "synthetic.01" }?.commission == commission)
        }
    }

    @Test("rejections are terminal with the reason; a warning on a live order is not")
    func rejectionsAndWarnings() async throws {
        try await withRig { rig in
            await #expect(throws: TWSError.self) {
                _ = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 10, type: "LMT", limit: 1.005),
                                               strategy: "t")
            }
            var snapshot = await rig.state.snapshot()
            #expect(snapshot.orders.first?.status == .rejected)
            #expect(snapshot.orders.first?.reason.hasPrefix("110:") == true)
            let live = try await rig.state.submit(contract: Contract(symbol: "AAPL"), order: Order(action: "BUY", quantity: 10, type: "LMT", limit: 1.0),
                                                  strategy: "t")
            try await rig.client.eventLoop.submit {
                rig.state.handle(.error(id: live.orderId, code: 399, message: "Order held until market open", category: .orderWarning))
            }.get()
            snapshot = await rig.state.snapshot()
            let order = try #require(snapshot.orders.first { $0.orderId == live.orderId })
            #expect(order.status == .submitted && order.reason.hasPrefix("399"))
            try await rig.state.cancel(orderId: live.orderId)
            try await eventually("cancelled") { await rig.state.snapshot().orders.first { $0.orderId == live.orderId }?.status == .cancelled }
        }
    }

    @Test("a modification TWS took whose answer was lost, filled while away: the reconciliation takes TWS's quantity")
    func missedModificationFilledWhileAway() async throws {
        try await withRig(Self.gateway { $0.market.clock = "manual"; $0.fills.partialFills = false }) { rig in
            _ = try await rig.server.withEngine { $0.control("price AAPL 100") }
            let placed = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 99.00), strategy: "t")
            _ = try await rig.server.withEngine { $0.control("restart 1") }
            try await eventually("disconnected") { await !rig.client.isReady }
            // What a modification 100 -> 300 leaves at TWS when the connection goes before its
            // answer; then the market crosses the limit and all 300 fill while we are away.
            _ = try await rig.server.withEngine { engine in
                engine.orders[GatewayEngine.OrderKey(clientId: 1, orderId: placed.orderId)]?.order.totalQuantity = TWSDecimal(approximating: 300)
                return engine.control("price AAPL 98.50")
            }
            try await rig.client.waitUntilReady(timeout: 10)
            try await eventually("reconciled with the fill") {
                await rig.state.snapshot().orders.first { $0.orderId == placed.orderId }?.filled == 300
            }
            let order = try #require(await rig.state.snapshot().orders.first { $0.orderId == placed.orderId })
            #expect(order.status == .filled && order.filled == 300 && order.quantity == 300, "\(order)")
            _ = await rig.state.drainJournal(within: 2)
            let kept = try #require(try rig.journal.loadOrders(scope: rig.state.scope).first { $0.orderId == placed.orderId })
            #expect(kept.quantity == 300, "the journal keeps TWS's quantity too")
        }
    }

    @Test("fills made while disconnected are recovered once on reconnect")
    func fillsWhileDisconnected() async throws {
        try await withRig(Self.gateway { $0.market.clock = "manual" }) { rig in
            _ = try await rig.server.withEngine { $0.control("price AAPL 100") }
            let record = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 99.00), strategy: "t")
            // The gateway goes away for a while; the market crosses the limit meanwhile.
            _ = try await rig.server.withEngine { $0.control("restart 1") }
            try await eventually("disconnected") { await !rig.client.isReady }
            _ = try await rig.server.withEngine { $0.control("price AAPL 98.50") }
            try await rig.client.waitUntilReady(timeout: 10)
            try await eventually("reconciled with the fill") {
                let snapshot = await rig.state.snapshot()
                return snapshot.orders.first { $0.orderId == record.orderId }?.status == .filled
            }
            // A second reconcile (a round trip through TWS: every execution sent before it has
            // arrived by its end) must not count the fill again.
            _ = await rig.state.reconcile()
            let fills = await rig.state.snapshot().executions.filter { $0.orderId == record.orderId }
            #expect(fills.reduce(0) { $0 + $1.shares } == 100, "recovered exactly once")
            #expect(try rig.journal.count("connection_events") >= 3)
        }
    }

    @Test("an order journaled but never sent is marked lost, not resent")
    func lostOrder() async throws {
        let path = temporaryPath("lost")
        do {
            let journal = try Journal(path: path)
            var order = Order(action: "BUY", quantity: 5, type: "MKT")
            order.orderRef = "mw:crashed:1"
            try journal.insert(order: OrderRecord(clientKey: "crashed:1", orderId: 41, strategy: "t", contract: Contract(symbol: "AAPL"),
                                                  order: order, createdAt: 1), scope: "account:DU1234567")
        }
        try await withRig(journalPath: path) { rig in
            // The reconciliation that follows the connection finds no trace of it at TWS.
            try await eventually("the first reconciliation") { rig.state.lastReport.lostOrders == ["crashed:1"] }
            let order = try #require(await rig.state.snapshot().orders.first { $0.clientKey == "crashed:1" })
            #expect(order.status == .unknown && order.reason.contains("not resent"))
            #expect(try await rig.server.withEngine { engine in engine.orders.count } == 0)
        }
    }

    @Test("a position the journal cannot explain closes trading until acknowledged")
    func unexplainedPosition() async throws {
        let config = Self.gateway()
        let server = try await PaperGatewayServer.start(config: config)
        // A holding from before this journal existed: no execution explains it.
        #expect(try await server.withEngine { $0.control("position MSFT 30 400") } == "ok position MSFT 30.0")
        let path = temporaryPath("unexplained")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try Journal(path: path)
        let client = TWSClient(configuration: TWSClientConfiguration(host: "127.0.0.1", port: server.port, clientId: 51), idStore: journal)
        let state = try TradingState(client: client, journal: journal)
        client.start()
        try await client.waitUntilReady(timeout: 10)
        try await eventually("first reconciliation") {
            return state.lastReport.unexplainedPositions["MSFT"] != nil
        }
        #expect(state.lastReport.unexplainedPositions["MSFT"] == .init(reported: 30, explained: 0))
        #expect(!state.tradingAllowed)
        try await state.acknowledgePositions()
        #expect(state.tradingAllowed)
        let again = await state.reconcile()
        #expect(again.unexplainedPositions.isEmpty && state.tradingAllowed)
        await client.stop()
        try await server.shutdown()
    }
}

@Suite("Journal scopes: each account's records apart")
struct JournalScopeTests {
    @Test("the same execId in two scopes is two fills; twice in one scope is one; each scope loads its own")
    func executionsPerScope() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-scopes-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try Journal(path: path)
        var details = ExecDetails()
        details.contract = Contract(symbol: "AAPL")
        details.execution.execId = "00000001.00000001.01.01"
        details.execution.side = "BOT"
        details.execution.shares = 100
        details.execution.price = 187.5
        let record = ExecutionRecord(details: details, clientKey: nil, receivedAt: 1)
        #expect(try journal.insert(execution: record, scope: "paper:aaaaaaaa"))
        #expect(try journal.insert(execution: record, scope: "paper:bbbbbbbb"), "another paper account's fill with the same id is not a duplicate")
        #expect(try journal.insert(execution: record, scope: "paper:aaaaaaaa") == false, "the same fill reported twice is stored once")
        #expect(try journal.loadExecutions(scope: "paper:aaaaaaaa").count == 1)
        #expect(try journal.loadExecutions(scope: "account:DU1234567").isEmpty)
        try journal.setPositionBaseline(["MSFT": 25], scope: "account:DU1234567")
        #expect(journal.positionBaseline(scope: "account:DU1234567") == ["MSFT": 25])
        #expect(journal.positionBaseline(scope: "account:DU7654321").isEmpty)
    }
}

@Suite("Order lifecycle as IB defines it (no I/O)")
struct OrderLifecycleTests {
    typealias Status = OrderRecord.Status

    /// IB's documented status sequences and where each leaves the order.
    static let sequences: [(start: Status, reports: [String], expected: [Status])] = [
        (.pending, ["PendingSubmit", "PreSubmitted", "Submitted", "Filled"], [.submitted, .submitted, .submitted, .filled]),
        (.pending, ["ApiPending", "ApiCancelled"], [.submitted, .cancelled]),
        (.pending, ["Submitted", "PendingCancel", "Cancelled"], [.submitted, .submitted, .cancelled]),
        (.pending, ["Submitted", "PendingCancel", "Filled"], [.submitted, .submitted, .filled]),
        (.pending, ["Submitted", "Inactive", "Submitted", "Cancelled"], [.submitted, .inactive, .submitted, .cancelled]),
        (.pending, ["PreSubmitted", "Inactive", "Filled"], [.submitted, .inactive, .filled]),
        (.pending, ["Submitted", "Filled", "Cancelled", "Submitted"], [.submitted, .filled, .filled, .filled]),
        (.pending, ["Cancelled", "Submitted", "Filled"], [.cancelled, .cancelled, .cancelled]),
        (.rejected, ["Submitted"], [.rejected]),
        (.unknown, ["Submitted", "Cancelled"], [.submitted, .cancelled]),
        (.submitted, ["SomethingNew"], [.submitted]),
    ]

    @Test("each documented sequence ends where IB says", arguments: Array(0..<sequences.count))
    func sequence(_ index: Int) {
        let case_ = Self.sequences[index]
        var status = case_.start
        var seen: [Status] = []
        for report in case_.reports {
            status = OrderLifecycle.next(status, reported: report)
            seen.append(status)
        }
        #expect(seen == case_.expected, "\(case_.reports)")
    }

    @Test("Inactive is not terminal; filled, cancelled and rejected are")
    func terminal() {
        #expect(!Status.inactive.isTerminal && !Status.submitted.isTerminal && !Status.pending.isTerminal && !Status.unknown.isTerminal)
        #expect(Status.filled.isTerminal && Status.cancelled.isTerminal && Status.rejected.isTerminal)
    }

    @Test("correction numbers: the last part of an execId")
    func corrections() {
        #expect(ExecutionRecord.correction(of: "0000e0d5.6571f2a1.01.02")?.base == "0000e0d5.6571f2a1.01")
        #expect(ExecutionRecord.correction(of: "0000e0d5.6571f2a1.01.02")?.number == 2)
        #expect(ExecutionRecord.correction(of: "nodots") == nil)
    }
}

extension TradingStateTests {
    @Test("an execution correction replaces the execution it corrects: quantity counted once; a late original is ignored; on_fill before on_order(filled)")
    func executionCorrections() async throws {
        try await withRig { rig in
            let events = Box<String>()
            rig.state.observe { event in
                switch event {
                case let .fill(e): events.add("fill \(e.execId) \(e.shares)")
                case let .order(o) where o.status == .filled: events.add("order filled \(o.filled)")
                default: break
                }
            }
            let record = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 1.0), strategy: "t")
            @Sendable func execution(_ id: String, _ shares: Double) -> ServerMessage {
                var built = Execution()
                built.orderId = record.orderId
                built.execId = id
                built.side = "BOT"
                built.shares = TWSDecimal(approximating: shares)
                built.price = 1.0
                built.orderRef = record.order.orderRef
                return .execDetails(ExecDetails(reqId: -1, contract: Contract(symbol: "AAPL"), execution: built))
            }
            var status = OrderStatus()
            status.orderId = record.orderId
            status.status = "Filled"
            status.filled = 100
            status.remaining = 0
            let filledReport = status
            try await rig.client.eventLoop.submit {
                rig.state.handle(.orderStatus(filledReport))  // TWS says Filled before the execution arrives
                rig.state.handle(execution("0000beef.00000001.01.01", 100))
                rig.state.handle(execution("0000beef.00000001.01.02", 90))  // the correction
                rig.state.handle(execution("0000beef.00000001.01.01", 100))  // the original again, late
            }.get()
            // The journal is written off the client's loop: every write handed over (the late
            // duplicate's too, if it made one) is done once the drain returns.
            #expect(await rig.state.drainJournal(within: 10) == nil)
            let snapshot = await rig.state.snapshot()
            let order = try #require(snapshot.orders.first { $0.orderId == record.orderId })
            #expect(order.filled == 90)
            #expect(rig.state.explainedPositions()["AAPL"] == 90)
            #expect(snapshot.executions.map(\.execId) == ["0000beef.00000001.01.02"])
            #expect(try rig.journal.count("executions") == 2, "both kept in the journal, the first marked replaced")
            let seen = events.all
            #expect(seen.first == "fill 0000beef.00000001.01.01 100.0")
            #expect(seen.dropFirst().first == "order filled 100.0", "on_fill first, then the order it completes: \(seen)")
        }
    }
}

@Suite("A journal that cannot lie", .serialized)
struct JournalIntegrityTests {
    func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-integrity-\(name)-\(UUID().uuidString).sqlite").path
    }

    func refusal(_ path: String) -> String? {
        do {
            _ = try Journal(path: path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a journal truncated to 0 bytes is refused, not silently started over")
    func truncated() throws {
        let file = path("empty")
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            let journal = try Journal(path: file)
            try journal.saveStoreForTest()
        }
        try Data().write(to: URL(fileURLWithPath: file))
        let message = refusal(file)
        #expect(message?.contains("exists but is empty (0 bytes)") == true, "\(message ?? "opened")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)).isEmpty, "nothing was changed")
    }

    @Test("4 KiB of garbage inside the file: SQLite's integrity check fails and the journal is refused")
    func garbage() throws {
        let file = path("garbage")
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            let journal = try Journal(path: file)
            for index in 0..<2000 { try journal.strategyEvent(strategy: "s", kind: "k", detail: String(repeating: "x", count: 100) + "\(index)") }
            try journal.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: Data((0..<4096).map { _ in UInt8.random(in: 0...255) }))
        try handle.close()
        let message = refusal(file)
        #expect(message?.contains("is damaged") == true || message?.contains("cannot open") == true, "\(message ?? "opened")")
    }

    @Test("a journal left open by a process that died, whose write-ahead log is missing, is refused")
    func lostWriteAheadLog() throws {
        let file = path("wal")
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
        do { _ = try Journal(path: file) }
        // As if a process (pid 999999, gone) had it open and died, and its WAL was lost.
        _ = FileManager.default.createFile(atPath: file + ".open.999999", contents: Data("999999".utf8))
        try? FileManager.default.removeItem(atPath: file + "-wal")
        let message = refusal(file)
        #expect(message?.contains("was not closed cleanly and its write-ahead log") == true, "\(message ?? "opened")")
        try? FileManager.default.removeItem(atPath: file + ".open.999999")
        #expect(refusal(file) == nil, "a journal closed cleanly opens")
    }
}

extension Journal {
    func saveStoreForTest() throws {
        try strategyEvent(strategy: "t", kind: "k", detail: "d")
    }
}
