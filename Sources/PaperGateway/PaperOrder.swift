import Money
import TWSProtocol

/// An order the paper gateway holds, and the rules that fill it.
public struct PaperOrder: Sendable, Equatable {
    public var orderId: Int
    public var clientId: Int
    public var permId: Int64
    public var contract: Contract
    /// The order as the client sent it (reported back in openOrder).
    public var order: Order
    /// IB's status: PreSubmitted, Submitted, Filled, Cancelled, Inactive.
    public var status: String
    public var filled = 0.0
    public var averageFillPrice = 0.0
    public var lastFillPrice = 0.0
    public var commissionPaid = 0.0
    /// A stop whose trigger has been hit behaves as MKT (STP) or LMT (STP LMT).
    public var triggered = false
    public var whyHeld = ""

    public var quantity: Double { order.totalQuantity?.doubleValue ?? 0 }
    public var remaining: Double { max(0, quantity - filled) }
    public var isBuy: Bool { order.action == "BUY" }
    public var isWorking: Bool { status == "PreSubmitted" || status == "Submitted" }
    public var isDone: Bool { status == "Filled" || status == "Cancelled" || status == "Inactive" || status == "ApiCancelled" }

    public init(orderId: Int, clientId: Int, permId: Int64, contract: Contract, order: Order) {
        self.orderId = orderId
        self.clientId = clientId
        self.permId = permId
        self.contract = contract
        self.order = order
        self.status = "PreSubmitted"
    }

    /// Order types the simulated exchange executes.
    public static let supportedTypes: Set<String> = ["MKT", "LMT", "STP", "STP LMT", "TRAIL"]
    public static let supportedTIFs: Set<String> = ["", "DAY", "GTC", "IOC"]
    /// The ids TWS can hold (a Java int).
    public static let orderIds = 1...Int(Int32.max)
    /// Bounds a client's numbers must keep to: past them no fill, cash or PnL means anything.
    public static let maxQuantity = 1_000_000_000.0
    public static let maxPrice = 1_000_000_000.0

    /// What a quote lets this order do now: a fill of some shares at a price, or nothing.
    /// `maxShares` is what the book shows on the side the order takes (nil: no limit). The
    /// price and trigger rules are Money's (`FillOrder`), the backtest's too.
    public mutating func match(quote: Quote, maxShares: Double?) -> (shares: Double, price: Double)? {
        guard isWorking, remaining > 0, var rules = fillOrder else { return nil }
        let fill = rules.meet(PricePoint(bid: quote.bid, ask: quote.ask, last: quote.last))
        triggered = rules.triggered
        if case .trailing = rules.kind { order.trailStopPrice = rules.trailStop }
        guard let fill else { return nil }
        let shares = maxShares.map { min(remaining, $0) } ?? remaining
        guard shares > 0 else { return nil }
        return (shares, fill.price)
    }

    /// The order as the fill rules see it; nil for a type they do not know or a price it lacks.
    public var fillOrder: FillOrder? {
        let kind: FillOrder.Kind
        switch order.orderType {
        case "MKT":
            kind = .market
        case "LMT":
            guard let limit = order.lmtPrice else { return nil }
            kind = .limit(limit)
        case "STP":
            guard let stop = order.auxPrice else { return nil }
            kind = .stop(stop)
        case "STP LMT":
            guard let stop = order.auxPrice, let limit = order.lmtPrice else { return nil }
            kind = .stopLimit(stop: stop, limit: limit)
        case "TRAIL":
            // An amount or a percent, whichever is set (an unset percent may come as 0).
            if let percent = order.trailingPercent, percent > 0 {
                kind = .trailing(.percent(percent))
            } else {
                kind = .trailing(.amount(order.auxPrice ?? 0))
            }
        default:
            return nil
        }
        return FillOrder(buy: isBuy, kind: kind, triggered: triggered, trailStop: order.orderType == "TRAIL" ? order.trailStopPrice : nil)
    }

    /// Its one-cancels-all group and bracket parent.
    public var family: OrderFamily { OrderFamily(ocaGroup: order.ocaGroup, ocaType: order.ocaType, parentId: order.parentId) }

    public mutating func recordFill(shares: Double, price: Double, commission: Double) {
        averageFillPrice = (averageFillPrice * filled + price * shares) / (filled + shares)
        filled += shares
        lastFillPrice = price
        commissionPaid += commission
        status = remaining <= 1e-9 ? "Filled" : "Submitted"
    }

    /// The orderStatus message for this order.
    public var statusMessage: OrderStatus {
        var message = OrderStatus()
        message.orderId = orderId
        message.status = status
        message.filled = TWSDecimal(approximating: filled)
        message.remaining = TWSDecimal(approximating: status == "Cancelled" ? 0 : remaining)
        message.avgFillPrice = averageFillPrice
        message.permId = permId
        message.parentId = order.parentId
        message.lastFillPrice = lastFillPrice
        message.clientId = clientId
        message.whyHeld = whyHeld
        message.mktCapPrice = 0
        return message
    }

    /// The openOrder message for this order.
    public func openOrderMessage(account: String) -> OpenOrder {
        var reported = order
        reported.orderId = orderId
        reported.clientId = clientId
        reported.permId = permId
        if reported.account.isEmpty { reported.account = account }
        if reported.clearingIntent.isEmpty { reported.clearingIntent = "IB" }
        if reported.lmtPrice == nil { reported.lmtPrice = 0 }
        if reported.auxPrice == nil { reported.auxPrice = 0 }
        if reported.displaySize == 0 { reported.displaySize = nil }
        var state = OrderState(status: status)
        state.commissionAndFeesCurrency = CommissionSchedule.currency(of: InstrumentTerms(secType: contract.secType, currency: contract.currency))
        if commissionPaid > 0 { state.commissionAndFees = commissionPaid }
        var message = OpenOrder(contract: contract, order: reported, orderState: state)
        message.order.usePriceMgmtAlgo = message.order.usePriceMgmtAlgo ?? false
        return message
    }
}
