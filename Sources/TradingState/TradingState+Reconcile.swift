import GRDB
import Foundation
import TWSClient
import TWSProtocol

extension TradingState {
    /// Brings the state in line with TWS: open and completed orders, executions (fills made
    /// while we were away are recorded once), positions, the account. A step that fails is
    /// "unknown", never "empty"; an unexplained position closes trading (fail-closed).
    /// One reconciliation at a time: a caller who arrives while one runs gets its report.
    @discardableResult
    public func reconcile() async -> ReconciliationReport {
        let task = try? await loop.submit { () -> Task<ReconciliationReport, Never> in
            // One that began before the last drop reconciles a connection that is gone: a
            // fresh one starts beside it.
            if let running = self.reconcileTask, running.connection == self.connectionNumber { return running.task }
            let connection = self.connectionNumber
            let task = Task { await self.performReconciliation(connection: connection) }
            self.reconcileTask = (connection, task)
            return task
        }.get()
        guard let task else { return ReconciliationReport(unknown: ["the client's loop is gone"]) }
        let report = await task.value
        try? await loop.submit { if self.reconcileTask?.task == task { self.reconcileTask = nil } }.get()
        return report
    }

    static let notReconciledYet = "not reconciled with TWS yet: orders leave once the state is (open orders, executions, positions)"
    static let reconcilingAfterDrop = "the connection to TWS dropped: no order leaves until the state is reconciled after the reconnect"

    /// Why a reconciliation's findings keep trading closed (`reconcile`), or nil: a step
    /// that failed, or (fail-closed) a position the journal cannot explain.
    func closure(after report: ReconciliationReport) -> String? {
        var problems = report.unknown.map { "unknown \($0)" }
        if options.failClosed {
            problems += report.unexplainedPositions.sorted { $0.key < $1.key }
                .map { "position \($0.key): TWS \($0.value.reported), journal \($0.value.explained)" }
        }
        return problems.isEmpty ? nil
            : "trading is closed until reconciled: \(problems.joined(separator: "; ")) (see `moonwire reconcile`)"
    }

