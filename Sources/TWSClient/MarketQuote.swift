import TWSProtocol

/// The latest market data for one subscription, built from tickPrice/tickSize/tickString.
///
/// Sizes come two or three times (in tickPrice, again as tickSize, and ibapi would make a
/// third): every tick sets a field, never adds to it, so duplicates change nothing.
public struct MarketQuote: Sendable, Equatable {
    public var symbol: String
    public var bid: Double?
    public var ask: Double?
    public var last: Double?
    public var bidSize: Double?
    public var askSize: Double?
    public var lastSize: Double?
    public var volume: Double?
    public var high: Double?
    public var low: Double?
    public var open: Double?
    public var close: Double?
    /// Epoch seconds of the last trade (tick 45/88).
    public var lastTime: Int64?
    /// 1 live, 2 frozen, 3 delayed, 4 delayed frozen.
    public var marketDataType = 1
    /// True between 1100 and the restore: the values may be old.
    public var stale = false
    /// Monotonic nanoseconds when the ticks of this update were read from the socket
    /// (for socket-to-handler latency; not compared for equality).
    public var receivedAt: UInt64 = 0

    public static func == (lhs: MarketQuote, rhs: MarketQuote) -> Bool {
        lhs.symbol == rhs.symbol && lhs.bid == rhs.bid && lhs.ask == rhs.ask && lhs.last == rhs.last && lhs.bidSize == rhs.bidSize
            && lhs.askSize == rhs.askSize && lhs.lastSize == rhs.lastSize && lhs.volume == rhs.volume && lhs.high == rhs.high
            && lhs.low == rhs.low && lhs.open == rhs.open && lhs.close == rhs.close && lhs.lastTime == rhs.lastTime
            && lhs.marketDataType == rhs.marketDataType && lhs.stale == rhs.stale
    }

    public init(symbol: String) { self.symbol = symbol }

    /// Applies a price tick; returns true if something changed. Bid/ask −1 with size 0 is
    /// "no quote on that side" (protocol.md §6.11).
    public mutating func apply(priceTick type: Int, price: Double, size: TWSDecimal?) -> Bool {
        let value: Double? = (price == -1 && (type == 1 || type == 2 || type == 66 || type == 67)) ? nil : price
        let before = self
        switch type {
        case 1, 66: bid = value; if let size { bidSize = size.doubleValue }
        case 2, 67: ask = value; if let size { askSize = size.doubleValue }
        case 4, 68: last = value; if let size { lastSize = size.doubleValue }
        case 6, 72: high = value
        case 7, 73: low = value
        case 9, 75: close = value
        case 14, 76: open = value
        default: return false
        }
        return self != before
    }

    public mutating func apply(sizeTick type: Int, size: TWSDecimal?) -> Bool {
        let value = size?.doubleValue
        let before = self
        switch type {
        case 0, 69: bidSize = value
        case 3, 70: askSize = value
        case 5, 71: lastSize = value
        case 8, 74: volume = value
        default: return false
        }
        return self != before
    }

    public mutating func apply(stringTick type: Int, value: String) -> Bool {
        guard type == 45 || type == 88, let time = Int64(value) else { return false }
        let changed = lastTime != time
        lastTime = time
        return changed
    }
}
