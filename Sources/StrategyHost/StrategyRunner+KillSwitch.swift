import Foundation
import NIOConcurrencyHelpers
import TWSClient
import TWSProtocol
import TradingState

/// What the kill switch did, by TWS's own account: what it stopped before it left, what TWS
/// cancelled, and what of ours TWS still works.
public struct HaltReport: Sendable {
    /// An order of ours still working at the end (by TWS's list of open orders), or one TWS
    /// has not acknowledged yet, so that nobody can tell.
    public struct Left: Sendable, Equatable {
        public var orderId: Int
        public var strategy: String
        /// `BUY 1 AAPL LMT 1.0`
        public var terms: String
        /// TWS's status (`Submitted`, `PendingCancel`...) or why it is unknown.
        public var status: String
    }

    /// Orders stopped before they reached TWS (queued for sending, or on their way inside
    /// Moonwire when the gate closed).
    public var notSent: [Int] = []
    /// Orders of ours TWS reported cancelled.
    public var cancelled: [Int] = []
    /// Orders of ours that filled before their cancel could take effect.
    public var filled: [Int] = []
    public var left: [Left] = []
    /// Whether TWS's open orders were read after the cancels (otherwise `left` is what the
    /// journal knows), and why not.
    public var readBack = false
    public var readBackError: String?
    public var seconds = 0.0

    /// Nothing of ours works any more, and TWS said so.
    public var complete: Bool { left.isEmpty && readBack }

    /// How the answer to `moonwire halt` starts when the halt is complete.
    public static let completePrefix = "halted:"

    /// The answer `moonwire halt` prints: one line that says whether anything of ours still
    /// works, then what was stopped, cancelled and left, order by order for what is left.
    public var text: String {
        var lines: [String] = []
        let took = String(format: "%.1f", seconds)
        if complete {
            lines.append("\(Self.completePrefix) no order leaves any more, and TWS lists no working order of ours (after \(took) s)")
        } else if !readBack {
            lines.append("halt incomplete: TWS did not list its open orders (\(readBackError ?? "no answer")); "
                         + "\(left.count) order(s) of ours are open by the journal after \(took) s")
        } else {
            lines.append("halt incomplete: \(left.count) order(s) of ours still working (TWS's open orders after \(took) s)")
        }
        if !notSent.isEmpty { lines.append("  stopped before reaching TWS: \(notSent.count) (\(Self.ranges(notSent)))") }
        lines.append("  cancelled: \(cancelled.count)" + (cancelled.isEmpty ? "" : " (\(Self.ranges(cancelled)))"))
        if !filled.isEmpty { lines.append("  filled before the cancel: \(filled.count) (\(Self.ranges(filled)))") }
        for order in left { lines.append("  still working: order \(order.orderId) of \(order.strategy): \(order.terms) (\(order.status))") }
        return lines.joined(separator: "\n")
    }

    /// `3-7, 9, 12-15`: ids as runs.
    static func ranges(_ ids: [Int]) -> String {
        var runs: [(first: Int, last: Int)] = []
        for id in Set(ids).sorted() {
            if let last = runs.last?.last, id == last + 1 { runs[runs.count - 1].last = id } else { runs.append((id, id)) }
        }
        return "ids " + runs.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)" }.joined(separator: ", ")
    }
}

extension StrategyRunner {
    // MARK: The kill switch

