import Foundation
import TWSClient
import TWSProtocol
@testable import PaperGateway
@testable import StrategyHost
@testable import TradingState

/// The order-path model's faults: a disconnect with fills during the gap, the kill switch,
/// and a restart of Moonwire; and what must hold while the order gate is closed.
extension OrderPathModelRun {
    /// The gateway's orders of client 1 and their terms: what must not change while the gate
    /// is closed (fills and cancels change status and fill, never terms or ids).
    private static func terms(_ view: OrderPathGatewayView) -> [Int: String] {
        view.orders.mapValues { "\($0.quantity) @\($0.limit.map { "\($0)" } ?? "mkt")" }
    }

    /// While the gate is closed for `cause`: a new order through the runner is refused; one
    /// past the runner (the trading state's own submit) and a modification past it are stopped
    /// before they reach the gateway; and the gateway's orders are still those of `before`,
    /// with their terms, as long as the gate stayed closed (checked after reading the gateway:
    /// the gate only ever reopens, so closed after means closed throughout).
    private func attemptsWhileClosed(_ cause: String, before: OrderPathGatewayView) async throws {
        let state = moonwire.state
        let runner = moonwire.runner
        let client = moonwire.client
        var problems: [String] = []
        let symbol = random.pick(Self.symbols)
        let order = Order(action: "BUY", quantity: 100, type: "LMT", limit: Self.cents((startPrices[symbol] ?? 100) * 0.9))
        do {
            let id = try runner.submitNew(contract: Contract(symbol: symbol), order: order, strategy: OrderPathModelMoonwire.strategy)
            if client.orderGate.reason(of: cause) != nil { problems.append("the runner took order \(id) while the gate was closed for \(cause)") }
            placed.append(id)
            note("while closed (\(cause)): the runner took order \(id)")
        } catch {
            note("while closed (\(cause)): the runner refused: \(error)")
            count("orders refused while the gate was closed")
        }
        // Past the runner: the order is journaled and meets the gate (or the dead socket) where it leaves.
        let id = client.reserveIdNow()
        do {
            let future = try await state.beginSubmit(contract: Contract(symbol: symbol), order: order, strategy: OrderPathModelMoonwire.strategy, id: id)
            _ = try await future.get()
            if client.orderGate.reason(of: cause) != nil { problems.append("order \(id) reached the gateway while the gate was closed for \(cause)") }
            note("while closed (\(cause)): order \(id) past the runner was acknowledged (the gate had reopened)")
        } catch TWSError.orderGateClosed(let reason) {
            neverSent.insert(id)
            note("while closed (\(cause)): order \(id) past the runner stopped at the gate: \(reason)")
            count("orders stopped at the socket")
        } catch TWSError.notConnected {
            neverSent.insert(id)
            note("while closed (\(cause)): order \(id) past the runner not sent: not connected")
            count("orders stopped at the socket")
        } catch {
            note("while closed (\(cause)): order \(id) past the runner failed: \(error)")
        }
        // A modification past the runner, of an order working at the gateway.
        if let target = before.orders.values.filter({ $0.isWorking && $0.type == "LMT" }).map(\.id).sorted().first {
            do {
                let future = try await state.beginModify(orderId: target) { $0.lmtPrice = ($0.lmtPrice ?? 1) + 0.01 }
                try await future.get()
                if client.orderGate.reason(of: cause) != nil {
                    problems.append("the modification of order \(target) reached the gateway while the gate was closed for \(cause)")
                }
                note("while closed (\(cause)): the modification of order \(target) went (the gate had reopened)")
            } catch {
                note("while closed (\(cause)): the modification of order \(target) stopped: \(error)")
                count("modifications stopped at the socket")
            }
        }
        let after = try await OrderPathGatewayView.read(server, symbols: Self.symbols)
        if client.orderGate.reason(of: cause) != nil {
            count("conclusive gate checks")
            let added = Set(after.orders.keys).subtracting(before.orders.keys).sorted()
            if !added.isEmpty { problems.append("orders \(added) reached the gateway while the gate was closed for \(cause)") }
            let was = Self.terms(before)
            let now = Self.terms(after)
            for (id, terms) in was where now[id] != terms {
                problems.append("order \(id) changed at the gateway while the gate was closed for \(cause): \(terms) -> \(now[id] ?? "gone")")
            }
        } else {
            count("gate checks cut short by the reconnect")
        }
        if !problems.isEmpty { throw failure("an order left while the gate was closed for \(cause)", problems) }
    }

