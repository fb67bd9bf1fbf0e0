import Foundation
import NIOCore

/// Which request an order error answers. TWS names only the order id in an error, so a 110
/// (price off tick) or a 201 can refuse the placement (the order never worked: `rejected`)
/// or a later modify or cancel of a working order (it works on: only the request failed).
/// The state tells them apart by what it sent and what TWS acknowledged: the order's status
/// comes from TWS's evidence (orderStatus, openOrder, executions, completedOrders), never
/// from a refused request.
extension TradingState {
    /// Counts `future` (a modify or cancel of `orderId`) as in flight until it is answered.
    /// The count drops one turn of the loop after the answer: the client fails the request
    /// before it reports the error, and the error must still find the request in flight.
    /// (On the loop.)
    func inFlight<T>(_ orderId: Int, _ future: EventLoopFuture<T>) -> EventLoopFuture<T> {
        requestsInFlight[orderId, default: 0] += 1
        future.whenComplete { _ in
            self.loop.execute {
                let left = (self.requestsInFlight[orderId] ?? 1) - 1
                self.requestsInFlight[orderId] = left > 0 ? left : nil
            }
        }
        return future
    }

    /// Whether an order-rejection error (`code`) refuses the placement of `record`: only an
    /// order TWS has not acknowledged, with no modify or cancel of ours on its way, can be
    /// refused as a placement. 10147 and 10148 answer a cancel, always ("not found", "cannot
    /// be cancelled, state: Filled/Cancelled"): the order's fate is what TWS reports of it.
    /// (On the loop.)
    func refusesPlacement(of record: OrderRecord, code: Int) -> Bool {
        if code == 10147 || code == 10148 { return false }
        return record.status == .pending && requestsInFlight[record.orderId] == nil
    }
}
