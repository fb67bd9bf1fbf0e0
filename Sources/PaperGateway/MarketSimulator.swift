import Foundation

/// What the market shows for one instrument at one moment.
public struct Quote: Sendable, Equatable {
    public var bid: Double
    public var ask: Double
    public var bidSize: Int
    public var askSize: Int
    public var last: Double
    public var lastSize: Int
    /// Shares traded today.
    public var volume: Int
    public var high: Double
    public var low: Double
    public var open: Double
    /// Yesterday's close.
    public var close: Double
    /// Epoch seconds of the last trade.
    public var lastTradeTime: Int64

    public var mid: Double { (bid + ask) / 2 }
}

/// A trade printed by the simulated market (feeds last/volume and the 5-second bars).
public struct Trade: Sendable, Equatable {
    public var symbol: String
    public var price: Double
    public var size: Int
    public var time: Double
}

/// The seeded price process of every instrument.
///
/// Each step moves each mid price by a geometric random walk with the instrument's
/// volatility, requotes bid and ask around it (one or two ticks wide) with random displayed
/// sizes, and prints a trade more often than not. Every symbol has its own generator derived
/// from the seed, so a symbol's path does not depend on which others exist or are watched.
public struct MarketSimulator: Sendable {
    public private(set) var instruments: [Instrument]
    private var bySymbol: [String: Int] = [:]
    private var byConId: [Int: Int] = [:]
    private var generators: [SeededRandom]
    private var mids: [Double]
    /// Options: the underlying's index and the expiry (epoch seconds), found once.
    private var optionTerms: [Int: (underlying: Int, expiry: Double)] = [:]
    public private(set) var quotes: [Quote]
    public private(set) var steps = 0
    /// Stored bars that move some instruments instead of the walk.
    public let replay: MarketReplay?
    /// The instruments the replay moves, by index.
    private var replayed: Set<Int> = []

    /// Seconds of a US trading year, which volatility is quoted against.
    static let tradingYear = 252.0 * 6.5 * 3600

    public init(instruments: [Instrument], seed: UInt64, now: Double, replay: MarketReplay? = nil) {
        self.replay = replay
        self.instruments = instruments
        generators = instruments.map { SeededRandom(seed: seed, stream: "quotes:" + $0.symbol) }
        mids = instruments.map(\.startPrice)
        quotes = []
        for (index, instrument) in instruments.enumerated() {
            bySymbol[instrument.symbol] = index
            byConId[instrument.conId] = index
        }
        for (index, instrument) in instruments.enumerated() {
            guard let price = replay?.price(instrument.symbol, at: now) else { continue }
            replayed.insert(index)
            mids[index] = price
        }
        // An option starts at its model price on the underlying's.
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for (index, instrument) in instruments.enumerated() where instrument.secType == "OPT" {
            guard let under = bySymbol[instrument.underlying] else { continue }
            let expiry = (formatter.date(from: instrument.expiry)?.timeIntervalSince1970 ?? now) + 20 * 3600  // the close, roughly
            optionTerms[index] = (under, expiry)
            mids[index] = Self.optionPrice(instrument, underlying: mids[under], expiry: expiry, now: now)
        }
        for (index, instrument) in instruments.enumerated() {
            var generator = generators[index]
            let previousClose = instrument.round(mids[index] * (1 + 0.01 * generator.gaussian()))
            generators[index] = generator
            let price = mids[index]
            quotes.append(Quote(bid: instrument.round(max(price - instrument.tickSize, instrument.tickSize)), ask: instrument.round(price + instrument.tickSize),
                                bidSize: 3 * instrument.lot, askSize: 4 * instrument.lot, last: instrument.round(price),
                                lastSize: instrument.lot, volume: 0, high: instrument.round(price), low: instrument.round(price),
                                open: instrument.round(price), close: previousClose, lastTradeTime: Int64(now)))
        }
        if let replay {
            // Replayed ones are quoted as every move quotes them (at the stored price itself
            // with a spread of 0), from the start.
            for index in replayed {
                if let price = quoteReplayed(index, replay: replay, now: now) { quotes[index].last = price }
            }
        }
    }

    public func index(symbol: String) -> Int? { bySymbol[symbol] }
    public func index(conId: Int) -> Int? { byConId[conId] }
    public func instrument(symbol: String) -> Instrument? { bySymbol[symbol].map { instruments[$0] } }
    public func quote(symbol: String) -> Quote? { bySymbol[symbol].map { quotes[$0] } }

    /// Advances every instrument by `seconds` of market time; returns the trades printed.
    public mutating func step(seconds: Double, now: Double) -> [Trade] {
        steps += 1
        return instruments.indices.compactMap { move(instrumentAt: $0, seconds: seconds, now: now) }
    }

    /// Advances one instrument by `seconds` (the realtime clock moves instruments one at a
    /// time, spread over the interval, as a real feed's symbols do not tick in lockstep).
    /// A round is counted when the last instrument has moved.
    public mutating func stepInstrument(at index: Int, seconds: Double, now: Double) -> Trade? {
        if index == instruments.count - 1 { steps += 1 }
        return move(instrumentAt: index, seconds: seconds, now: now)
    }

