import Foundation

extension TradingState {
    /// An order the kill switch stopped before it reached TWS (`TWSError.orderGateClosed`):
    /// TWS never saw it, so it is over, as refused, with why; journaled and told like any
    /// rejection. (On the loop.)
    func notSent(key: String, reason: String) {
        guard var record = orders[key], !record.status.isTerminal else { return }
        record.status = .rejected
        record.reason = "not sent: \(reason)"
        record.updatedAt = Date().timeIntervalSince1970
        store(record, event: "not sent", detail: record.reason)
    }
}
