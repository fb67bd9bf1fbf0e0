/// The prices an order meets at one moment: a quote (the paper gateway), or one price of a
/// bar (a trade there: bid, ask and last all that price).
public struct PricePoint: Sendable, Equatable {
    public var bid: Double
    public var ask: Double
    public var last: Double

    public init(bid: Double, ask: Double, last: Double) {
        self.bid = bid
        self.ask = ask
        self.last = last
    }

    /// One traded price, as a bar gives it: no spread.
    public init(_ price: Double) { self.init(bid: price, ask: price, last: price) }
}

/// A bar's prices. A backtest reads a bar as its open first (a gap: every order marketable
/// there fills there), then its range, whose order the bar does not tell.
public struct BarPrices: Sendable, Equatable {
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double

    public init(open: Double, high: Double, low: Double, close: Double) {
        self.open = open
        self.high = high
        self.low = low
        self.close = close
    }
}

/// Where a fill happens and whether it took the market's price (a market order, a stop, a
/// trailing stop: what a backtest's slippage moves) or the order's own limit.
public struct FillPrice: Sendable, Equatable {
    public var price: Double
    public var atMarket: Bool

    public init(price: Double, atMarket: Bool) {
        self.price = price
        self.atMarket = atMarket
    }
}

/// The decisions every fill rests on, stated once. The paper gateway applies them to each
/// quote; the backtest to a bar's open and then to its range.
public enum FillRule {
    /// Prices closer than this are the same price (a stop at 100.87 is reached by a quote of
    /// 100.87 whatever the last binary digit of either).
    public static let tolerance = 1e-9

    /// A buy stop triggers when the market offers or trades at or above the stop; a sell stop
    /// when it bids or trades at or below it.
    public static func triggers(stop: Double, buy: Bool, at point: PricePoint) -> Bool {
        buy ? max(point.ask, point.last) >= stop - tolerance : min(point.bid, point.last) <= stop + tolerance
    }

    /// A limit is marketable when the price the order would take is at or better than the
    /// limit: the ask at or below a buy's limit, the bid at or above a sell's.
    public static func marketable(limit: Double, buy: Bool, at point: PricePoint) -> Bool {
        buy ? point.ask <= limit + tolerance : point.bid >= limit - tolerance
    }

    /// What an order that takes the market pays: the ask to buy, the bid to sell.
    public static func takingPrice(buy: Bool, at point: PricePoint) -> Double { buy ? point.ask : point.bid }

    /// A trailing stop's stop after the market moved to `point`: `trail` behind the best price
    /// for the order (below a sell's bid, above a buy's ask), and it never moves back.
    public static func trailed(_ stop: Double?, buy: Bool, trail: FillOrder.Trail, at point: PricePoint) -> Double {
        let reference = buy ? min(point.ask, point.last) : max(point.bid, point.last)
        let candidate = buy ? reference + trail.distance(from: reference) : reference - trail.distance(from: reference)
        guard let stop else { return candidate }
        return buy ? min(stop, candidate) : max(stop, candidate)
    }
}

