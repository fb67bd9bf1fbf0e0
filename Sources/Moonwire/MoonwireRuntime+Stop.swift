import Foundation
import TWSProtocol

extension MoonwireRuntime {
    /// Stops everything, bounded whatever the strategies are doing: file watching and the
    /// control channel, then every strategy (`on_stop`; a hung one is left behind after its
    /// grace), the connection, the paper gateway, the journal. Open orders stay open (use
    /// `halt` first to cancel them); the summary says what is left. Calling it again returns
    /// the same summary.
    public func stop() async -> MoonwireRunSummary {
        // The first caller starts the one stop; every caller awaits it.
        let task = stopping.withLockedValue { task in
            if task == nil { task = Task { await self.stopOnce() } }
            return task!
        }
        return await task.value
    }

    private func stopOnce() async -> MoonwireRunSummary {
        files.stop()
        if let server = control.withLockedValue({ $0 }) { await server.close() }
        let names = strategyNames
        var statistics = await runner.stopAll()
        // What the journal's writer still has from the last moments (stores of on_stop included).
        _ = await state.drainJournal(within: 3)
        let snapshot = await state.snapshot()
        let account = self.account
        let client = self.client
        let pnl = await boundedWait(2) { (finish: @escaping @Sendable (PnL?) -> Void) in
            Task { finish(try? await client.pnl(account: account)) }
        }
        for name in names {
            if let strategy = runner.strategy(named: name) { runner.remove(strategy) }
            files.removed(name: name)
        }
        await client.stop()
        try? await paperGateway?.shutdown()
        // What the last messages brought, written before the journal closes; a journal that
        // cannot take it (a full disk) is said in the summary, never dropped silently.
        let unwritten = await state.drainJournal(within: 5, clientRunning: false)
        journal.close()
        for name in names where statistics[name] == nil { statistics[name] = StrategyStatistics() }
        var summary = MoonwireRunSummary(startedAt: startedAt, stoppedAt: Date(), statistics: statistics, snapshot: snapshot, pnl: pnl)
        summary.unjournaled = unwritten ?? 0
        // The built-in gateway's account ends with it, unless it keeps a state file.
        summary.accountEndsWithProcess = paperGateway != nil && configuration.paper.stateFile == nil
        stopped.withLockedValue { $0 = summary }
        hub.finish(with: .stopped(summary))
        return summary
    }
}

/// What a run did and what it leaves: per strategy, its events, orders and fills of this
/// run, and its open orders and positions at the end.
public struct MoonwireRunSummary: Sendable {
    public struct Part: Sendable {
        public var name: String
        public var statistics: StrategyStatistics
        /// Executions of its orders received during the run (corrections included).
        public var fills: [ExecutionRecord]
        public var commissions: Double
        /// Its orders still open at the end.
        public var openOrders: [OrderRecord]
        /// What its own fills (of every run) hold at the end.
        public var positions: [HeldPosition]
    }

    public struct HeldPosition: Sendable, Equatable {
        public var symbol: String
        public var quantity: Double
        public var averageCost: Double
    }

    public var startedAt: Date
    public var stoppedAt: Date
    public var strategies: [Part]
    /// The account's PnL from TWS at the end (nil when it gave none in 2 s).
    public var pnl: PnL?
    /// The account's positions at the end (all strategies, other clients, manual trades).
    public var accountPositions: [PositionRecord]
    /// Writes the journal could not take before it closed (it was failing: a full disk, a
    /// read-only file): what they held is not in the journal.
    public var unjournaled = 0
    /// The account was the built-in paper gateway's, without a state file: it ended with the run.
    public var accountEndsWithProcess = false