    private func performReconciliation(connection: Int) async -> ReconciliationReport {
        var report = ReconciliationReport()
        // Orders placed while this reconciliation asks TWS are not in its answers: only
        // those older than it can be lost.
        let began = Date().timeIntervalSince1970
        let executionsBefore = (try? await loop.submit { self.executions.count }.get()) ?? 0
        var seenKeys = Set<String>()
        var seenIds = Set<Int>()
        var ordersKnown = true
        // Our orders TWS reports Filled, and the shares it says filled (0: not said). Their
        // executions, asked for after the order reports, usually fill them; those TWS no
        // longer reports (older than its execution window: a previous day) do not, and the
        // order ends filled on TWS's word once the executions have all come (below).
        var filledAtTWS: [String: Double] = [:]
        var executionsKnown = true
        let timeout = options.reconcileTimeout  // each step's, nil: the client's requestTimeout
        do {
            for item in try await client.openOrders(timeout: timeout) {
                seenIds.insert(item.openOrder.order.orderId)
                if let key = OrderRecord.clientKey(fromOrderRef: item.openOrder.order.orderRef) {
                    seenKeys.insert(key)
                    if item.openOrder.orderState.status == "Filled" || item.status?.status == "Filled" {
                        let said = item.status?.filled?.doubleValue ?? item.openOrder.order.filledQuantity?.doubleValue ?? 0
                        filledAtTWS[key] = max(filledAtTWS[key] ?? 0, said)
                    }
                }
            }
        } catch {
            report.unknown.append("open orders: \(error)")
            ordersKnown = false
        }
        do {
            for order in try await client.completedOrders(timeout: timeout) {
                if let key = OrderRecord.clientKey(fromOrderRef: order.order.orderRef) {
                    seenKeys.insert(key)
                    if order.orderState.status == "Filled" {
                        filledAtTWS[key] = max(filledAtTWS[key] ?? 0, order.order.filledQuantity?.doubleValue ?? 0)
                    }
                }
            }
        } catch {
            report.unknown.append("completed orders: \(error)")
            ordersKnown = false
        }
        do {
            for execution in try await client.executions(timeout: timeout) {
                if let key = OrderRecord.clientKey(fromOrderRef: execution.details.execution.orderRef) { seenKeys.insert(key) }
            }
        } catch {
            report.unknown.append("executions: \(error)")
            ordersKnown = false
            executionsKnown = false
        }
        var reported: [Position]?
        do {
            reported = try await client.positions(timeout: timeout)
        } catch {
            report.unknown.append("positions: \(error)")
        }
        do {
            let accounts = try await client.accountSummary(tags: ["AccountType"], timeout: timeout).map(\.account)
            if let first = accounts.first { _ = try await client.accountUpdates(account: first, timeout: timeout) }
        } catch {
            report.unknown.append("account: \(error)")
        }
        let final = report
        let snapshotPositions = reported
        let keysSeen = seenKeys
        let idsSeen = seenIds
        let knownOrders = ordersKnown
        let filledByTWS = executionsKnown ? filledAtTWS : [:]
        report = (try? await loop.submit { () -> ReconciliationReport in
            var report = final
            report.executionsRecovered = self.executions.count - executionsBefore
            // Every execution TWS reports has been handled by now: an order TWS said was filled
            // that they do not fill ends filled on TWS's word, with the shares TWS said (its
            // quantity when it said none), never fewer than its executions show. (A failed
            // executions step ends none: a later reconciliation, or the executions, will.)
            for (key, said) in filledByTWS.sorted(by: { $0.key < $1.key }) {
                guard var record = self.orders[key], !record.strategy.isEmpty, !record.status.isTerminal else { continue }
                let executed = self.executedShares(key)
                record.filled = max(executed, said > 0 ? said : record.quantity)
                record.status = .filled
                record.updatedAt = Date().timeIntervalSince1970
                let detail = "TWS reports it Filled (\(record.filled) shares); its executions show \(executed): "
                    + "the others are not among the executions TWS reports (older than its window)"
                self.logger.warning("order \(key): \(detail)")
                self.store(record, event: "filled at TWS", detail: detail)
            }
            if knownOrders {
                for (key, record) in self.orders where !record.status.isTerminal && record.status != .unknown && !key.hasPrefix("tws:")
                    && !keysSeen.contains(key) && !idsSeen.contains(record.orderId) && record.createdAt < began
                {
                    var lost = record
                    lost.status = .unknown
                    lost.reason = "not found at TWS after reconnecting: it never arrived or was lost; not resent"
                    lost.updatedAt = Date().timeIntervalSince1970
                    self.store(lost, event: "lost", detail: lost.reason)
                    report.lostOrders.append(key)
                }
            }
            if let positions = snapshotPositions {
                let explained = self.explainedPositions()
                let baseline = self.journal.positionBaseline(scope: self.scope)
                var symbols = Set(positions.map(\.contract.instrumentKey)).union(explained.keys)
                symbols.formUnion(baseline.keys)
                for symbol in symbols.sorted() {
                    let tws = positions.filter { $0.contract.instrumentKey == symbol }.reduce(0) { $0 + ($1.position?.doubleValue ?? 0) }
                    let ours = (explained[symbol] ?? 0) + (baseline[symbol] ?? 0)
                    if abs(tws - ours) > 1e-6 {
                        report.unexplainedPositions[symbol] = .init(reported: tws, explained: ours)
                    }
                }
            }
            // The gate opens only on a reconciliation of the connection as it is now; its
            // findings and the end of `reconciling` change in one step (nothing leaves between).
            if connection == self.connectionNumber {
                self.client.orderGate.update(["reconciling": nil, "reconcile": self.closure(after: report)])
            } else {
                report.unknown.append("the connection dropped during the reconciliation: another follows the reconnect")
            }
            if !report.unexplainedPositions.isEmpty {
                let text = report.unexplainedPositions.sorted { $0.key < $1.key }
                    .map { "\($0.key): TWS \($0.value.reported), journal \($0.value.explained)" }.joined(separator: "; ")
                self.logger.warning("positions the journal cannot explain: \(text)\(self.options.failClosed ? " (trading is closed until acknowledged)" : "")")
                self.journal.connectionEvent("unexplained positions", text)
            }
            self.lastReport = report
            self.emit(.reconciled(report))
            return report
        }.get()) ?? report
        return report
    }

    /// Accepts TWS's positions as they are now (e.g. holdings from before this journal) and
    /// reopens trading: the difference becomes the journal's baseline.
    public func acknowledgePositions() async throws {
        let positions = try await client.positions()
        try await loop.submit {
            let explained = self.explainedPositions()
            var baseline: [String: Double] = [:]
            for position in positions {
                baseline[position.contract.instrumentKey, default: 0] += position.position?.doubleValue ?? 0
            }
            for (symbol, quantity) in explained { baseline[symbol, default: 0] -= quantity }
            try self.journal.setPositionBaseline(baseline.filter { abs($0.value) > 1e-9 }, scope: self.scope)
            self.lastReport.unexplainedPositions = [:]
            self.client.orderGate.update(["reconcile": self.closure(after: self.lastReport)])
        }.get()
    }
}

extension Journal {
    /// Holdings a scope had before its journaled executions, as acknowledged by the user:
    /// meta rows `baseline|SCOPE|SYMBOL`.
    func positionBaseline(scope: String) -> [String: Double] {
        let prefix = "baseline|\(scope)|"
        let rows = (try? queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", arguments: [prefix.count, prefix])
        }) ?? []
        var result: [String: Double] = [:]
        for row in rows {
            let key: String = row["key"]
            result[String(key.dropFirst(prefix.count))] = Double(row["value"] as String) ?? 0
        }
        return result
    }

    func setPositionBaseline(_ baseline: [String: Double], scope: String) throws {
        let prefix = "baseline|\(scope)|"
        try queue.write { db in
            try db.execute(sql: "DELETE FROM meta WHERE substr(key, 1, ?) = ?", arguments: [prefix.count, prefix])
            for (symbol, quantity) in baseline {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [prefix + symbol, String(quantity)])
            }
        }
    }
}
