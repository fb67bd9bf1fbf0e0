import Money
import TWSProtocol

/// A tradable instrument of the simulated market.
public struct Instrument: Sendable, Hashable, Codable {
    public var symbol: String
    public var conId: Int
    public var secType: String
    public var exchange: String
    public var primaryExchange: String
    public var currency: String
    public var longName: String
    /// COMMON, ETF...
    public var stockType: String
    public var industry: String
    public var category: String
    public var startPrice: Double
    /// Annualized volatility of the simulated price (0.3 = 30 %).
    public var volatility: Double
    public var tickSize: Double
    /// Shares per quoted size unit (displayed sizes are multiples of this).
    public var lot: Int
    /// What IB calls it in `contract.symbol` ("ES" for ESZ6, "EUR" for EUR.USD); `symbol`
    /// is then the instrument's own name (IB's localSymbol), unique in the universe.
    public var ibSymbol: String
    /// Contract size: 50 for ES, 100 for an equity option, 1 otherwise.
    public var multiplier: Double
    /// Futures and options: the last trading day, YYYYMMDD.
    public var expiry: String
    /// Options: strike, right ("C" or "P") and the underlying's `symbol`.
    public var strike: Double?
    public var right: String
    public var underlying: String

    enum CodingKeys: String, CodingKey {
        case symbol, secType = "sec_type", conId = "con_id", exchange, primaryExchange = "primary_exchange", currency
        case longName = "long_name", stockType = "stock_type", industry, category
        case startPrice = "start_price", volatility, tickSize = "tick_size", lot
        case ibSymbol = "ib_symbol", multiplier, expiry, strike, right, underlying
    }

