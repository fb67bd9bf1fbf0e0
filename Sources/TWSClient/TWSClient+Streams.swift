import Foundation
import NIOCore
import TWSProtocol

/// What a quote stream delivers.
public enum QuoteEvent: Sendable {
    /// The quote after one batch of ticks (ticks read together are coalesced).
    case quote(MarketQuote)
    /// The subscription ended with an error (unknown contract, no permission...).
    case failed(TWSError)
}

public enum BarEvent: Sendable {
    case bar(RealTimeBar)
    case failed(TWSError)
}

/// What it takes to ask for a quote stream again (its quote and handler live in `QuoteBook`).
struct QuoteSubscription {
    var contract: Contract
    var genericTicks: String
    var reqId: Int
    /// Asked for as delayed data (`market_data: auto` after a 354).
    var delayed = false
}

struct BarSubscription {
    var contract: Contract
    var whatToShow: String
    var useRTH: Bool
    var reqId: Int
    var handler: @Sendable (BarEvent) -> Void
}

extension TWSClient {
    /// Streams quotes for `contract` until `cancelQuotes`. Survives reconnects, 1101 and
    /// 1102: the client subscribes again by itself (the quote is marked stale meanwhile).
    /// `handler` runs on the client's loop: hand work elsewhere, do not block.
    public func subscribeQuotes(_ contract: Contract, genericTicks: String = "",
                                handler: @escaping @Sendable (QuoteEvent) -> Void) async throws -> Int
    {
        try await loop.submit {
            guard self.machine.isReady else { throw TWSError.notConnected }
            let id = self.nextSubscriptionId
            self.nextSubscriptionId += 1
            let reqId = self.takeId()
            self.quoteSubscriptions[id] = QuoteSubscription(contract: contract, genericTicks: genericTicks, reqId: reqId)
            self.quoteBook.add(subscription: id, reqId: reqId, symbol: contract.symbol, handler: handler)
            self.sendQuoteRequest(self.quoteSubscriptions[id]!)
            return id
        }.get()
    }

    /// The same as an AsyncStream.
    public func quotes(_ contract: Contract, genericTicks: String = "") async throws -> (id: Int, stream: AsyncStream<QuoteEvent>) {
        let (stream, continuation) = AsyncStream<QuoteEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let id = try await subscribeQuotes(contract, genericTicks: genericTicks) { continuation.yield($0) }
        return (id, stream)
    }

    public func cancelQuotes(_ id: Int) async {
        try? await loop.submit {
            guard let subscription = self.quoteSubscriptions.removeValue(forKey: id) else { return }
            self.quoteBook.remove(subscription: id)
            try? self.send(.cancelMktData(CancelMktData(reqId: subscription.reqId)))
        }.get()
    }

    /// 5-second bars until `cancelBars`; re-requested after reconnects like quotes.
    public func subscribeBars(_ contract: Contract, whatToShow: String = "TRADES", useRTH: Bool = false,
                              handler: @escaping @Sendable (BarEvent) -> Void) async throws -> Int
    {
        try await loop.submit {
            guard self.machine.isReady else { throw TWSError.notConnected }
            let id = self.nextSubscriptionId
            self.nextSubscriptionId += 1
            let reqId = self.takeId()
            self.barSubscriptions[id] = BarSubscription(contract: contract, whatToShow: whatToShow, useRTH: useRTH, reqId: reqId,
                                                        handler: handler)
            self.barByReqId[reqId] = id
            try self.send(.reqRealTimeBars(ReqRealTimeBars(reqId: reqId, contract: contract, whatToShow: whatToShow, useRTH: useRTH)))
            return id
        }.get()
    }

    public func cancelBars(_ id: Int) async {
        try? await loop.submit {
            guard let subscription = self.barSubscriptions.removeValue(forKey: id) else { return }
            self.barByReqId[subscription.reqId] = nil
            try? self.send(.cancelRealTimeBars(CancelRealTimeBars(reqId: subscription.reqId)))
        }.get()
    }

    /// After a reconnect or 1101/1102: every stream asks again, with fresh request ids.
    /// Asks for a stream's market data: delayed ones under market data type 3, then back to
    /// the configured type (TWS applies the type in force when the request arrives).
    func sendQuoteRequest(_ subscription: QuoteSubscription) {
        if subscription.delayed { try? send(.reqMarketDataType(ReqMarketDataType(marketDataType: 3))) }
        try? send(.reqMktData(ReqMktData(reqId: subscription.reqId, contract: subscription.contract, genericTickList: subscription.genericTicks)))
        if subscription.delayed { try? send(.reqMarketDataType(ReqMarketDataType(marketDataType: max(configuration.marketDataType, 1)))) }
    }

    /// `market_data: auto`: TWS has no live subscription for this instrument (354): the stream
    /// continues on delayed data, and says so once.
    func fallBackToDelayed(_ id: Int, because message: String) {
        guard var subscription = quoteSubscriptions[id] else { return }
        subscription.delayed = true
        subscription.reqId = takeId()
        quoteBook.rebind(subscription: id, to: subscription.reqId)
        quoteSubscriptions[id] = subscription
        sendQuoteRequest(subscription)
        let symbol = subscription.contract.localSymbol.isEmpty ? subscription.contract.symbol : subscription.contract.localSymbol
        logger.notice("\(symbol): no live market data subscription (354): using delayed data")
        emit(.error(id: subscription.reqId, code: 10167, message: "\(symbol): no live market data (\(message)); delayed data instead",
                    category: .notice))
    }

    func resubscribeAll() {
        guard machine.isReady else { return }
        for id in quoteSubscriptions.keys.sorted() {
            guard var subscription = quoteSubscriptions[id] else { continue }
            if channel != nil { try? send(.cancelMktData(CancelMktData(reqId: subscription.reqId))) }
            subscription.reqId = takeId()
            quoteBook.rebind(subscription: id, to: subscription.reqId)
            quoteSubscriptions[id] = subscription
            sendQuoteRequest(subscription)
        }
        for id in barSubscriptions.keys.sorted() {
            guard var subscription = barSubscriptions[id] else { continue }
            barByReqId[subscription.reqId] = nil
            subscription.reqId = takeId()
            barByReqId[subscription.reqId] = id
            barSubscriptions[id] = subscription
            try? send(.reqRealTimeBars(ReqRealTimeBars(reqId: subscription.reqId, contract: subscription.contract,
                                                       whatToShow: subscription.whatToShow, useRTH: subscription.useRTH)))
        }
        logger.info("resubscribed \(quoteSubscriptions.count) quote and \(barSubscriptions.count) bar streams")
    }
}