    init(startedAt: Date, stoppedAt: Date, statistics: [String: StrategyStatistics], snapshot: TradingState.Snapshot, pnl: PnL?) {
        self.startedAt = startedAt
        self.stoppedAt = stoppedAt
        self.pnl = pnl
        accountPositions = snapshot.positions.filter { $0.quantity != 0 }
        let since = startedAt.timeIntervalSince1970
        strategies = statistics.keys.sorted().map { name in
            let orders = snapshot.orders.filter { $0.strategy == name }
            let keys = Set(orders.map(\.clientKey))
            let ids = Set(orders.map(\.orderId))
            let fills = snapshot.executions.filter { execution in
                execution.receivedAt >= since && (execution.clientKey.map(keys.contains) ?? ids.contains(execution.orderId))
            }
            let book = PositionBook.own(of: name, in: snapshot)
            return Part(name: name, statistics: statistics[name] ?? StrategyStatistics(), fills: fills,
                        commissions: fills.compactMap { $0.commission?.commission }.reduce(0, +),
                        openOrders: orders.filter { !$0.status.isTerminal && $0.status != .unknown },
                        positions: book.keys.compactMap { key in book[key].map { HeldPosition(symbol: key, quantity: $0.quantity, averageCost: $0.averageCost) } })
        }
    }

    /// Whether the run leaves risk on: an open order or a position of a strategy.
    public var leavesRiskOn: Bool { strategies.contains { !$0.openOrders.isEmpty || !$0.positions.isEmpty } }

    /// The summary `moonwire run` prints: one block per strategy.
    public var text: String {
        let seconds = stoppedAt.timeIntervalSince(startedAt)
        func money(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "n/a" }
        func quantity(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
        var blocks: [String] = []
        for part in strategies {
            let s = part.statistics
            let shares = part.fills.filter { $0.corrects == nil }.reduce(0) { $0 + $1.shares }
            var lines = [
                "summary of \(part.name) after \(String(format: "%.1f", seconds)) s:",
                "  events delivered  \(s.eventsDelivered) (quotes \(s.quotesDelivered) carrying \(s.ticksDelivered) ticks, quotes coalesced \(s.quotesCoalesced))",
                "  orders            \(s.ordersPlaced) placed, \(s.ordersRefused) refused before sending (risk gate, unknown instrument)",
                "  fills             \(part.fills.filter { $0.corrects == nil }.count) (\(quantity(shares)) shares, commissions \(money(part.commissions)))",
                "  realized pnl      \(money(s.realizedPnL)) (this run, its own fills, after commissions)",
                "  errors            \(s.errors) (\(s.handlerFailures) failing handlers)\(s.paused ? ", strategy paused" : "")\(s.hung ? ", strategy declared hung" : "")",
            ]
            lines.append("  left open         " + (part.openOrders.isEmpty ? "no orders" : part.openOrders.map {
                "order \($0.orderId) \($0.order.action) \(quantity($0.remaining)) \($0.instrumentKey) \($0.order.orderType)"
                    + (($0.order.lmtPrice ?? $0.order.auxPrice).map { " \($0)" } ?? "")
            }.joined(separator: "; ")))
            lines.append("  positions         " + (part.positions.isEmpty ? "flat" : part.positions.map {
                "\(quantity($0.quantity)) \($0.symbol) at \(String(format: "%.2f", $0.averageCost))"
            }.joined(separator: "; ")))
            blocks.append(lines.joined(separator: "\n"))
        }
        blocks.append("account pnl: daily \(money(pnl?.dailyPnL)), unrealized \(money(pnl?.unrealizedPnL)), realized \(money(pnl?.realizedPnL))")
        if unjournaled > 0 {
            blocks.append("error: \(unjournaled) journal write(s) could not be made before the end (the journal was failing): "
                          + "what they held (orders' states, fills, a store) is missing from the journal; check it with `moonwire state`")
        }
        if leavesRiskOn {
            blocks.append(accountEndsWithProcess
                ? "note: open orders or positions above were in the built-in paper gateway's account, which ended with this run (nothing stays open anywhere)"
                : "warning: the run leaves risk on (open orders or positions above); they stay with the account after this process ends")
        }
        return blocks.joined(separator: "\n")
    }
}
