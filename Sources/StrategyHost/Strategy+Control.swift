import Foundation
import Money
import TWSProtocol
import TradingState

/// What an operator does to a running strategy from outside (`moonwire serve`'s API, an
/// embedding application): pause, resume, and flatten one instrument. Each runs on the
/// strategy's own loop, between two events, like anything the strategy does itself; the
/// orders it sends go through the same gates as the strategy's own (the order gate, the
/// strategy's risk gate, the account's limits).
extension Strategy {
    /// What `flatten` did for this strategy.
    public struct FlattenOutcome: Sendable, Equatable {
        /// Its open orders in the instrument it asked TWS to cancel.
        public var cancelled: [Int] = []
        /// The market order that closes its position, when it held one and the order went.
        public var closingOrder: Int?
        public var action = ""
        public var quantity = 0.0
        /// Why the closing order was not sent (a closed order gate, a risk limit, no price).
        public var refused: String?
    }

    /// Events posted and not yet taken by the strategy's loop (any thread; a dashboard's gauge).
    public var waitingEvents: Int { inbox.withLockedValue { $0.items.count } }

    /// Stops calling handlers (`paused`), or starts again. Events that arrive while paused are
    /// not delivered (quotes and bars are gone; its orders, fills and positions are still
    /// kept, as when a strategy pauses itself after repeated failures). Resuming also forgets
    /// the failures in a row that paused it. Nil when the strategy does not answer (hung).
    public func setPaused(_ paused: Bool) async -> Bool? {
        guard hungReason == nil else { return nil }
        return await loop.submit { () -> Bool in
            guard self.statistics.paused != paused else { return paused }
            self.statistics.paused = paused
            if !paused { self.consecutiveFailures = 0 }
            self.logger.notice("\(paused ? "paused" : "resumed") by the operator")
            self.services?.journal(strategy: self.name, kind: paused ? "paused" : "resumed", detail: "by the operator")
            self.publishedStatistics.withLockedValue { $0 = self.statistics }
            return paused
        }.value(within: limits.stopGraceSeconds)
    }

    /// Cancels this strategy's open orders in `key` (an instrument key, `AAPL`, `EUR.USD`)
    /// and closes its position there at market, the order valued for the risk gate at the
    /// latest quote (else the position's average cost: a closing order only shrinks what is
    /// held). `contract` is the instrument as TWS confirmed it (from the strategy's fills).
    /// Nil when the strategy does not answer (hung).
    public func flatten(_ key: String, contract: Contract?) async -> FlattenOutcome? {
        guard hungReason == nil else { return nil }
        return await loop.submit { () -> FlattenOutcome in
            var outcome = FlattenOutcome()
            for record in self.openOrders where record.instrumentKey == key {
                self.requestCancel(record.orderId)
                outcome.cancelled.append(record.orderId)
            }
            guard let held = self.positions[key], held.quantity != 0 else { return outcome }
            let known = contract ?? self.orders.values.first { $0.instrumentKey == key }?.contract
            guard let known else {
                outcome.refused = "no contract is known for \(key): the position was not closed"
                return outcome
            }
            let sell = held.quantity > 0
            let quantity = abs(held.quantity)
            let order = Order(action: sell ? "SELL" : "BUY", quantity: TWSDecimal(approximating: quantity), type: "MKT", tif: "DAY")
            let price = self.referencePrice(key, buy: !sell, limit: nil, stop: nil)
                ?? self.services?.latestPrice(symbol: key, buy: !sell) ?? held.averageCost
            outcome.action = order.action
            outcome.quantity = quantity
            let answer = self.send(known, order, valuedAt: price, call: "flatten")
            if case let .integer(id)? = answer.first {
                outcome.closingOrder = Int(id)
                self.logger.notice("flatten \(key): \(order.action) \(quantity) at market (order \(id)) by the operator")
            } else {
                outcome.refused = answer.count > 1 ? (answer[1]["message"].string ?? "refused") : "refused"
            }
            return outcome
        }.value(within: limits.stopGraceSeconds)
    }
}
