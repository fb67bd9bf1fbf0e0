import Foundation

extension TradingState {
    /// An order that never reached TWS: the kill switch stopped it (`TWSError.orderGateClosed`),
    /// or the socket was down (`TWSError.notConnected`, raised before anything is written).
    /// TWS never saw it, so it is over (`not_sent`, no exposure), with why; journaled and told
    /// like any other end. (On the loop.)
    func notSent(key: String, reason: String) {
        guard var record = orders[key], !record.status.isTerminal else { return }
        record.status = .notSent
        record.reason = "not sent: \(reason)"
        record.updatedAt = Date().timeIntervalSince1970
        store(record, event: "not sent", detail: record.reason)
    }
}
