import Foundation
import GRDB
import Testing
import TWSProtocol
@testable import PaperGateway
@testable import TWSClient
@testable import TradingState

/// An order that filled while Moonwire was away is reported by TWS, in the reconciliation,
/// among completed orders as Filled before its executions come (they are asked for after the
/// completed orders). It must never be told, or journaled, as rejected or cancelled on the way:
/// the consumers (a strategy's on_order) hear each state once and in the lifecycle's order,
/// submitted then filled; and it ends filled even when TWS's executions never show the fill
/// (older than TWS's execution window, e.g. a previous day).
@Suite("Filled while away: told submitted then filled, never rejected or cancelled", .serialized)
struct FilledWhileAwayTests {
    typealias Status = OrderRecord.Status

    /// The states told of one order, each once (as StrategyHost tells on_order: a report of the
    /// same state again is not told), in order.
    // Sendable by the lock: every access to `records` holds it.
    final class Told: @unchecked Sendable {
        private let lock = NSLock()
        private var records: [OrderRecord] = []
        func add(_ record: OrderRecord) {
            lock.lock(); defer { lock.unlock() }
            if let last = records.last(where: { $0.clientKey == record.clientKey }), last.reportsSameState(as: record) { return }
            records.append(record)
        }
        func statuses(of clientKey: String) -> [Status] {
            lock.lock(); defer { lock.unlock() }
            return records.filter { $0.clientKey == clientKey }.map(\.status)
        }
    }

    /// Never rejected or cancelled; nothing after the first terminal state but that state; filled once, last.
    static func checkMonotonic(_ statuses: [Status], _ what: String) {
        #expect(!statuses.contains(.rejected) && !statuses.contains(.cancelled), "\(what): \(statuses)")
        if let terminal = statuses.firstIndex(where: \.isTerminal) {
            #expect(statuses[terminal...].allSatisfy { $0 == statuses[terminal] }, "\(what): a state after a terminal one: \(statuses)")
        }
        #expect(statuses.last == .filled, "\(what): \(statuses)")
        #expect(statuses.filter { $0 == .filled }.count == 1, "\(what): filled told once: \(statuses)")
    }

    /// The journal's statuses, a run of the same one kept once (a fill and its order update,
    /// a report that changes only a price, each write an event).
    static func collapsed(_ statuses: [String]) -> [Status] {
        statuses.map { Status(rawValue: $0) ?? .unknown }.reduce(into: [Status]()) { if $1 != $0.last { $0.append($1) } }
    }

