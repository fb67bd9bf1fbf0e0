import Foundation
import TWSClient
import TWSProtocol
@testable import PaperGateway
@testable import TradingState

/// What the paper gateway holds of client 1: its orders, executions, positions and quotes,
/// read in one turn of its loop (so they agree with each other).
struct OrderPathGatewayView: Sendable {
    struct Order: Sendable, Equatable {
        var id: Int
        var symbol: String
        var status: String
        var type: String
        var quantity: Double
        var filled: Double
        var limit: Double?
        var isWorking: Bool
    }

    struct Fill: Sendable, Equatable {
        var execId: String
        var orderId: Int
        var symbol: String
        var signedShares: Double
    }

    struct Quote: Sendable, Equatable {
        var bid: Double
        var ask: Double
    }

    var orders: [Int: Order] = [:]
    var fills: [Fill] = []
    var positions: [String: Double] = [:]
    var quotes: [String: Quote] = [:]
    /// Requests the `hold` fault keeps (none once quiet).
    var held = 0

    static func read(_ server: PaperGatewayServer, symbols: [String]) async throws -> OrderPathGatewayView {
        try await server.withEngine { engine in
            var view = OrderPathGatewayView()
            for (key, paper) in engine.orders where key.clientId == 1 {
                view.orders[key.orderId] = Order(id: key.orderId, symbol: paper.contract.symbol, status: paper.status, type: paper.order.orderType, quantity: paper.quantity,
                                                 filled: paper.filled, limit: paper.order.lmtPrice, isWorking: paper.isWorking)
            }
            for record in engine.executions where record.execution.clientId == 1 {
                let shares = record.execution.shares?.doubleValue ?? 0
                view.fills.append(Fill(execId: record.execution.execId, orderId: record.execution.orderId, symbol: record.contract.symbol,
                                       signedShares: record.execution.side == "BOT" ? shares : -shares))
            }
            for (symbol, holding) in engine.accounts[engine.defaultAccount]?.holdings ?? [:] { view.positions[symbol] = holding.quantity }
            for symbol in symbols {
                if let quote = engine.market.quote(symbol: symbol) { view.quotes[symbol] = Quote(bid: quote.bid, ask: quote.ask) }
            }
            view.held = engine.faults.held.count
            return view
        }
    }
}

/// What one Moonwire knows: the trading state's orders, executions and positions, what its
/// journal holds, and its order gate.
struct OrderPathMoonwireView: Sendable {
    var orders: [OrderRecord] = []
    var executions: [ExecutionRecord] = []
    /// As TWS reported them (position / updatePortfolio), by instrument.
    var positions: [String: Double] = [:]
    var journalOrders: [OrderRecord] = []
    var journalExecutions: [ExecutionRecord] = []
    var journalError: String?
    var gate: [String: String] = [:]
    var ready = false

    static func read(_ moonwire: OrderPathModelMoonwire) async -> OrderPathMoonwireView {
        var view = OrderPathMoonwireView()
        let snapshot = await moonwire.state.snapshot()
        view.orders = snapshot.orders.filter { $0.strategy == OrderPathModelMoonwire.strategy }
        view.executions = snapshot.executions
        for position in snapshot.positions { view.positions[position.symbol, default: 0] += position.quantity }
        // The journal holds at least what memory held when the snapshot was taken once the
        // writer has caught up (memory first, then the journal, then the consumers).
        if let left = await moonwire.state.drainJournal(within: 2) {
            view.journalError = "\(left) journal writes still waiting"
        }
        do {
            view.journalOrders = try moonwire.journal.loadOrders(scope: snapshot.scope).filter { $0.strategy == OrderPathModelMoonwire.strategy }
            view.journalExecutions = try moonwire.journal.loadExecutions(scope: snapshot.scope)
        } catch {
            view.journalError = "the journal cannot be read: \(error)"
        }
        for cause in OrderGate.causes {
            if let reason = moonwire.client.orderGate.reason(of: cause) { view.gate[cause] = reason }
        }
        view.ready = await moonwire.client.isReady
        return view
    }
}