    private mutating func move(instrumentAt index: Int, seconds: Double, now: Double) -> Trade? {
        let instrument = instruments[index]
        var generator = generators[index]
        defer { generators[index] = generator }
        let sigma = instrument.volatility * (max(seconds, 0.001) / Self.tradingYear).squareRoot()
        if replayed.contains(index), let replay {
            return moveReplayed(index, replay: replay, seconds: seconds, now: now, generator: &generator)
        }
        if let terms = optionTerms[index] {
            // An option follows its underlying: priced by the model, not a walk of its own.
            mids[index] = max(Self.optionPrice(instrument, underlying: mids[terms.underlying], expiry: terms.expiry, now: now), instrument.tickSize)
            _ = generator.gaussian()
        } else {
            mids[index] *= exp(sigma * generator.gaussian() - sigma * sigma / 2)
        }
        let tick = instrument.tickSize
        var quote = quotes[index]
        defer { quotes[index] = quote }
        let halfSpread = tick * (generator.unit() < 0.7 ? 0.5 : 1.0)
        quote.bid = instrument.round(((mids[index] - halfSpread) / tick).rounded(.down) * tick)
        quote.ask = instrument.round(max(quote.bid + tick, ((mids[index] + halfSpread) / tick).rounded(.up) * tick))
        quote.bidSize = instrument.lot * generator.integer(in: 1...12)
        quote.askSize = instrument.lot * generator.integer(in: 1...12)
        guard generator.unit() < 0.6 else { return nil }
        let buyerInitiated = generator.unit() < 0.5
        let size = generator.unit() < 0.2 ? generator.integer(in: 1...99) : instrument.lot * generator.integer(in: 1...5)
        return Self.printTrade(buyerInitiated ? quote.ask : quote.bid, size: size, on: &quote, symbol: instrument.symbol, now: now)
    }

    /// A trade at `price`: last, its size, the day's volume and range, the time.
    private static func printTrade(_ price: Double, size: Int, on quote: inout Quote, symbol: String, now: Double) -> Trade {
        quote.last = price
        quote.lastSize = size
        quote.volume += size
        quote.high = max(quote.high, price)
        quote.low = min(quote.low, price)
        quote.lastTradeTime = Int64(now)
        return Trade(symbol: symbol, price: price, size: size, time: now)
    }

    /// A replayed instrument: its price from the stored bars at `now`, quoted around it
    /// (`quoteReplayed`), a trade printed at it with the bar's volume spread over its time (none
    /// between bars or after the data).
    private mutating func moveReplayed(_ index: Int, replay: MarketReplay, seconds: Double, now: Double,
                                       generator: inout SeededRandom) -> Trade? {
        let instrument = instruments[index]
        guard let price = quoteReplayed(index, replay: replay, now: now) else { return nil }
        quotes[index].bidSize = instrument.lot * generator.integer(in: 1...12)
        quotes[index].askSize = instrument.lot * generator.integer(in: 1...12)
        guard let (bar, _) = replay.bar(instrument.symbol, at: now) else { return nil }
        let size = replay.tradeSize(bar, wallSeconds: seconds)
        return Self.printTrade(price, size: size, on: &quotes[index], symbol: instrument.symbol, now: now)
    }

    /// Sets a replayed instrument's bid and ask from the replay's price at `now` (a stored price
    /// as stored, one between two on the tick grid): with a spread of 0 both are that price
    /// (a market order fills at it, as a backtest's fills at the bar's price), else the ticks
    /// at least `spreadTicks`/2 ticks below and above it. Returns the price.
    @discardableResult
    private mutating func quoteReplayed(_ index: Int, replay: MarketReplay, now: Double) -> Double? {
        let instrument = instruments[index]
        guard let price = replay.shownPrice(instrument.symbol, at: now, rounded: instrument.round) else { return nil }
        mids[index] = price
        let tick = instrument.tickSize
        if replay.spreadTicks == 0 {
            quotes[index].bid = price
            quotes[index].ask = price
        } else {
            let half = Double(replay.spreadTicks) * tick / 2
            quotes[index].bid = instrument.round(max(((price - half) / tick).rounded(.down) * tick, tick))
            quotes[index].ask = instrument.round(max(quotes[index].bid + Double(replay.spreadTicks) * tick, ((price + half) / tick).rounded(.up) * tick))
        }
        return price
    }

    /// Black-Scholes with a 4 % rate and the instrument's volatility; at least a day to expiry.
    static func optionPrice(_ option: Instrument, underlying: Double, expiry: Double, now: Double) -> Double {
        guard let strike = option.strike, underlying > 0 else { return option.tickSize }
        let years = max((expiry - now) / (365 * 86_400), 1.0 / 365)
        let rate = 0.04, vol = max(option.volatility, 0.01)
        let d1 = (log(underlying / strike) + (rate + vol * vol / 2) * years) / (vol * years.squareRoot())
        let d2 = d1 - vol * years.squareRoot()
        func normal(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }
        let discount = exp(-rate * years)
        let call = underlying * normal(d1) - strike * discount * normal(d2)
        return option.right == "P" ? call - underlying + strike * discount : call
    }

    /// Moves one instrument's quote to `price` (for tests and the control port's `price` command).
    public mutating func setPrice(symbol: String, price: Double) {
        guard let index = bySymbol[symbol] else { return }
        let instrument = instruments[index]
        mids[index] = price
        quotes[index].bid = instrument.round(price - instrument.tickSize / 2 - 1e-9)
        quotes[index].ask = instrument.round(quotes[index].bid + instrument.tickSize)
        quotes[index].last = instrument.round(price)
    }
}