    /// The statuses the journal's order events hold for `key`, in order.
    static func journaled(_ journal: Journal, _ key: String) throws -> [(kind: String, status: String, filled: Double)] {
        try journal.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, status, filled FROM order_events WHERE client_key = ? ORDER BY sequence", arguments: [key])
                .map { row -> (kind: String, status: String, filled: Double) in (row["kind"], row["status"], row["filled"]) }
        }
    }

    /// BUY 100 AAPL LMT 99 working at the gateway (the market at 100), then the gateway
    /// restarting: we are away. What is told of the order is kept from the start.
    static func workingThenAway(_ rig: TradingStateTests.Rig) async throws -> (Told, OrderRecord) {
        let told = Told()
        rig.state.observe { event in if case let .order(record) = event { told.add(record) } }
        _ = try await rig.server.withEngine { $0.control("price AAPL 100") }
        let placed = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 99.00), strategy: "t")
        try await eventually("working") { await rig.state.snapshot().orders.first { $0.orderId == placed.orderId }?.status == .submitted }
        _ = try await rig.server.withEngine { $0.control("restart 1") }
        try await eventually("disconnected") { await !rig.client.isReady }
        return (told, placed)
    }

    @Test("filled while away, its executions after the completed orders: submitted, then filled; never rejected on the way")
    func filledWhileAwayNotRejectedFirst() async throws {
        let rigs = TradingStateTests()
        try await rigs.withRig(TradingStateTests.gateway { $0.market.clock = "manual"; $0.fills.partialFills = false }) { rig in
            // The gateway goes away; the market crosses the limit and all 100 fill meanwhile.
            let (told, placed) = try await Self.workingThenAway(rig)
            _ = try await rig.server.withEngine { $0.control("price AAPL 98.50") }
            try await rig.client.waitUntilReady(timeout: 10)
            // The reconciliation: completed orders (Filled, no execution yet), then the executions.
            try await eventually("reconciled with the fill") {
                await rig.state.snapshot().orders.first { $0.orderId == placed.orderId }?.status == .filled
            }
            #expect(await rig.state.drainJournal(within: 10) == nil)
            let order = try #require(await rig.state.snapshot().orders.first { $0.orderId == placed.orderId })
            #expect(order.filled == 100 && order.averageFillPrice > 0, "\(order)")
            Self.checkMonotonic(told.statuses(of: placed.clientKey), "told")
            let events = try Self.journaled(rig.journal, placed.clientKey)
            Self.checkMonotonic(Self.collapsed(events.map { $0.status }), "journaled \(events)")
            #expect(!events.contains { $0.kind == "filled at TWS" }, "the executions filled it, not TWS's word: \(events)")
        }
    }

    @Test("filled while away, its executions older than TWS reports: ends filled on TWS's word at the end of the reconciliation")
    func filledWhileAwayExecutionsNeverCome() async throws {
        let rigs = TradingStateTests()
        try await rigs.withRig(TradingStateTests.gateway { $0.market.clock = "manual"; $0.fills.partialFills = false }) { rig in
            let (told, placed) = try await Self.workingThenAway(rig)
            // It fills while we are away; then its execution falls out of what TWS reports
            // (reqExecutions covers the day: this one is from a previous day).
            let gone = try await rig.server.withEngine { engine -> Int in
                _ = engine.control("price AAPL 98.50")
                let before = engine.executions.count
                engine.executions.removeAll { $0.execution.clientId == 1 && $0.execution.orderId == placed.orderId }
                return before - engine.executions.count
            }
            try #require(gone == 1, "the premise: the order filled at the gateway in one execution, now unreported")
            try await rig.client.waitUntilReady(timeout: 10)
            try await eventually("ended filled by the reconciliation") {
                await rig.state.snapshot().orders.first { $0.orderId == placed.orderId }?.status == .filled
            }
            #expect(await rig.state.drainJournal(within: 10) == nil)
            let snapshot = await rig.state.snapshot()
            let order = try #require(snapshot.orders.first { $0.orderId == placed.orderId })
            #expect(order.filled == 100, "TWS's filled figure (completed order's filledQuantity): \(order)")
            #expect(!snapshot.executions.contains { $0.clientKey == placed.clientKey }, "no execution invented")
            Self.checkMonotonic(told.statuses(of: placed.clientKey), "told")
            let events = try Self.journaled(rig.journal, placed.clientKey)
            Self.checkMonotonic(Self.collapsed(events.map { $0.status }), "journaled \(events)")
            #expect(events.last?.kind == "filled at TWS" && events.last?.filled == 100, "\(events)")
            // The journal's executions cannot explain the 100 shares TWS holds: that stays
            // visible (fail-closed), the order's fate does not depend on it.
            #expect(rig.state.lastReport.unexplainedPositions["AAPL"] == .init(reported: 100, explained: 0), "\(rig.state.lastReport)")
        }
    }

    @Test("a completed order reported Filled ahead of its executions, part filled before: not cancelled, filled when they come")
    func completedFilledAheadOfExecutions() async throws {
        try await TradingStateTests().withRig { rig in
            let told = Told()
            rig.state.observe { event in if case let .order(record) = event { told.add(record) } }
            // Works at the gateway and never fills there (a limit far below the market): the
            // reports below are TWS's, fed in the order a reconciliation gets them.
            let placed = try await rig.state.submit(contract: Contract(symbol: "AAPL"),
                                                    order: Order(action: "BUY", quantity: 100, type: "LMT", limit: 1.0), strategy: "t")
            try await eventually("working") { await rig.state.snapshot().orders.first { $0.orderId == placed.orderId }?.status == .submitted }
            func execution(_ id: String, _ shares: Double) -> ServerMessage {
                var built = Execution()
                built.orderId = placed.orderId
                built.execId = id
                built.side = "BOT"
                built.shares = TWSDecimal(approximating: shares)
                built.price = 1.0
                built.orderRef = placed.order.orderRef
                return .execDetails(ExecDetails(reqId: -1, contract: Contract(symbol: "AAPL"), execution: built))
            }
            var completedOrder = placed.order
            completedOrder.filledQuantity = TWSDecimal(approximating: 100)
            let completed = ServerMessage.completedOrder(CompletedOrder(contract: Contract(symbol: "AAPL"), order: completedOrder,
                                                                        orderState: OrderState(status: "Filled")))
            let first = execution("synthetic-away.01.01", 40), second = execution("synthetic-away.02.01", 60)
            // 40 heard before the drop; TWS then lists the order among completed orders as Filled.
            try await rig.client.eventLoop.submit { rig.state.handle(first); rig.state.handle(completed) }.get()
            var order = try #require(await rig.state.snapshot().orders.first { $0.orderId == placed.orderId })
            #expect(order.status == .submitted && order.filled == 40, "works on until its executions cover it: \(order)")
            // The rest of its executions.
            try await rig.client.eventLoop.submit { rig.state.handle(second) }.get()
            order = try #require(await rig.state.snapshot().orders.first { $0.orderId == placed.orderId })
            #expect(order.status == .filled && order.filled == 100, "\(order)")
            #expect(await rig.state.drainJournal(within: 10) == nil)
            Self.checkMonotonic(told.statuses(of: placed.clientKey), "told")
        }
    }
}
