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
    /// TWS says trading in it is halted (tick 49).
    public var halted = false
    /// 3 or 4: delayed (about 15 minutes).
    public var delayed: Bool { marketDataType >= 3 }
    /// Monotonic nanoseconds when the ticks of this update were read from the socket
    /// (for socket-to-handler latency; not compared for equality).
    public var receivedAt: UInt64 = 0
    /// How many ticks were folded into this update (counted for the benchmark and the
    /// statistics; not compared for equality).
    public var ticks = 0

    public static func == (lhs: MarketQuote, rhs: MarketQuote) -> Bool {
        lhs.symbol == rhs.symbol && lhs.bid == rhs.bid && lhs.ask == rhs.ask && lhs.last == rhs.last && lhs.bidSize == rhs.bidSize
            && lhs.askSize == rhs.askSize && lhs.lastSize == rhs.lastSize && lhs.volume == rhs.volume && lhs.high == rhs.high
            && lhs.low == rhs.low && lhs.open == rhs.open && lhs.close == rhs.close && lhs.lastTime == rhs.lastTime
            && lhs.marketDataType == rhs.marketDataType && lhs.stale == rhs.stale && lhs.halted == rhs.halted
    }

    public init(symbol: String) { self.symbol = symbol }

    /// What an order on one side is valued at: the last trade, else the side it would take
    /// (the ask to buy, the bid to sell).
    public func referencePrice(buying: Bool) -> Double? { last ?? (buying ? ask : bid) }

    /// Applies a price tick; returns true if something changed. Bid/ask −1 with size 0 is
    /// "no quote on that side" (protocol.md §6.11).
    public mutating func apply(priceTick type: Int, price: Double, size: TWSDecimal?) -> Bool {
        let value: Double? = (price == -1 && (type == 1 || type == 2 || type == 66 || type == 67)) ? nil : price
        switch type {
        case 1, 66: return Self.set(&bid, value, size: &bidSize, size)
        case 2, 67: return Self.set(&ask, value, size: &askSize, size)
        case 4, 68: return Self.set(&last, value, size: &lastSize, size)
        case 6, 72: return Self.set(&high, value)
        case 7, 73: return Self.set(&low, value)
        case 9, 75: return Self.set(&close, value)
        case 14, 76: return Self.set(&open, value)
        default: return false
        }
    }

    public mutating func apply(sizeTick type: Int, size: TWSDecimal?) -> Bool {
        let value = size?.doubleValue
        switch type {
        case 0, 69: return Self.set(&bidSize, value)
        case 3, 70: return Self.set(&askSize, value)
        case 5, 71: return Self.set(&lastSize, value)
        case 8, 74: return Self.set(&volume, value)
        default: return false
        }
    }

    public mutating func apply(stringTick type: Int, value: String) -> Bool {
        guard type == 45 || type == 88, let time = Int64(value) else { return false }
        return Self.set(&lastTime, time)
    }

    /// Sets one field; true when its value changed (only that field is compared: a tick
    /// touches one or two fields, comparing the whole quote would cost more than the tick).
    @inline(__always)
    private static func set<T: Equatable>(_ field: inout T?, _ value: T?) -> Bool {
        guard field != value else { return false }
        field = value
        return true
    }

    /// A price and, when the tick carries one, its size.
    @inline(__always)
    private static func set(_ price: inout Double?, _ value: Double?, size field: inout Double?, _ size: TWSDecimal?) -> Bool {
        let priceChanged = set(&price, value)
        guard let size else { return priceChanged }
        let sizeChanged = set(&field, size.doubleValue)
        return priceChanged || sizeChanged
    }
}