/// An order as the fill rules see it: its side and type, and the state they keep for it (a
/// stop's trigger, a trailing stop's price). The paper gateway's orders and the backtest's
/// simulated ones both become one of these, so the same order on the same prices fills the
/// same way in both.
public struct FillOrder: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case market
        case limit(Double)
        case stop(Double)
        case stopLimit(stop: Double, limit: Double)
        /// A trailing stop (IB's TRAIL): a stop that follows the market by the trail.
        case trailing(Trail)
    }

    /// How far a trailing stop follows the market: an amount, or a percent of the price.
    public enum Trail: Sendable, Equatable {
        case amount(Double)
        case percent(Double)

        public func distance(from price: Double) -> Double {
            switch self {
            case let .amount(amount): return amount
            case let .percent(percent): return price * percent / 100
            }
        }
    }

    public var buy: Bool
    public var kind: Kind
    /// A stop whose trigger was hit: from then on a market order (STP, TRAIL) or a limit (STP LMT).
    public var triggered: Bool
    /// A trailing stop's current stop (nil until it first meets a price, unless it was given
    /// where to start).
    public var trailStop: Double?

    public init(buy: Bool, kind: Kind, triggered: Bool = false, trailStop: Double? = nil) {
        self.buy = buy
        self.kind = kind
        self.triggered = triggered
        self.trailStop = trailStop
    }

    /// A protective exit: the order a bar's range is assumed to reach first when it could
    /// reach several of one group (the conservative choice).
    public var isStop: Bool {
        switch kind {
        case .stop, .stopLimit, .trailing: return true
        case .market, .limit: return false
        }
    }

    /// A stop not yet triggered: IB holds it (PreSubmitted) until the market reaches it.
    public var isWaitingForTrigger: Bool { isStop && !triggered }

    /// The order meets one moment's prices (a quote; a bar's open): the trailing stop follows,
    /// a stop triggers, and the fill price if the order is marketable now.
    public mutating func meet(_ point: PricePoint) -> FillPrice? {
        switch kind {
        case .market:
            return FillPrice(price: FillRule.takingPrice(buy: buy, at: point), atMarket: true)
        case let .limit(limit):
            return limitFill(limit, at: point)
        case let .stop(stop):
            if !triggered {
                guard FillRule.triggers(stop: stop, buy: buy, at: point) else { return nil }
                triggered = true
            }
            return FillPrice(price: FillRule.takingPrice(buy: buy, at: point), atMarket: true)
        case let .stopLimit(stop, limit):
            if !triggered {
                guard FillRule.triggers(stop: stop, buy: buy, at: point) else { return nil }
                triggered = true
            }
            return limitFill(limit, at: point)
        case let .trailing(trail):
            if !triggered {
                let stop = FillRule.trailed(trailStop, buy: buy, trail: trail, at: point)
                trailStop = stop
                guard FillRule.triggers(stop: stop, buy: buy, at: point) else { return nil }
                triggered = true
            }
            return FillPrice(price: FillRule.takingPrice(buy: buy, at: point), atMarket: true)
        }
    }

    /// A bar's open: the order meets it as one price. A stop the bar gaps through fills at
    /// the open (the worse price, as a real stop gets); a limit the bar opens beyond, at the
    /// open (the better price).
    public mutating func meetOpen(of bar: BarPrices) -> FillPrice? { meet(PricePoint(bar.open)) }

    /// The rest of a bar, after its open (which the order met first, `meetOpen`, and did not
    /// fill at). The range's order is unknown: a price the path from the open must have
    /// crossed fills at that price (a limit at its limit, a stop at its stop); what depends on
    /// the order of the high and the low is decided only where the close settles it (the close
    /// comes after everything).
    public mutating func meetRange(of bar: BarPrices) -> FillPrice? {
        // The range's extremes as prices: the one against a buy's stop (up) and for its limit (down).
        let up = PricePoint(bar.high), down = PricePoint(bar.low), close = PricePoint(bar.close)
        let towardLimit = buy ? down : up
        switch kind {
        case .market:
            return nil  // filled at the open
        case let .limit(limit):
            return FillRule.marketable(limit: limit, buy: buy, at: towardLimit) ? FillPrice(price: limit, atMarket: false) : nil
        case let .stop(stop):
            guard FillRule.triggers(stop: stop, buy: buy, at: buy ? up : down) else { return nil }
            triggered = true
            return FillPrice(price: stop, atMarket: true)
        case let .stopLimit(stop, limit):
            if triggered {
                // Triggered before the range (an earlier bar, or a gap at this open): a limit
                // over the whole range, so a bar that trades back through the limit fills there.
                return FillRule.marketable(limit: limit, buy: buy, at: towardLimit) ? FillPrice(price: limit, atMarket: false) : nil
            }
            guard FillRule.triggers(stop: stop, buy: buy, at: buy ? up : down) else { return nil }
            triggered = true
            // Triggered at the stop, inside the range: a limit from there on. At the stop if
            // the stop is within the limit; else at the limit only when the close is through
            // it (whether the rest of the range came after the trigger is unknown).
            if FillRule.marketable(limit: limit, buy: buy, at: PricePoint(stop)) { return FillPrice(price: stop, atMarket: false) }
            return FillRule.marketable(limit: limit, buy: buy, at: close) ? FillPrice(price: limit, atMarket: false) : nil
        case let .trailing(trail):
            // The stop as the open left it: reached by the adverse extreme, it sold there (the
            // lowest stop a sell could have had: the favourable extreme may have come later).
            if let stop = trailStop, FillRule.triggers(stop: stop, buy: buy, at: buy ? up : down) {
                triggered = true
                return FillPrice(price: stop, atMarket: true)
            }
            // Then it follows the favourable extreme; only the close surely came after that.
            let stop = FillRule.trailed(trailStop, buy: buy, trail: trail, at: buy ? down : up)
            trailStop = stop
            guard FillRule.triggers(stop: stop, buy: buy, at: close) else { return nil }
            triggered = true
            return FillPrice(price: stop, atMarket: true)
        }
    }

    private func limitFill(_ limit: Double, at point: PricePoint) -> FillPrice? {
        FillRule.marketable(limit: limit, buy: buy, at: point) ? FillPrice(price: FillRule.takingPrice(buy: buy, at: point), atMarket: false) : nil
    }
}