    /// Closes the order gate first (nothing queued, in a strategy's hands or on its way inside
    /// Moonwire leaves after it: the client checks it as it writes each order, under the lock
    /// taken here), then cancels every working order of ours (this client's orders, by their
    /// orderRef), again for any TWS acknowledges or still lists later, and reads TWS's open
    /// orders back, up to `seconds`. Never touches a strategy's loop.
    /// With `everything`, TWS's global cancel goes out too: every open order of the account,
    /// manual ones and other clients' included.
    public func halt(reason: String, everything: Bool = false, within seconds: Double = 10) async -> HaltReport {
        let started = Date()
        var report = HaltReport()
        var dropped = Set(await client.closeOrderGate(reason))
        // What the strategies handed over before the switch meets it now: the runner's queue
        // is drained (each order refused there, or at the client's gate), then one more turn
        // of the client's loop lets what those started meet the gate too.
        _ = await boundedWait(2) { (finish: @escaping @Sendable (Bool?) -> Void) in commands.yield(.barrier { finish(true) }) }
        dropped.formUnion(await client.closeOrderGate(reason))
        report.notSent = stoppedByHalt.withLockedValue { $0 }.union(dropped).sorted()
        journal.connectionEvent("halt", reason + (everything ? " (global cancel)" : "")
                                + (report.notSent.isEmpty ? "" : "; \(report.notSent.count) queued order(s) not sent"))
        if everything { try? await client.globalCancel() }

        // Each order's cancels, by round: whether TWS has answered the latest (done or refused).
        let cancels = NIOLockedValueBox<[Int: (round: Int, ended: Bool)]>([:])
        func cancel(_ id: Int) {
            let round = cancels.withLockedValue { table -> Int in
                let round = (table[id]?.round ?? 0) + 1
                table[id] = (round, false)
                return round
            }
            state.beginCancel(orderId: id).whenComplete { _ in
                cancels.withLockedValue { table in if table[id]?.round == round { table[id]?.ended = true } }
            }
        }
        // Cancels leave at the client's rate (TWS takes about 50 messages a second): the halt
        // waits `seconds` beyond the time they take, up to 100 s (`moonwire halt` waits 120).
        let rate = Double(max(client.configuration.messagesPerSecond, 1))
        func deadline() -> Date {
            started.addingTimeInterval(min(seconds + Double(cancels.withLockedValue { $0.count }) / rate, 100))
        }
        var seen: [Int: OrderRecord] = [:]  // every order of ours open at some point of the halt
        var lastReadBack = Date.distantPast
        var atTWS: [Int: String]?  // ours working at TWS, by the latest read-back: id -> status
        halting: while true {
            let open = await openOrdersOfOurs()
            for order in open where seen.updateValue(order, forKey: order.orderId) == nil { cancel(order.orderId) }
            let now = Date()
            // TWS's own list: once the journal shows nothing open, and every second meanwhile
            // (an order TWS acknowledged late, or one the journal took for done, shows there).
            if open.isEmpty || now.timeIntervalSince(lastReadBack) >= 1 || now >= deadline() {
                lastReadBack = now
                switch await readBack(within: max(deadline().timeIntervalSince(now), 2)) {
                case let .success(working):
                    atTWS = working
                    report.readBackError = nil
                    // Working at TWS with no cancel of ours on its way (none yet, or TWS
                    // answered the last one: refused, or it came before the order): cancel it.
                    let waiting = cancels.withLockedValue { table in Set(table.filter { !$0.value.ended }.keys) }
                    for (id, status) in working where status != "PendingCancel" && !waiting.contains(id) { cancel(id) }
                    if working.isEmpty && open.isEmpty { break halting }
                case let .failure(error):
                    report.readBackError = "\(error)"
                }
            }
            if Date() >= deadline() { break halting }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let cancelSent = cancels.withLockedValue { Set($0.keys) }

        // The verdict: TWS's list where it answered, else what the journal shows.
        let final = await state.snapshot().orders.filter { !$0.strategy.isEmpty }
        let byId = Dictionary(final.map { ($0.orderId, $0) }, uniquingKeysWith: { $1 })
        for id in cancelSent.union(seen.keys) {
            switch byId[id]?.status {
            case .cancelled?: report.cancelled.append(id)
            case .filled?: report.filled.append(id)
            default: break
            }
        }
        report.cancelled.sort()
        report.filled.sort()
        report.readBack = report.readBackError == nil && atTWS != nil
        func left(_ id: Int, _ status: String) -> HaltReport.Left {
            let record = byId[id] ?? seen[id]
            let terms = record.map { order in
                "\(order.order.action) \(StrategyRunner.quantityText(order.remaining)) \(order.instrumentKey) \(order.order.orderType)"
                    + ((order.order.lmtPrice ?? order.order.auxPrice).map { " \($0)" } ?? "")
            } ?? "(not in the journal)"
            return HaltReport.Left(orderId: id, strategy: record?.strategy ?? "?", terms: terms, status: status)
        }
        if report.readBack, let atTWS {
            report.left = atTWS.sorted { $0.key < $1.key }.map { left($0.key, $0.value) }
            // Sent, never acknowledged: TWS's list cannot speak for it yet.
            for order in final where order.status == .pending && atTWS[order.orderId] == nil {
                report.left.append(left(order.orderId, "not acknowledged by TWS yet"))
            }
        } else {
            report.left = final.filter { !$0.status.isTerminal && $0.status != .unknown }
                .map { left($0.orderId, "\($0.status.rawValue) by the journal") }
        }
        report.seconds = Date().timeIntervalSince(started)
        journal.connectionEvent("halt", report.complete ? "complete: \(report.cancelled.count) cancelled"
                                    : "incomplete: \(report.left.count) order(s) of ours still working")
        return report
    }

    /// Orders of the strategies the trading state has open (pending, submitted, inactive).
    func openOrdersOfOurs() async -> [OrderRecord] {
        await state.snapshot().orders.filter { !$0.strategy.isEmpty && !$0.status.isTerminal && $0.status != .unknown }
    }

    /// TWS's open orders of this client that are ours (by orderRef) and still working: id ->
    /// TWS's status. Bounded by `seconds`.
    func readBack(within seconds: Double) async -> Result<[Int: String], TWSError> {
        let client = self.client
        let answer = await boundedWait(seconds) { (finish: @escaping @Sendable (Result<[TWSClient.OpenOrderReport], TWSError>?) -> Void) in
            Task {
                do {
                    finish(.success(try await client.openOrders()))
                } catch let error as TWSError {
                    finish(.failure(error))
                } catch {
                    finish(.failure(.invalidRequest("\(error)")))
                }
            }
        }
        guard let answer else { return .failure(.timeout(request: "reqOpenOrders", seconds: seconds)) }
        return answer.map { reports in
            var working: [Int: String] = [:]
            for report in reports where report.openOrder.order.orderRef.hasPrefix(OrderRecord.refPrefix) {
                let status = report.status?.status ?? report.openOrder.orderState.status
                // Filled or cancelled is over; anything else (PendingCancel too: it can still
                // fill until TWS confirms the cancel, or a status IB does not document) works.
                if let known = OrderLifecycle.status(tws: status), known.isTerminal { continue }
                working[report.openOrder.order.orderId] = status.isEmpty ? "no status" : status
            }
            return working
        }
    }

    static func quantityText(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