    /// The connection drops (or the gateway restarts and refuses connections a moment), the
    /// market moves meanwhile (working orders fill while we are away), and the gateway is
    /// slow to report orders and executions after the reconnect (the reconciliation waits):
    /// the gate is closed from the drop until the reconciliation, and nothing leaves meanwhile.
    func disconnect() async throws {
        let restart = random.chance(0.4)
        let hold = 0.3 + 0.4 * random.unit()
        let symbol = random.pick(Self.symbols)
        let price = Self.cents((startPrices[symbol] ?? 100) * (1 + 0.06 * (random.unit() - 0.5)))
        let moves = 1 + random.below(4)
        let commands = ["hold \(String(format: "%.2f", hold))", restart ? "restart 0.3" : "drop", "price \(symbol) \(price)", "step \(moves)"]
        // In one turn of the gateway's loop: the fills come after the drop, before any reconnect.
        let replies = try await server.withEngine { engine in commands.map { engine.control($0) } }
        note("disconnect: \(zip(commands, replies).map { "\($0) -> \($1)" }.joined(separator: "; "))")
        count(restart ? "gateway restarts" : "drops")
        let client = moonwire.client
        do {
            try await eventually("the drop closes the gate", timeout: 10) { client.orderGate.reason(of: "reconciling") != nil }
        } catch {
            throw failure("the gate did not close at the drop", ["\(error)"])
        }
        let before = try await OrderPathGatewayView.read(server, symbols: Self.symbols)
        try await attemptsWhileClosed("reconciling", before: before)
        try await checkpoint("after the reconnect")
    }

    /// The kill switch: the gate closes for good, every working order of ours is cancelled;
    /// nothing leaves after; then Moonwire restarts (a halt lasts as long as the process).
    func halt() async throws {
        let report = await moonwire.runner.halt(reason: "the model's kill switch", within: 5)
        note("halt -> complete \(report.complete), cancelled \(report.cancelled), filled \(report.filled), not sent \(report.notSent), "
             + "left \(report.left.map(\.orderId))")
        count("halts")
        halted = true
        if !report.complete { throw failure("the halt is incomplete", [report.text]) }
        let before = try await OrderPathGatewayView.read(server, symbols: Self.symbols)
        try await attemptsWhileClosed("halted", before: before)
        try await control("step \(1 + random.below(3))")
        try await checkpoint("after the halt")
        try await restart(reason: "restart after the halt")
    }

    /// Moonwire goes away without a clean stop (sometimes with an order on its way), the
    /// market moves while it is away, and a new Moonwire starts on the same journal and the
    /// same gateway: reconciled, it must agree with the gateway, nothing counted twice.
    func restart(reason: String) async throws {
        if !halted && random.chance(0.5) { try await place(valid: true) }  // on its way at the crash
        await moonwire.crash()
        crashed = true
        let symbol = random.pick(Self.symbols)
        let price = Self.cents((startPrices[symbol] ?? 100) * (1 + 0.06 * (random.unit() - 0.5)))
        try await control("price \(symbol) \(price)")
        try await control("step \(1 + random.below(4))")
        do {
            moonwire = try await OrderPathModelMoonwire.start(port: server.port, journal: journalPath)
        } catch {
            throw failure("Moonwire did not start again on its journal", ["\(error)"])
        }
        crashed = false
        halted = false
        note("\(reason): a new Moonwire on the same journal")
        count("restarts of Moonwire")
        try await checkpoint("after the restart")
    }
}
