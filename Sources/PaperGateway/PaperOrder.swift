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
    /// `maxShares` is what the book shows on the side the order takes (nil: no limit).
    public mutating func match(quote: Quote, maxShares: Double?) -> (shares: Double, price: Double)? {
        guard isWorking, remaining > 0 else { return nil }
        let type = order.orderType
        if type == "TRAIL" && !triggered {
            // The stop follows the market by the trailing amount (or percent): up behind a
            // sell's best bid, down behind a buy's best ask; it never moves back.
            let reference = isBuy ? min(quote.ask, quote.last) : max(quote.bid, quote.last)
            let distance = order.trailingPercent.map { reference * $0 / 100 } ?? order.auxPrice ?? 0
            let candidate = isBuy ? reference + distance : reference - distance
            if let current = order.trailStopPrice {
                order.trailStopPrice = isBuy ? min(current, candidate) : max(current, candidate)
            } else {
                order.trailStopPrice = candidate
            }
            let stop = order.trailStopPrice!
            let hit = isBuy ? (quote.ask >= stop || quote.last >= stop) : (quote.bid <= stop || quote.last <= stop)
            guard hit else { return nil }
            triggered = true
        }
        if (type == "STP" || type == "STP LMT") && !triggered {
            guard let stop = order.auxPrice else { return nil }
            // A buy stop triggers when the market trades or offers at or above it; a sell stop at or below.
            let hit = isBuy ? (quote.ask >= stop || quote.last >= stop) : (quote.bid <= stop || quote.last <= stop)
            guard hit else { return nil }
            triggered = true
        }
        let marketable: Bool
        let price = isBuy ? quote.ask : quote.bid
        switch type {
        case "MKT", "STP", "TRAIL":
            marketable = true
        case "LMT", "STP LMT":
            guard let limit = order.lmtPrice else { return nil }
            marketable = isBuy ? quote.ask <= limit + 1e-9 : quote.bid >= limit - 1e-9
        default:
            marketable = false
        }
        guard marketable else { return nil }
        let shares = maxShares.map { min(remaining, $0) } ?? remaining
        guard shares > 0 else { return nil }
        return (shares, price)
    }

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
        state.commissionAndFeesCurrency = contract.currency
        if commissionPaid > 0 { state.commissionAndFees = commissionPaid }
        var message = OpenOrder(contract: contract, order: reported, orderState: state)
        message.order.usePriceMgmtAlgo = message.order.usePriceMgmtAlgo ?? false
        return message
    }
}