    public init(symbol: String, conId: Int, primaryExchange: String, longName: String, stockType: String = "COMMON",
                industry: String = "", category: String = "", startPrice: Double, volatility: Double,
                tickSize: Double = 0.01, lot: Int = 100, secType: String = "STK", exchange: String = "SMART", currency: String = "USD",
                ibSymbol: String? = nil, multiplier: Double = 1, expiry: String = "", strike: Double? = nil, right: String = "",
                underlying: String = "")
    {
        self.ibSymbol = ibSymbol ?? symbol
        self.multiplier = multiplier
        self.expiry = expiry
        self.strike = strike
        self.right = right
        self.underlying = underlying
        self.symbol = symbol
        self.conId = conId
        self.secType = secType
        self.exchange = exchange
        self.primaryExchange = primaryExchange
        self.currency = currency
        self.longName = longName
        self.stockType = stockType
        self.industry = industry
        self.category = category
        self.startPrice = startPrice
        self.volatility = volatility
        self.tickSize = tickSize
        self.lot = lot
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(String.self, forKey: .symbol)
        conId = try c.decode(Int.self, forKey: .conId)
        secType = try c.decodeIfPresent(String.self, forKey: .secType) ?? "STK"
        exchange = try c.decodeIfPresent(String.self, forKey: .exchange) ?? "SMART"
        primaryExchange = try c.decode(String.self, forKey: .primaryExchange)
        currency = try c.decodeIfPresent(String.self, forKey: .currency) ?? "USD"
        longName = try c.decodeIfPresent(String.self, forKey: .longName) ?? symbol
        stockType = try c.decodeIfPresent(String.self, forKey: .stockType) ?? "COMMON"
        industry = try c.decodeIfPresent(String.self, forKey: .industry) ?? ""
        category = try c.decodeIfPresent(String.self, forKey: .category) ?? ""
        startPrice = try c.decode(Double.self, forKey: .startPrice)
        volatility = try c.decodeIfPresent(Double.self, forKey: .volatility) ?? 0.3
        tickSize = try c.decodeIfPresent(Double.self, forKey: .tickSize) ?? 0.01
        lot = try c.decodeIfPresent(Int.self, forKey: .lot) ?? 100
        ibSymbol = try c.decodeIfPresent(String.self, forKey: .ibSymbol) ?? symbol
        multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? 1
        expiry = try c.decodeIfPresent(String.self, forKey: .expiry) ?? ""
        strike = try c.decodeIfPresent(Double.self, forKey: .strike)
        right = try c.decodeIfPresent(String.self, forKey: .right) ?? ""
        underlying = try c.decodeIfPresent(String.self, forKey: .underlying) ?? ""
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol, forKey: .symbol)
        try c.encode(conId, forKey: .conId)
        try c.encode(secType, forKey: .secType)
        try c.encode(exchange, forKey: .exchange)
        try c.encode(primaryExchange, forKey: .primaryExchange)
        try c.encode(currency, forKey: .currency)
        try c.encode(longName, forKey: .longName)
        try c.encode(stockType, forKey: .stockType)
        try c.encode(industry, forKey: .industry)
        try c.encode(category, forKey: .category)
        try c.encode(startPrice, forKey: .startPrice)
        try c.encode(volatility, forKey: .volatility)
        try c.encode(tickSize, forKey: .tickSize)
        try c.encode(lot, forKey: .lot)
        try c.encode(ibSymbol, forKey: .ibSymbol)
        try c.encode(multiplier, forKey: .multiplier)
        try c.encode(expiry, forKey: .expiry)
        try c.encodeIfPresent(strike, forKey: .strike)
        try c.encode(right, forKey: .right)
        try c.encode(underlying, forKey: .underlying)
    }

    /// Orders on it are possible (an index is quoted only).
    public var tradable: Bool { secType != "IND" }

    /// The contract as TWS reports it in openOrder, execDetails, position...
    public var contract: Contract {
        var contract = Contract(symbol: ibSymbol, secType: secType, exchange: exchange, primaryExchange: primaryExchange,
                                currency: currency, conId: conId)
        contract.localSymbol = symbol
        contract.tradingClass = secType == "STK" ? (primaryExchange == "NASDAQ" ? "NMS" : symbol) : ibSymbol
        contract.lastTradeDateOrContractMonth = expiry
        contract.strike = strike
        contract.right = right
        if multiplier != 1 { contract.multiplier = multiplier.rounded() == multiplier ? String(Int(multiplier)) : String(multiplier) }
        return contract
    }

    /// Rounds a price to this instrument's tick.
    public func round(_ price: Double) -> Double {
        (price / tickSize).rounded() * tickSize
    }

    /// True when `price` is a whole number of ticks (IB rejects others with 110).
    public func conforms(_ price: Double) -> Bool {
        abs(price / tickSize - (price / tickSize).rounded()) < 1e-6
    }

    /// The universe our users name, routed SMART like IB, with IB's real conIds.
    public static let defaultUniverse: [Instrument] = [
        Instrument(symbol: "AAPL", conId: 265598, primaryExchange: "NASDAQ", longName: "APPLE INC", industry: "Technology",
                   category: "Computers", startPrice: 187.25, volatility: 0.28),
        Instrument(symbol: "MSFT", conId: 272093, primaryExchange: "NASDAQ", longName: "MICROSOFT CORP", industry: "Technology",
                   category: "Software", startPrice: 415.50, volatility: 0.26),
        Instrument(symbol: "GOOGL", conId: 208813719, primaryExchange: "NASDAQ", longName: "ALPHABET INC-CL A",
                   industry: "Communications", category: "Internet", startPrice: 172.40, volatility: 0.30),
        Instrument(symbol: "AMZN", conId: 3691937, primaryExchange: "NASDAQ", longName: "AMAZON.COM INC",
                   industry: "Communications", category: "Internet", startPrice: 185.10, volatility: 0.32),
        Instrument(symbol: "NVDA", conId: 4815747, primaryExchange: "NASDAQ", longName: "NVIDIA CORP", industry: "Technology",
                   category: "Semiconductors", startPrice: 128.75, volatility: 0.50),
        Instrument(symbol: "TSLA", conId: 76792991, primaryExchange: "NASDAQ", longName: "TESLA INC",
                   industry: "Consumer, Cyclical", category: "Auto Manufacturers", startPrice: 248.30, volatility: 0.60),
        Instrument(symbol: "META", conId: 107113386, primaryExchange: "NASDAQ", longName: "META PLATFORMS INC-CLASS A",
                   industry: "Communications", category: "Internet", startPrice: 505.60, volatility: 0.35),
        Instrument(symbol: "SPY", conId: 756733, primaryExchange: "ARCA", longName: "SPDR S&P 500 ETF TRUST", stockType: "ETF",
                   startPrice: 545.20, volatility: 0.15),
        Instrument(symbol: "QQQ", conId: 320227571, primaryExchange: "NASDAQ", longName: "INVESCO QQQ TRUST SERIES 1",
                   stockType: "ETF", startPrice: 470.80, volatility: 0.20),
        Instrument(symbol: "IWM", conId: 9579970, primaryExchange: "ARCA", longName: "ISHARES RUSSELL 2000 ETF", stockType: "ETF",
                   startPrice: 205.40, volatility: 0.22),
        // An equity index future, two quarterly expiries; contracts of 50 × the index.
        Instrument(symbol: "ESZ6", conId: 637533641, primaryExchange: "CME", longName: "E-mini S&P 500", stockType: "", startPrice: 5450,
                   volatility: 0.16, tickSize: 0.25, lot: 1, secType: "FUT", exchange: "CME", ibSymbol: "ES", multiplier: 50,
                   expiry: "20261218"),
        Instrument(symbol: "ESH7", conId: 649180695, primaryExchange: "CME", longName: "E-mini S&P 500", stockType: "", startPrice: 5478,
                   volatility: 0.16, tickSize: 0.25, lot: 1, secType: "FUT", exchange: "CME", ibSymbol: "ES", multiplier: 50,
                   expiry: "20270319"),
        // A forex pair on IDEALPRO: sizes in units of EUR, prices in USD to half a pip.
        Instrument(symbol: "EUR.USD", conId: 12087792, primaryExchange: "IDEALPRO", longName: "European Monetary Union Euro", stockType: "",
                   startPrice: 1.0850, volatility: 0.07, tickSize: 0.00005, lot: 100_000, secType: "CASH", exchange: "IDEALPRO",
                   ibSymbol: "EUR"),
        // An index: quoted, not tradable.
        Instrument(symbol: "SPX", conId: 416904, primaryExchange: "CBOE", longName: "S&P 500 Stock Index", stockType: "", startPrice: 5452,
                   volatility: 0.15, tickSize: 0.01, lot: 1, secType: "IND", exchange: "CBOE"),
    ] + optionChain(on: "AAPL", price: 187.25, firstConId: 700_000_001)

    /// Calls and puts on `underlying`: three monthly expiries, five strikes around `price`.
    static func optionChain(on underlying: String, price: Double, firstConId: Int) -> [Instrument] {
        let expiries = ["20261218", "20270115", "20270219"]
        let step = 10.0
        let center = (price / step).rounded() * step
        var chain: [Instrument] = []
        for expiry in expiries {
            for offset in -2...2 {
                let strike = center + Double(offset) * step
                for right in ["C", "P"] {
                    let name = underlying.padding(toLength: 6, withPad: " ", startingAt: 0) + expiry.dropFirst(2)
                        + right + String(format: "%08d", Int((strike * 1000).rounded()))
                    chain.append(Instrument(symbol: name, conId: firstConId + chain.count, primaryExchange: "CBOE",
                                            longName: "\(underlying) \(expiry) \(right) \(Int(strike))", stockType: "", startPrice: 1,
                                            volatility: 0.30, tickSize: 0.01, lot: 10, secType: "OPT", exchange: "SMART",
                                            ibSymbol: underlying, multiplier: 100, expiry: expiry, strike: strike, right: right,
                                            underlying: underlying))
                }
            }
        }
        return chain
    }
}

extension Instrument {
    /// What one unit moves in money (the ledger's and the commission schedule's view).
    public var terms: InstrumentTerms {
        InstrumentTerms(secType: secType, currency: currency, multiplier: multiplier, pairBase: secType == "CASH" ? ibSymbol : nil)
    }
}
