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

    enum CodingKeys: String, CodingKey {
        case symbol, secType = "sec_type", conId = "con_id", exchange, primaryExchange = "primary_exchange", currency
        case longName = "long_name", stockType = "stock_type", industry, category
        case startPrice = "start_price", volatility, tickSize = "tick_size", lot
    }

    public init(symbol: String, conId: Int, primaryExchange: String, longName: String, stockType: String = "COMMON",
                industry: String = "", category: String = "", startPrice: Double, volatility: Double,
                tickSize: Double = 0.01, lot: Int = 100, secType: String = "STK", exchange: String = "SMART", currency: String = "USD")
    {
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
    }

    /// The contract as TWS reports it in openOrder, execDetails, position...
    public var contract: Contract {
        var contract = Contract(symbol: symbol, secType: secType, exchange: exchange, primaryExchange: primaryExchange,
                                currency: currency, conId: conId)
        contract.localSymbol = symbol
        contract.tradingClass = primaryExchange == "NASDAQ" ? "NMS" : symbol
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
    ]
}