/// The invariants of the order path at a quiet moment, as a list of what differs (empty:
/// they hold). Pure: the views in, the differences out.
enum OrderPathModelCheck {
    /// The status Moonwire should show for an order the gateway reports `status` for. The
    /// paper gateway keeps a refused placement as Inactive (with the error): Moonwire's
    /// `rejected`.
    static func expected(gatewayStatus status: String) -> OrderRecord.Status? {
        status == "Inactive" ? .rejected : OrderLifecycle.status(tws: status)
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-6 }

    /// - Parameters:
    ///   - neverSent: ids Moonwire said never left (not_sent, or refused at the gate): never at the gateway.
    ///   - halted: the kill switch closed this Moonwire's gate (and nothing of ours works at the gateway).
    static func problems(gateway: OrderPathGatewayView, moonwire: OrderPathMoonwireView, neverSent: Set<Int>, halted: Bool) -> [String] {
        var problems: [String] = []
        // Quiet: connected, reconciled, the journal written, the gateway holding nothing back.
        if !moonwire.ready { problems.append("the client is not connected") }
        for cause in ["journal", "reconcile", "reconciling"] {
            if let reason = moonwire.gate[cause] { problems.append("the order gate is closed for \(cause): \(reason)") }
        }
        if (moonwire.gate["halted"] != nil) != halted {
            problems.append(halted ? "the kill switch's closure of the gate is gone" : "the gate is halted without a halt")
        }
        if gateway.held > 0 { problems.append("the gateway still holds \(gateway.held) requests") }
        if let error = moonwire.journalError { problems.append(error) }

        // (1) Orders: each order at the gateway has one record in Moonwire, with the same id,
        // status, terms and fill; every other record of ours never reached the gateway.
        let byId = Dictionary(grouping: moonwire.orders, by: \.orderId)
        for (id, records) in byId where records.count > 1 {
            problems.append("order id \(id) has \(records.count) records in Moonwire: \(records.map(\.clientKey))")
        }
        for order in gateway.orders.values.sorted(by: { $0.id < $1.id }) {
            guard let record = byId[order.id]?.first else {
                problems.append("order \(order.id) is at the gateway (\(order.status)) but not in Moonwire")
                continue
            }
            let want = expected(gatewayStatus: order.status)
            if record.status != want {
                // A placement refused while Moonwire was away (killed before the error came):
                // TWS lists it among completed orders as Inactive, which Moonwire takes for held.
                let tag = order.status == "Inactive" && record.status == .inactive ? " [a refused placement learnt from completed orders]" : ""
                problems.append("order \(order.id): gateway \(order.status), Moonwire \(record.status.rawValue) (\(record.reason))\(tag)")
            }
            if !close(record.filled, order.filled) {
                problems.append("order \(order.id): gateway filled \(order.filled), Moonwire \(record.filled)")
            }
            // A refused placement keeps the terms asked for at both ends; a working or done
            // order's terms are those of the last modification the gateway took.
            // Terms Moonwire holds though TWS refused the modification that set them: the
            // refusal came after a report of the order that the modification took for its answer.
            let refusedKept = record.reason.hasPrefix("request refused") ? " [a refused modification kept: \(record.reason)]" : ""
            if !close(record.quantity, order.quantity) {
                problems.append("order \(order.id): gateway quantity \(order.quantity), Moonwire \(record.quantity)\(refusedKept)")
            }
            if record.order.lmtPrice.map({ ($0 * 1e6).rounded() }) != order.limit.map({ ($0 * 1e6).rounded() }) {
                problems.append("order \(order.id): gateway limit \(order.limit.map { "\($0)" } ?? "none"), "
                                + "Moonwire \(record.order.lmtPrice.map { "\($0)" } ?? "none")\(refusedKept)")
            }
            if neverSent.contains(order.id) { problems.append("order \(order.id) reached the gateway though Moonwire said it was never sent") }
        }
        for record in moonwire.orders where gateway.orders[record.orderId] == nil {
            if record.status != .notSent && record.status != .unknown {
                problems.append("order \(record.orderId) is \(record.status.rawValue) in Moonwire but the gateway never had it (\(record.reason))")
            }
        }
        if halted {
            let working = gateway.orders.values.filter(\.isWorking).map(\.id).sorted()
            if !working.isEmpty { problems.append("halted, yet orders \(working) still work at the gateway") }
        }

        // (2) Executions: each of the gateway's once in Moonwire, the same; none besides.
        var seen: [String: Int] = [:]
        for execution in moonwire.executions { seen[execution.execId, default: 0] += 1 }
        for (id, count) in seen where count > 1 { problems.append("execution \(id) counted \(count) times") }
        let mine = Dictionary(moonwire.executions.map { ($0.execId, $0) }, uniquingKeysWith: { first, _ in first })
        for fill in gateway.fills {
            guard let execution = mine[fill.execId] else {
                problems.append("execution \(fill.execId) (order \(fill.orderId), \(fill.signedShares) \(fill.symbol)) is missing in Moonwire")
                continue
            }
            if !close(execution.signedShares, fill.signedShares) || execution.orderId != fill.orderId || execution.symbol != fill.symbol {
                problems.append("execution \(fill.execId): gateway \(fill.signedShares) \(fill.symbol) of order \(fill.orderId), "
                                + "Moonwire \(execution.signedShares) \(execution.symbol) of order \(execution.orderId)")
            }
        }
        let gatewayIds = Set(gateway.fills.map(\.execId))
        for execution in moonwire.executions where !gatewayIds.contains(execution.execId) {
            problems.append("execution \(execution.execId) is in Moonwire but not at the gateway")
        }
        // Each order's fill is what its executions say, at both ends.
        for (id, records) in byId {
            guard let record = records.first else { continue }
            let executed = moonwire.executions.filter { $0.orderId == id }.reduce(0) { $0 + $1.shares }
            if !close(executed, record.filled) { problems.append("order \(id): filled \(record.filled), its executions \(executed)") }
        }

        // Positions: summed from Moonwire's executions, and as TWS reports them, equal the gateway's.
        var summed: [String: Double] = [:]
        for execution in moonwire.executions { summed[execution.symbol, default: 0] += execution.signedShares }
        for symbol in Set(summed.keys).union(gateway.positions.keys).union(moonwire.positions.keys).sorted() {
            let held = gateway.positions[symbol] ?? 0
            if !close(summed[symbol] ?? 0, held) {
                problems.append("position \(symbol): gateway \(held), Moonwire's executions sum to \(summed[symbol] ?? 0)")
            }
            if !close(moonwire.positions[symbol] ?? 0, held) {
                problems.append("position \(symbol): gateway \(held), Moonwire's reported position \(moonwire.positions[symbol] ?? 0)")
            }
        }

        // The journal holds what memory holds.
        let journaled = Dictionary(moonwire.journalOrders.map { ($0.clientKey, $0) }, uniquingKeysWith: { first, _ in first })
        for record in moonwire.orders {
            guard let kept = journaled[record.clientKey] else {
                problems.append("order \(record.orderId) (\(record.clientKey)) is not in the journal")
                continue
            }
            if kept.status != record.status || !close(kept.filled, record.filled) || !close(kept.quantity, record.quantity)
                || kept.order.lmtPrice != record.order.lmtPrice
            {
                problems.append("order \(record.orderId): journal \(kept.status.rawValue) \(kept.filled)/\(kept.quantity) @\(kept.order.lmtPrice ?? 0), "
                                + "memory \(record.status.rawValue) \(record.filled)/\(record.quantity) @\(record.order.lmtPrice ?? 0)")
            }
        }
        if journaled.count != moonwire.orders.count {
            problems.append("the journal holds \(journaled.count) orders of ours, memory \(moonwire.orders.count)")
        }
        let journaledFills = moonwire.journalExecutions.map(\.execId)
        if Set(journaledFills) != Set(mine.keys) || journaledFills.count != Set(journaledFills).count {
            problems.append("the journal's executions (\(journaledFills.count)) are not memory's (\(mine.count))")
        }
        return problems
    }
}
