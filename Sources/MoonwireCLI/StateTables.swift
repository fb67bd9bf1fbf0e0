import Foundation
import TradingState

/// `moonwire state`'s tables: orders, executions, positions, and what a reconciliation found.
enum StateTables {
    static func render(_ snapshot: TradingState.Snapshot, report: ReconciliationReport?, online: Bool) -> String {
        var blocks: [String] = []
        blocks.append(table("orders", ["id", "strategy", "symbol", "side", "qty", "type", "price", "status", "filled", "avg price"],
                            snapshot.orders.map { order in
                                [String(order.orderId), order.strategy.isEmpty ? "-" : order.strategy, order.instrumentKey, order.order.action,
                                 quantity(order.quantity), order.order.orderType,
                                 (order.order.lmtPrice ?? order.order.auxPrice).map(price) ?? "-", order.status.rawValue,
                                 quantity(order.filled), order.filled > 0 ? price(order.averageFillPrice) : "-"]
                            }))
        blocks.append(table("executions", ["time", "order", "symbol", "side", "shares", "price", "commission"],
                            snapshot.executions.map { execution in
                                [time(execution.receivedAt), String(execution.orderId), execution.symbol, execution.side,
                                 quantity(execution.shares), price(execution.price), execution.commission.map { price($0.commission) } ?? "-"]
                            }))
        blocks.append(table(online ? "positions (TWS)" : "positions (journal)", ["symbol", "qty", "avg cost"],
                            snapshot.positions.filter { $0.quantity != 0 }.map {
                                [$0.symbol, quantity($0.quantity), $0.averageCost == 0 ? "-" : price($0.averageCost)]
                            }))
        if let report {
            var lines = ["trading " + (snapshot.tradingAllowed ? "allowed" : "CLOSED")]
            for (symbol, mismatch) in report.unexplainedPositions.sorted(by: { $0.key < $1.key }) {
                lines.append("unexplained \(symbol): TWS \(quantity(mismatch.reported)), journal \(quantity(mismatch.explained))")
            }
            lines += report.unknown.map { "unknown: \($0)" } + report.lostOrders.map { "lost order: \($0)" }
            if report.executionsRecovered > 0 { lines.append("\(report.executionsRecovered) execution(s) recovered from TWS") }
            blocks.append("reconciliation\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
        }
        return blocks.joined(separator: "\n\n")
    }

    /// A title and aligned columns (numbers right-aligned), or `(none)`.
    static func table(_ title: String, _ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "\(title): none" }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let numeric = Double(cell) != nil
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([title + " (\(rows.count))", "  " + line(header)] + rows.map { "  " + line($0) }).joined(separator: "\n")
    }

    static func quantity(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
    static func price(_ value: Double) -> String { TraderNumbers.fixed(value, 2) }
    static func time(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
